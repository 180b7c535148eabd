"""The site's files: which pages exist, what each depends on, and rendering them.

Read top to bottom: ``Site(course, results)`` gathers everything once (learning order, tag slugs, lab
evidence, asset fingerprints); ``site.files()`` yields ``(path, bytes)`` for every page and
``site.static_files()`` the assets and plots to copy. Templates are compiled once per process and each
Markdown text is rendered once.

A page depends only on its inputs: a concept page on its ``ConceptPage`` (the concept plus what its
neighbours show of themselves), the index and tag pages on a summary of the concepts they list. So
``quizgen serve`` re-renders only the pages whose inputs changed since the last rebuild.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup

from quizgen.formats.common import Files, file_urls
from quizgen.formats.notation import number
from quizgen.markdown import render_markdown
from quizgen.model import Concept, Course
from quizgen.questions import UnsupportedQuestionType, question_type
from quizgen.site.evidence import Evidence, course_evidence, lab_views, notebook_pages, unbacked_claims
from quizgen.site.order import learning_order, tag_slugs
from quizgen.site.variants import check_data, variants_of, varying

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates" / "site"
ASSETS_DIR = TEMPLATES_DIR / "assets"
# A question is rendered by question/<type>.html; its form's data-type names its checker in site.js.
QUESTION_TEMPLATES = TEMPLATES_DIR / "question"


# --- rendering helpers: Markdown once per text, numbers as people read them -----------------------


MEDIA = "media"  # the folder of the site that holds the course's own files (images), by their content path


MATH = "html"  # math is MathML Core, typeset by the browser: no script, no layout shift, the same on every load

# A wide table or equation scrolls inside its own box instead of widening a phone's page; the box can be
# focused, so that a keyboard scrolls it too (the page's script drops the tab stop where it fits).
SCROLL_BOX = 'tabindex="0" role="region" aria-label="{0}" data-scroll="{0}"'


@lru_cache(maxsize=1 << 16)
def markdown_block(text: str, files: Files | None = None) -> Markup:
    rendered = render_markdown(text, math=MATH, files=files)
    if "<table>" in rendered:
        rendered = rendered.replace("<table>", f'<div class="table-wrap" {SCROLL_BOX.format("Table")}><table>'
                                    ).replace("</table>", "</table></div>")
    if '<div class="math block">' in rendered:
        rendered = rendered.replace('<div class="math block">', f'<div class="math block" {SCROLL_BOX.format("Equation")}>')
    return Markup(rendered)


@lru_cache(maxsize=1 << 16)
def markdown_inline(text: str, files: Files | None = None) -> Markup:
    return Markup(render_markdown(text, math=MATH, inline=True, files=files))


_HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# Ids the concept page gives its own parts; a heading of the concept text never takes one of them.
PAGE_IDS = frozenset({"main", "objectives-heading", "questions-heading", "sources-heading"})


_MATH_ELEMENT = re.compile(r"<math\b.*?</math>", re.DOTALL)


def plain_text(rendered: str) -> str:
    """What a reader sees of some HTML, on one line (a formula's symbols run together: θ^ for \\hat\\theta)."""
    rendered = _MATH_ELEMENT.sub(lambda m: _TAG.sub("", m.group(0)), rendered)
    return " ".join(html.unescape(_TAG.sub(" ", rendered)).split())


def slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-_") or "section"


@lru_cache(maxsize=1 << 12)
def explanation_block(text: str, files: Files | None = None) -> Markup:
    """A concept's text, each heading with an id (the slug of its words: ``## Why it matters`` is
    ``#why-it-matters``) and a link to itself, so an explanation or another page can point at it."""
    rendered = str(markdown_block(text, files))
    taken = set(PAGE_IDS)

    def anchor(match: re.Match) -> str:
        level, inner = match.groups()
        base = slug(plain_text(inner))
        if base.startswith("q-"):
            base = "s-" + base  # q-… are the questions' ids
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        if "<a " in inner:  # a link cannot hold another link: the heading keeps its own, and gets the id
            return f'<h{level} id="{name}">{inner}</h{level}>'
        return f'<h{level} id="{name}"><a class="anchor" href="#{name}">{inner}</a></h{level}>'

    return Markup(_HEADING.sub(anchor, rendered))


_URL = re.compile(r"(?<![(<\w])(https?://[^\s<>]*[^\s<>.,;:!?)\]'\"])")


def linked_urls(rendered: Markup) -> Markup:
    """Inline HTML with each bare http(s) URL in its text made a link (a source's "https://doi.org/…")."""
    parts = re.split(r"(<a\b.*?</a>|<[^>]+>)", str(rendered), flags=re.DOTALL)
    for index in range(0, len(parts), 2):  # the text between tags
        parts[index] = _URL.sub(lambda m: f'<a href="{m.group(1)}" rel="external">{m.group(1)}</a>', parts[index])
    return Markup("".join(parts))


def description(text: str, limit: int = 160) -> str:
    """A page's meta description: the first words of a Markdown text, plain, at most ``limit`` characters."""
    plain = plain_text(markdown_block(text.strip().split("\n\n")[0])) if text.strip() else ""
    if len(plain) <= limit:
        return plain
    return plain[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|[\\`*_#>|{}$^~\[\]]")
_LAST_INDEX: list = []  # [entries, (script, url)] of the last search index written (Site.render_search_index)


_MATH_SOURCE = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.DOTALL)


@lru_cache(maxsize=1 << 16)
def search_text(markdown: str, limit: int) -> str:
    """Markdown as the words a search looks through and a result quotes (links and images keep their text;
    math is left out: its TeX reads as noise), without rendering it: the index covers every question of a
    10,000-question course."""
    text = _MATH_SOURCE.sub(" ", markdown) if "$" in markdown else markdown
    words = " ".join(_MARKUP.sub(lambda m: f" {m.group(1)} " if m.group(1) is not None else " ", text).split())
    return words[:limit]


# The template filters: a page that shows a concept's files sets `files` (see Site.render_concept).
@pass_context
def md_filter(context, text: str) -> Markup:
    return markdown_block(text, context.get("files"))


@pass_context
def explanation_filter(context, text: str) -> Markup:
    return explanation_block(text, context.get("files"))


@pass_context
def md_inline_filter(context, text: str) -> Markup:
    return markdown_inline(text, context.get("files"))


def media_urls(concept: Concept, root: str) -> Files | None:
    """Where a page ``root`` away from the site's top finds each file the concept shows."""
    return file_urls(concept, lambda name: f"{root}{MEDIA}/{quote(name)}")


_FIGURE_IMAGE = re.compile(r'<figure\b([^>]*)>(\s*(?:<a\b[^>]*>\s*)?<img\b[^>]*?\bsrc="([^"]*)")')


def mark_repeated_figures(page: str) -> str:
    """A page whose figures show the same image more than once (questions backed by the same plot) marks
    each figure after the first ``data-print="repeat"``: printed once (site.css), shown at every question."""
    seen: set[str] = set()

    def mark(match: re.Match) -> str:
        attributes, rest, src = match.groups()
        if src not in seen:
            seen.add(src)
            return match.group(0)
        return f'<figure{attributes} data-print="repeat">{rest}'

    return _FIGURE_IMAGE.sub(mark, page)


def concept_points(concept: Concept) -> float:
    """The points of a concept's questions (a generated question's first variant's: what the page shows
    before the script draws one)."""
    return float(sum(variants_of(q)[0].points for q in concept.questions))


def correct_indices(options) -> str:
    return " ".join(str(index) for index, option in enumerate(options) if option.correct)


def has_math(rendered: str) -> bool:
    return 'class="math ' in rendered


def question_template(question) -> str:
    """The template that renders the question's type: question/<type>.html."""
    name = f"{question_type(question).name}.html"
    if not (QUESTION_TEMPLATES / name).is_file():
        raise UnsupportedQuestionType(f"the site cannot show question type '{question.type}': "
                                      f"it has no template quizgen/templates/site/question/{name}")
    return f"question/{name}"


def type_label(question) -> str:
    return question_type(question).label


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    # num: a number as a learner reads it (float noise rounded away); exact: as the page's script reads it back.
    env.filters.update(md=md_filter, md_inline=md_inline_filter, explanation=explanation_filter,
                       num=partial(number, digits=6), exact=number, correct_indices=correct_indices,
                       linked_urls=linked_urls)
    env.globals.update(type_label=type_label, question_template=question_template, concept_points=concept_points,
                       varying=varying, check_data=check_data)
    return env


# --- what the pages show --------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    href: str
    label: Markup
    note: str = ""  # e.g. the concept a question belongs to


@dataclass(frozen=True)
class SiteInfo:
    """What every page shows of the course as a whole."""

    title: str
    key: str  # names the learner's progress in localStorage; stable across rebuilds
    css: str  # asset URLs with a content hash, so a host's cache never serves a stale one
    js: str
    math_font: str


@dataclass(frozen=True)
class ConceptPage:
    """Everything a concept page renders from: equal ConceptPages give identical pages."""

    site: SiteInfo
    concept: Concept
    position: int
    total: int
    previous: Link | None
    next: Link | None
    related: tuple[Link, ...]
    next_steps: tuple[Link, ...]
    tags: tuple[tuple[str, str], ...]  # tag, slug
    evidence: tuple[Evidence | None, ...]  # one per question

    @property
    def path(self) -> str:
        return f"concepts/{self.concept.id}.html"


# The math font's URL is the one site.css names: its file name carries its version (the npm package's), so a
# new font is a new URL; a preload under any other URL would fetch it twice.
MATH_FONT = "assets/vendor/noto-sans-math/noto-sans-math-5.3.0.woff2"
SEARCH_INDEX = "search-index.js"


def asset_url(name: str) -> str:
    digest = hashlib.sha256((ASSETS_DIR / name).read_bytes()).hexdigest()[:10]
    return f"assets/{name}?v={digest}"


class Site:
    def __init__(self, course: Course, results: dict):
        self.course = course
        self.order = learning_order(course)
        self.by_id = {concept.id: concept for concept in course.concepts}
        self.tags = tag_slugs(tag for concept in course.concepts for tag in concept.tags)
        self.views = lab_views(course, results)
        self.evidence = course_evidence(course, self.views, in_site=True)  # the site carries the notebooks
        self.missing = unbacked_claims(course, self.evidence)
        self.info = SiteInfo(
            title=course.title,
            key=hashlib.sha256(course.title.encode()).hexdigest()[:12],
            css=asset_url("site.css"),
            js=asset_url("site.js"),
            math_font=MATH_FONT,
        )

    # --- the pages, in the order they are written ---

    def concept_pages(self) -> list[ConceptPage]:
        pages = []
        for index, concept in enumerate(self.order):
            before = self.order[index - 1] if index else None
            after = self.order[index + 1] if index + 1 < len(self.order) else None
            pages.append(ConceptPage(
                site=self.info,
                concept=concept,
                position=index + 1,
                total=len(self.order),
                previous=self.concept_link(before) if before else None,
                next=self.concept_link(after) if after else None,
                related=tuple(self.link(concept, target) for target in concept.related),
                # a question of this page is right below: "Learn after this" points elsewhere
                next_steps=tuple(self.link(concept, target) for target in concept.learn_after
                                 if target.partition("#")[0] != concept.id),
                tags=tuple((tag, self.tags[tag]) for tag in concept.tags),
                evidence=self.evidence[concept.id],
            ))
        return pages

    def concept_link(self, concept: Concept) -> Link:
        return Link(f"{concept.id}.html", Markup.escape(concept.title))

    def link(self, source: Concept, target: str) -> Link:
        """A link from a concept page to ``concept`` or ``concept#question``."""
        concept_id, _, question_id = target.partition("#")
        concept = self.by_id[concept_id]
        if not question_id:
            return self.concept_link(concept)
        question = concept.question(question_id)
        href = f"#q-{question_id}" if concept is source else f"{concept_id}.html#q-{question_id}"
        note = "a question on this page" if concept is source else f"a question in “{concept.title}”"
        return Link(href, markdown_inline(question.title), note)

    def render_concept(self, page: ConceptPage) -> bytes:
        template = environment().get_template("concept.html")
        body = template.render(page=page, concept=page.concept, site=page.site, root="../",
                               math=self.concept_has_math(page.concept), files=media_urls(page.concept, "../"),
                               description=description(page.concept.explanation),
                               points=concept_points(page.concept))
        return (mark_repeated_figures(body) if "<figure" in body else body).encode()

    @staticmethod
    def concept_has_math(concept: Concept) -> bool:
        if has_math(markdown_block(concept.explanation)):
            return True
        return any("$" in text for q in concept.questions for variant in variants_of(q)
                   for text in question_type(variant).texts(variant))

    def render_index(self) -> bytes:
        template = environment().get_template("index.html")
        lead = markdown_block(self.course.description) if self.course.description.strip() else ""
        return template.render(
            site=self.info, root="", order=self.order, tags=self.tags, lead=lead,
            missing=self.missing, question_count=sum(len(concept.questions) for concept in self.order),
            math=has_math(lead), points=sum(concept_points(concept) for concept in self.order),
            description=description(self.course.description) or self.course.title,
        ).encode()

    def render_tag_index(self) -> bytes:
        counts = {tag: 0 for tag in self.tags}
        for concept in self.course.concepts:
            for tag in concept.tags:
                counts[tag] += 1
        template = environment().get_template("tags.html")
        return template.render(site=self.info, root="../", tags=self.tags, counts=counts, math=False,
                               description=f"Every tag of {self.course.title}.").encode()

    def render_tag(self, tag: str) -> bytes:
        concepts = [concept for concept in self.order if tag in concept.tags]
        template = environment().get_template("tag.html")
        return template.render(site=self.info, root="../", tag=tag, concepts=concepts, math=False,
                               description=f"The concepts of {self.course.title} tagged {tag}.").encode()

    def render_tool_page(self, name: str, index_url: str) -> bytes:
        """search.html or review.html: a page the script fills from the search index and the progress."""
        template = environment().get_template(name)
        what = {"search.html": "Search", "review.html": "Review the questions you answered wrongly in"}[name]
        return template.render(site=self.info, root="", math=False, index_url=index_url,
                               description=f"{what} {self.course.title}.").encode()

    def search_entries(self) -> tuple:
        """What the search index holds: each concept (id, title, tags, the start of its text) with its questions
        (id, title, stem, points), as plain words; a generated question as its first variant reads."""
        entries = []
        for concept in self.order:
            questions = tuple((q.id, search_text(first.title, 300), search_text(first.stem, 2000), first.points)
                              for q in concept.questions for first in (variants_of(q)[0],))
            entries.append((concept.id, search_text(concept.title, 300), concept.tags,
                            search_text(concept.explanation, 1000), questions))
        return tuple(entries)

    @staticmethod
    def render_search_index(entries: tuple) -> tuple[bytes, str]:
        """search-index.js (the index as a script, since a page opened from file:// cannot fetch a JSON file)
        and the URL pages load it by, with a hash of its content. A serve rebuild seldom changes the index:
        the last one is kept and compared (a few ms for 10,000 questions, against 0.1 s to write it)."""
        if _LAST_INDEX and _LAST_INDEX[0] == entries:
            return _LAST_INDEX[1]
        data = {
            "concepts": [[cid, title, list(tags), text] for cid, title, tags, text, _ in entries],
            "questions": [[index, qid, title, stem, float(points)]
                          for index, (*_, questions) in enumerate(entries)
                          for qid, title, stem, points in questions],
        }
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        script = f"window.quizgenSearch = {text};\n".encode()
        _LAST_INDEX[:] = [entries, (script, f"{SEARCH_INDEX}?v={hashlib.sha256(script).hexdigest()[:10]}")]
        return _LAST_INDEX[1]

    def listing_pages(self) -> Iterator[tuple[str, tuple, Callable[[], bytes]]]:
        """The index and the tag pages, each as (path, what it shows of the course, how to render it)."""
        summaries = tuple((c.id, c.title, c.tags, c.difficulty, len(c.questions), concept_points(c)) for c in self.order)
        shared = (self.info, tuple(self.tags.items()))
        entries = self.search_entries()
        index, index_url = self.render_search_index(entries)
        yield SEARCH_INDEX, entries, lambda: index
        yield "search.html", (self.info, index_url), partial(self.render_tool_page, "search.html", index_url)
        yield "review.html", (self.info, index_url, summaries), partial(self.render_tool_page, "review.html", index_url)
        yield "index.html", (shared, summaries, self.course.description, tuple(self.missing)), self.render_index
        yield "tags/index.html", (shared, summaries), self.render_tag_index
        for tag, slug in self.tags.items():
            listed = tuple(summary for summary in summaries if tag in summary[2])
            yield f"tags/{slug}.html", (shared, tag, listed), partial(self.render_tag, tag)
        # Each lab's student notebook, so that its links work when the site folder is hosted alone.
        yield from notebook_pages(self.course)

    def listing_files(self) -> Iterator[tuple[str, bytes]]:
        for path, _, render in self.listing_pages():
            yield path, render()

    def files(self, cache: dict | None = None) -> Iterator[tuple[str, bytes]]:
        """Every page as (path inside the site, bytes). ``cache`` (path -> (inputs, bytes)) lets a
        long-running server skip the pages whose inputs did not change; it is updated."""
        cache = {} if cache is None else cache
        pages = [(path, key, render) for path, key, render in self.listing_pages()]
        pages += [(page.path, page, partial(self.render_concept, page)) for page in self.concept_pages()]
        for path, key, render in pages:
            cached = cache.get(path)
            if cached is not None and cached[0] == key:
                yield path, cached[1]
                continue
            html = render()
            cache[path] = (key, html)
            yield path, html

    def static_files(self) -> Iterator[tuple[str, Path]]:
        """(path inside the site, source file): the shared assets and the lab plots."""
        for source in sorted(ASSETS_DIR.rglob("*")):
            if source.is_file():
                yield "assets/" + source.relative_to(ASSETS_DIR).as_posix(), source
        for view in self.views.values():
            yield from sorted(view.plot_files.items())
        shown = {file.name for concept in self.course.concepts for file in concept.files}
        for name in sorted(shown):
            yield f"{MEDIA}/{name}", self.course.local_file(name)

