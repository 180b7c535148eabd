"""Moodle XML: one file for the course, a category per concept, following Moodle's own format
(docs.moodle.org "Moodle XML format", Moodle's question/format/xml/format.php, and the exports in
../shared/schemas/moodle-fixtures/).

Text is written the way Moodle's own export writes it (qformat_xml::xml_escape): inside CDATA when
it holds a character XML escapes. Moodle reads the file with lib/xmlize.php, which drops white space
between two entity references or between one and a non-ASCII character, so escaped HTML
(``&lt;strong&gt;bold&lt;/strong&gt; &lt;em&gt;``) would arrive as "bolditalic"; CDATA has no entities.

Images are embedded as Moodle embeds them (write_files / import_text_with_files): a
``<file name path="/" encoding="base64">`` next to the ``<text>`` of each field that shows the image,
its src ``@@PLUGINFILE@@/<name>`` (URL-quoted). Math stays as \\( … \\) for Moodle's MathJax filter.

A generated question (quizgen.variants) gets a category of its own under its concept's, holding its variants
as questions (each named by its title and values, its idnumber ``concept#question/v<index>``), and the file
switches back to the concept's category for the next question: a quiz takes "a random question" from that
category (docs/exports.md says how), so each attempt draws one variant.

Multi-answer scoring is Moodle's multichoice with option fractions, the course's own rule
(quizgen.questions.multi.option_fractions): each right option +100/R %, each wrong one -100/W %, the sum
floored at 0 by Moodle (qtype_multichoice_multi_question::grade_response). Moodle's import refuses a
fraction outside its fixed list (question_bank::fraction_options_full: ±100, 90, 83.33333, 80, 75, 70,
66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667, 14.28571, 12.5, 11.11111, 10, 5 %; match_grade_options
with "error if grade not listed"), which holds 1/n for n up to 10; past 10 right or wrong options the
shares are uneven listed values that still add up to 100 % (listed_shares) and the export warns. Listed
values have 7 decimals: three options of 33.33333 % add up to 99.99999 %, which Moodle grades as right
(question_state::graded_state_for_fraction: above 0.999999), and the 0.0000001 left by ticking every
option is graded wrong (below 0.000001) and shows as 0. Moodle's standard multichoice cannot say "all or nothing"; such questions get -100 % per
wrong option, which is the closest it has (noted in docs/exports.md).
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

import jinja2
from jinja2 import pass_context
from markupsafe import Markup, escape

from quizgen.formats.common import environment, file_urls, html, inline_html, unequal_points
from quizgen.questions import for_type

NAME = "moodle"
PLUGINFILE = "@@PLUGINFILE@@/"
TAG_MAX_LENGTH = 50  # Moodle's TAG_MAX_LENGTH: clean_param(PARAM_TAG) cuts a tag to this many characters


class MoodleItem(NamedTuple):
    qtype: str  # Moodle's question type (quiz.xml writes each of them)
    single: bool = False  # a multichoice question with one right answer (radio buttons)


# Each question type as the Moodle question it becomes.
MOODLE_TYPES = {
    "choice": MoodleItem("multichoice", single=True), "multi": MoodleItem("multichoice"),
    "truefalse": MoodleItem("truefalse"), "numeric": MoodleItem("numerical"), "short": MoodleItem("shortanswer"),
    "critique": MoodleItem("essay"),
}


def moodle_item(question) -> MoodleItem:
    return for_type(MOODLE_TYPES, question, "the Moodle export")


def percent(value: float) -> str:
    """A grade percentage the way Moodle writes it: 100, 50, 33.33333, -25."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# Moodle's grade options (question_bank::ensure_fraction_options_initialised), as fractions of the grade.
MOODLE_FRACTIONS = (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
                    0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05)


def listed_shares(count: int) -> list[float]:
    """``count`` of Moodle's grade options that add up to 1 as Moodle checks it (a multiple-answer question's
    positive fractions must round to 100 %, qtype_multichoice::save_question_options): 1/count where Moodle
    lists it (count up to 10, and 20), else tenths and twentieths (count up to 20), else twentieths, which
    add up to more than 1 (the export warns)."""
    share = 1 / count
    listed = next((value for value in MOODLE_FRACTIONS if abs(value - share) < 1e-5), None)
    if listed is not None:
        return [listed] * count
    if count <= 20:
        tenths = 20 - count  # tenths x 0.1 + (count - tenths) x 0.05 = 1
        return [0.1] * tenths + [0.05] * (count - tenths)
    return [0.05] * count


def multichoice_fractions(question) -> list[float]:
    """Each option's fraction of the grade in a Moodle multichoice (single: 1 for the right one): the
    course's rule, +1/R per right option and -1/W per wrong one, in Moodle's listed values (listed_shares:
    exact up to 10 right and 10 wrong options; past that uneven shares that still add up to 1, so that all
    the right options earn everything and every option nothing). All-or-nothing: -1 per wrong option."""
    if moodle_item(question).single:
        return [1.0 if option.correct else 0.0 for option in question.options]
    right = iter(listed_shares(sum(option.correct for option in question.options)))
    wrong_count = sum(not option.correct for option in question.options)
    if question.scoring == "all-or-nothing" or not wrong_count:
        wrong = iter([1.0] * wrong_count)
    else:
        wrong = iter(listed_shares(wrong_count))
    return [next(right) if option.correct else -next(wrong) for option in question.options]


