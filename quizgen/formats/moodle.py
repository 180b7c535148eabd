"""Moodle XML: one file for the course, a category per concept, following Moodle's own format
(docs.moodle.org "Moodle XML format" and the exports in ../shared/schemas/moodle-fixtures/).

Math stays as \\( … \\) for Moodle's MathJax filter. Multi-answer scoring is Moodle's native
partial credit: each right option +100/R %, each wrong one -100/R % (Moodle floors the total at 0),
the same rule as the course model. Moodle's standard multichoice cannot say "all or nothing";
such questions get -100 % per wrong option, which is the closest it has (noted in docs/exports.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from quizgen.formats.common import render
from quizgen.questions import for_type

NAME = "moodle"


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


def fraction(question, option) -> str:
    """An option's share of a multichoice question's grade (GIFT writes the same)."""
    if moodle_item(question).single:
        return "100" if option.correct else "0"
    right = sum(o.correct for o in question.options)
    if option.correct:
        return percent(100 / right)
    return "-100" if question.scoring == "all-or-nothing" else percent(-100 / right)


def category_path(course_title: str, concept) -> str:
    # Moodle splits category paths on "/"; a literal slash in a name is written "//".
    names = [name.replace("/", "//") for name in (course_title, concept.title)]
    return "$course$/top/" + "/".join(names)


def rubric(question) -> str:
    return render("moodle", "rubric.html", question=question)


def write(course, results, out_dir: Path) -> None:
    categories = [(concept, concept.questions) for concept in course.concepts if concept.questions]
    xml = render(NAME, "quiz.xml", categories=categories, moodle_item=moodle_item, fraction=fraction,
                 rubric=rubric, category_path=lambda concept: category_path(course.title, concept))
    (out_dir / "questions.xml").write_text(xml, encoding="utf-8")
