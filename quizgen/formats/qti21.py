"""IMS QTI 2.1: one content package (zip) per quiz: an assessmentItem per question, an
assessmentTest with a section per concept, and imsmanifest.xml. Math becomes MathML.

Scoring follows the course model: multi uses a mapping (+points/right, -points/right per wrong
choice, floored at 0) or match for all-or-nothing; numeric uses <equal> with the tolerance; short
answers map case-insensitively. A critique is an extendedTextInteraction whose rubric and exemplar
sit in a rubricBlock only scorers see. QTI_KINDS says which of these each question type is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from quizgen.formats.common import (
    environment, full_id, html, inline_html, stable_id, write_quiz_zips,
)
from quizgen.questions import for_type

NAME = "qti21"
# Each question type as the QTI interaction it becomes (item.xml writes each of these kinds).
QTI_KINDS = {
    "choice": "single-choice",  # choiceInteraction, one choice
    "truefalse": "single-choice",
    "multi": "multiple-choice",  # choiceInteraction, any number of choices
    "numeric": "float-entry",  # textEntryInteraction, a float
    "short": "string-entry",  # textEntryInteraction, a string
    "critique": "extended-text",  # extendedTextInteraction with a scorer-only rubric
}
CHOICE_KINDS = ("single-choice", "multiple-choice")
# markdown-it writes table alignment as style="text-align:…"; QTI's XHTML subset has no style attribute.
_STYLE = re.compile(r' style="[^"]*"')


@lru_cache(maxsize=65536)
def xhtml(text: str) -> Markup:
    return Markup(_STYLE.sub("", html(text, "mathml")))


@lru_cache(maxsize=65536)
def xhtml_inline(text: str) -> Markup:
    return Markup(_STYLE.sub("", inline_html(text, "mathml")))


def item_path(concept, question) -> str:
    return f"items/{concept.id}/{question.id}.xml"


def item_xml(concept, question) -> str:
    env = _environment()
    kind = for_type(QTI_KINDS, question, "the QTI 2.1 export")
    context = {"concept": concept, "question": question, "ident": stable_id("item", full_id(concept, question)),
               "kind": kind}
    if kind in CHOICE_KINDS:
        context["choice_ids"] = [f"choice{index + 1}" for index in range(len(question.options))]
        right = sum(option.correct for option in question.options)
        context["share"] = question.points / right if right else 0
    if kind == "extended-text":
        context["rubric"] = Markup(env.get_template("rubric.xml").render(question=question))
    return env.get_template("item.xml").render(**context)


@lru_cache(maxsize=1)
def _environment():
    env = environment(NAME).overlay()
    env.filters.update(xhtml=xhtml, xhtml_inline=xhtml_inline)
    return env


def package(quiz, items: dict[str, str]) -> dict[str, str]:
    """The package's files; ``items`` holds each question's rendered item, shared by every quiz it is in."""
    env = _environment()
    files = {item_path(c, q): items[full_id(c, q)] for c, q in quiz.items}
    paths = {full_id(c, q): item_path(c, q) for c, q in quiz.items}
    sections: list[tuple] = []
    for concept, question in quiz.items:
        if not sections or sections[-1][0] is not concept:
            sections.append((concept, []))
        sections[-1][1].append(question)
    test_path = f"tests/{quiz.id}.xml"
    files[test_path] = env.get_template("test.xml").render(quiz=quiz, sections=sections, paths=paths)
    files["imsmanifest.xml"] = env.get_template("imsmanifest.xml").render(quiz=quiz, paths=paths, test_path=test_path)
    return files


def write(course, results, out_dir: Path) -> None:
    write_quiz_zips(course, item_xml, package, out_dir)