def inexact_fractions(question) -> bool:
    """Whether Moodle's listed fractions cannot hold the course's rule for this multi question (more than
    10 right or wrong options): its partial credit in Moodle differs (1e-5 is Moodle's own match)."""
    if moodle_item(question).single or question.scoring == "all-or-nothing":
        return False
    return any(abs(listed - exact) > 1e-5 for listed, exact in zip(multichoice_fractions(question),
                                                                     question.option_fractions()))


def fraction(question, option) -> str:
    """An option's share of a multichoice question's grade, in percent (GIFT writes the same)."""
    index = next(i for i, candidate in enumerate(question.options) if candidate is option)
    return percent(100 * multichoice_fractions(question)[index])


def fraction_warnings(course) -> list:
    """A warning at each multi question whose Moodle fractions are rounded (more than 10 right or wrong
    options): its partial credit in Moodle differs from the course's."""
    from quizgen.errors import Diagnostic
    from quizgen.formats.common import variants

    return [Diagnostic(concept.path, question.line, "Moodle's listed grade fractions cannot hold 1/R and -1/W "
                       f"for {len(question.options)} options: in Moodle (XML and GIFT) its options get uneven shares "
                       "of the partial credit (all the right options still earn full marks, every option none; past 20 "
                       "right or wrong options not even that)", "warning")
            for concept, question in course.questions
            if question.type == "multi" and any(inexact_fractions(v) for v in variants(question))]


def shortanswer_answers(question) -> list[str]:
    """A short question's answers as Moodle's shortanswer needs them: it matches an answer literally but for
    case and the response's ends (qtype_shortanswer_question::compare_string_with_wildcard), so the forms
    the course's rule accepts (short.literal_forms), each "*" escaped (a bare one is Moodle's wildcard)."""
    return [form.replace("*", "\\*") for form in question.literal_forms()]


def category_path(course_title: str, concept, question=None) -> str:
    """The Moodle category of a concept's questions, ``$course$/top/<course title>/<concept title>``; with
    ``question`` (a generated one), the category of its own under it that holds its variants (named by
    the question's id, unique in its concept, where two titles may be the same)."""
    # Moodle splits category paths on "/"; a literal slash in a name is written "//".
    names = [course_title, concept.title] + ([question.id] if question is not None else [])
    return "$course$/top/" + "/".join(name.replace("/", "//") for name in names)


def pool_info(question) -> str:
    """The description of a generated question's category, shown in Moodle's question bank."""
    return (f"The {len(question.variants)} variants of the generated question “{question.title}”: add a random "
            "question from this category to a quiz, so that each attempt draws one of them.")


# --- text -----------------------------------------------------------------------------------------

_XML_SPECIAL = re.compile(r"[&<>\"']")  # what PHP's htmlspecialchars changes, the test xml_escape makes


def xml_text(text) -> Markup:
    """``text`` as the content of a Moodle XML element, as qformat_xml::xml_escape writes it: in CDATA
    when it holds a character XML would escape (a ``]]>`` inside split across two sections), else as is."""
    return Markup(_xml_text(str(text)))


def _xml_text(text: str) -> str:
    if not _XML_SPECIAL.search(text):
        return text
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


_TAG_NASTIES = re.compile(r"[\x00-\x1f\x7f<>`]")  # what clean_param(PARAM_TAG) strips


def moodle_tags(tags) -> dict[str, str]:
    """{concept tag: the tag Moodle stores}, the same in the Moodle XML and GIFT exports.

    Moodle cleans a tag with clean_param(PARAM_TAG): control characters and < > ` removed, white space
    runs made one space, cut to TAG_MAX_LENGTH characters; tags equal but for case are one tag. A longer
    tag is shortened here, ending in "…", and one that would then meet another gets " (2)", " (3)" … so
    that two course tags never become one Moodle tag."""
    chosen: dict[str, str] = {}
    taken: set[str] = set()
    for tag in sorted(set(tags), key=lambda t: (t.casefold(), t)):
        clean = " ".join(_TAG_NASTIES.sub("", tag).split())
        if not clean:  # Moodle drops a tag that cleans to nothing
            continue
        name, n = _shortened(clean, ""), 2
        while name.casefold() in taken:
            name, n = _shortened(clean, f" ({n})"), n + 1
        taken.add(name.casefold())
        chosen[tag] = name
    return chosen


def question_tags(concept_tags: list[str], question) -> list[str]:
    """A question's Moodle tags: its concept's, then its level and difficulty as ``level-apply`` and
    ``difficulty-hard`` (what the question bank's tag filter can then pick), unless a concept tag has
    that name already."""
    taken = {tag.casefold() for tag in concept_tags}
    own = [f"{name}-{value}" for name, value in (("level", question.level), ("difficulty", question.difficulty))
           if value and f"{name}-{value}".casefold() not in taken]
    return [*concept_tags, *own]


