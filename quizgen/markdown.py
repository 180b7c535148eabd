"""The project's one Markdown dialect: CommonMark + tables + front matter + ``$…$`` / ``$$…$$`` math.

Two uses:
- loading: only the block structure and each block's line span (``Token.map``) are needed, so the
  loader's parser runs with inline parsing switched off;
- rendering: ``render_markdown(text, math=...)`` turns the raw Markdown kept in the Course into HTML
  for an output format. Raw HTML in content is escaped, never passed through: course text is data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html import escape
from typing import Literal, Mapping
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

MathStyle = Literal["tex", "mathml"]


def _dialect(math_renderers: tuple | None = None) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.use(front_matter_plugin)
    options = {"allow_space": True, "double_inline": True}
    if math_renderers:
        options |= {"renderer": math_renderers[0]}
    md.use(dollarmath_plugin, **options)
    return md


@lru_cache(maxsize=1)
def structure_parser() -> MarkdownIt:
    """Block-level parser for loading: inline rules are not run (about 3x faster), nor block rules
    that cannot matter to a file's structure: raw HTML blocks (off anyway: html is False), link
    reference definitions, and setext headings (structural headings are written with #, so an
    underlined line stays a paragraph here; it still renders as a heading). About 15% faster."""
    md = _dialect()
    md.disable(["inline", "html_block", "reference", "lheading"])
    return md


# --- rendering ------------------------------------------------------------------------------------


def _math_tex(content: str, options: dict) -> str:
    """TeX between \\( … \\) or \\[ … \\]: what KaTeX's auto-render and the MathJax filters of Moodle
    and Canvas look for, and still readable as TeX where no script runs. The plugin wraps it in
    <span class="math inline"> or <div class="math block">."""
    if options.get("display_mode"):
        return f"\\[{escape(content.strip())}\\]"
    return f"\\({escape(content.strip())}\\)"


def _math_mathml(content: str, options: dict) -> str:
    return _mathml(content.strip(), "block" if options.get("display_mode") else "inline")


@lru_cache(maxsize=8192)
def _mathml(tex: str, display: str) -> str:
    """MathML for a TeX formula; cached because courses repeat the same few symbols ($\\theta$) a lot."""
    from latex2mathml.converter import convert

    return convert(tex, display=display)


_MATH = {"tex": _math_tex, "mathml": _math_mathml}


@lru_cache(maxsize=None)
def _renderer(math: MathStyle) -> MarkdownIt:
    return _dialect((_MATH[math],))


# Text with none of these is a single plain paragraph: most options and feedback are. Rendering it
# directly gives the same HTML as markdown-it (tests/test_markdown.py checks that with hypothesis)
# at a fraction of the cost, which matters for 10,000-question courses.
_NEEDS_PARSER = re.compile(
    r"""[\\`*_\[\]<>!&#|$~^\x00\r\f\v]  # inline syntax, entities, math, raw HTML, odd controls
    | ^\s                             # indentation (code blocks), blank lines
    | \s$                             # trailing white space: hard breaks, trimming
    | ^(?:[-+=]|\d+[.)])              # list items, setext underlines, ordered lists
    | \n[ \t]*\n                      # more than one paragraph
    """,
    re.VERBOSE | re.MULTILINE,
)


def local_images(tokens):
    """The image tokens among ``tokens`` (parsed with the rendering dialect) whose src is a local
    file: no scheme, host, absolute path or fragment of its own."""
    for token in tokens:
        for child in token.children or ():
            src = child.attrGet("src") if child.type == "image" else None
            if src and not urlsplit(src).scheme and not src.startswith(("/", "#", "?")):
                yield child


def images_of(text: str):
    """(image token, line span of its block) for every local image in a whole file's Markdown."""
    if "![" not in text:
        return
    for token in _renderer("tex").parse(text):
        for image in local_images([token]):
            yield image, token.map


_IMAGE_DESTINATION = re.compile(r"(!\[(?:[^\]\\\n]|\\.)*\]\(\s*)(<[^>\n]*>|[^\s)]+)")


def replace_images(text: str, urls: Mapping[str, str]) -> str:
    """The Markdown ``text`` with each image whose src (as markdown-it reads it) ``urls`` names pointing
    at that URL instead: for outputs that keep Markdown (notebooks), where render_markdown's files= is
    for those that write HTML."""
    normalize = _renderer("tex").normalizeLink

    def swap(match: re.Match) -> str:
        written = match.group(2)
        url = urls.get(normalize(written[1:-1] if written.startswith("<") else written))
        if url is None:
            return match.group(0)
        return match.group(1) + (f"<{url}>" if " " in url else url)

    return _IMAGE_DESTINATION.sub(swap, text)


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_markdown(text: str, math: MathStyle = "tex", inline: bool = False,
                    files: Mapping[str, str] | None = None) -> str:
    """HTML for a piece of course Markdown. ``inline`` drops the wrapping <p> of a one-paragraph text.

    ``files`` maps an image's src, as the Markdown writes it (Concept.file_names), to where the output
    serves that file from; an image it does not name keeps its src.
    """
    if files and "![" in text:
        md = _renderer(math)
        env: dict = {}
        tokens = md.parseInline(text, env) if inline else md.parse(text, env)
        for image in local_images(tokens):
            if image.attrGet("src") in files:
                image.attrSet("src", files[image.attrGet("src")])
        return md.renderer.render(tokens, md.options, env)
    if text.strip() and not _NEEDS_PARSER.search(text):
        if inline:
            return _escape_html(text)
        return f"<p>{_escape_html(text.strip(chr(10)))}</p>\n"
    md = _renderer(math)
    if inline:
        return md.renderInline(text)
    return md.render(text)