def concept_tags(course) -> dict[str, list[str]]:
    """{concept id: its tags as Moodle stores them (moodle_tags)}."""
    names = moodle_tags(tag for concept in course.concepts for tag in concept.tags)
    return {concept.id: list(dict.fromkeys(names[tag] for tag in concept.tags if tag in names))
            for concept in course.concepts}


def _shortened(tag: str, suffix: str) -> str:
    room = TAG_MAX_LENGTH - len(suffix)
    return (tag if len(tag) <= room else tag[: room - 1].rstrip() + "…") + suffix


# --- embedded files -------------------------------------------------------------------------------

_FILE_NAME_NASTIES = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/]")  # what clean_param(PARAM_FILE) strips


class EmbeddedFiles:
    """The course's local files as Moodle XML embeds them: each under a flat name (Moodle's file areas
    hold ``<file name path="/">``), unique in the course and free of what Moodle strips from a file name
    (else the stored file would not be the one the ``@@PLUGINFILE@@`` URL names)."""

    def __init__(self, course):
        self.course = course
        self.flat: dict[str, str] = {}
        taken: set[str] = set()
        for name in sorted({file.name for concept in course.concepts for file in concept.files}):
            flat = _FILE_NAME_NASTIES.sub("_", name)
            stem, dot, extension = flat.rpartition(".")
            stem, extension = (stem, dot + extension) if stem else (flat, "")
            n = 2
            while flat.casefold() in taken:
                flat, n = f"{stem}-{n}{extension}", n + 1
            taken.add(flat.casefold())
            self.flat[name] = flat
        self._elements: dict[str, str] = {}

    def url(self, name: str) -> str:
        return PLUGINFILE + quote(self.flat[name])

    def element(self, name: str) -> str:
        """The ``<file>`` that carries ``name``, its content read once per export."""
        if name not in self._elements:
            content = base64.b64encode(self.course.local_file(name).read_bytes()).decode("ascii")
            self._elements[name] = f'<file name="{escape(self.flat[name])}" path="/" encoding="base64">{content}</file>'
        return self._elements[name]


class ConceptTexts:
    """A concept's Markdown as Moodle XML text fields: ``<text>`` and the ``<file>`` of each image it shows."""

    def __init__(self, concept, files: EmbeddedFiles):
        self.files = files
        self.urls = file_urls(concept, files.url)
        self.names = sorted({file.name for file in concept.files})

    def field(self, text: str, *more: str, inline: bool = False) -> Markup:
        """The Markdown ``text`` (and ``more``: an essay's scenario and task are one question text) as one
        HTML field."""
        render_html = inline_html if inline else html
        rendered = render_html(text, files=self.urls)
        return self.html_field(rendered + "".join(render_html(other, files=self.urls) for other in more)
                               if more else rendered)

    def html_field(self, rendered: str) -> Markup:
        field = f"<text>{_xml_text(rendered)}</text>"
        for name in self.names:  # most concepts show no file: nothing to look for
            if f'src="{self.files.url(name)}"' in rendered:
                field += "\n" + self.files.element(name)
        return Markup(field)


def field(text: str, texts: ConceptTexts, *more: str, inline: bool = False) -> Markup:
    """quiz.xml's ``text | field(t)``: a filter, which Jinja calls directly (faster than a method call)."""
    return texts.field(text, *more, inline=inline)


def rubric(question, texts: ConceptTexts) -> Markup:
    """The grader-only text of a critique (rubric and exemplar), for the essay's graderinfo."""
    return texts.html_field(template_environment().get_template("rubric.html").render(question=question, files=texts.urls))


@lru_cache(maxsize=None)
def template_environment() -> jinja2.Environment:
    """The format's templates with its own filters; the shared rubric.html renders its texts with the
    images of the ``files`` in its context (as the key renders it)."""
    env = environment(NAME).overlay()
    env.filters.update(xml_text=xml_text, field=field,
                       html=pass_context(lambda context, text: html(text, files=context.get("files"))),
                       inline_html=pass_context(lambda context, text: inline_html(text, files=context.get("files"))))
    return env


def write(course, results, out_dir: Path) -> list:
    categories = [(concept, concept.questions) for concept in course.concepts if concept.questions]
    files = EmbeddedFiles(course)
    tags = concept_tags(course)
    xml = template_environment().get_template("quiz.xml").render(
        categories=categories, moodle_item=moodle_item, fraction=fraction, rubric=rubric,
        shortanswer_answers=shortanswer_answers,
        texts=lambda concept: ConceptTexts(concept, files), tags=lambda concept, question: question_tags(tags[concept.id], question),
        category_path=lambda concept, question=None: category_path(course.title, concept, question),
        pool_info=pool_info,
        # The one quiz setting a Moodle question carries; the others belong to the quiz, not the bank.
        shuffles=lambda concept: course.quiz_settings(concept).shuffle_answers)
    (out_dir / "questions.xml").write_text(xml, encoding="utf-8")
    return [warning for concept, question in course.questions if question.variants
            for warning in unequal_points(concept, question, "a Moodle quiz's random question")] + fraction_warnings(course)
