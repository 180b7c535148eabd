"""GIFT (Moodle's plain-text import format): one file for the course, $CATEGORY per concept.

Every GIFT control character in course text (~ = # { } : and backslash) is escaped; text is HTML
([html]) with math as \\( … \\); line breaks become spaces because a blank line ends a question in
GIFT. True/false feedback follows Moodle's order: {TRUE#feedback if wrong#feedback if right}.
GIFT has no field for grader-only text, so a critique's rubric is in docs/exports.md's key instead.
"""

from __future__ import annotations

import re
from pathlib import Path

from quizgen.formats.common import full_id, html, inline_html
from quizgen.formats.moodle import category_path, fraction
from quizgen.formats.notation import number
from quizgen.questions import for_type

NAME = "gift"
_SPECIAL = re.compile(r"([\\~=#{}:])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split("\n")))


def rich(text: str, inline: bool = False) -> str:
    """Course Markdown as escaped one-line GIFT HTML."""
    return escape(inline_html(text) if inline else html(text))


def _options(question, mark) -> str:
    lines = []
    for option in question.options:
        feedback = f"#{rich(option.feedback)}" if option.feedback else ""
        lines.append(f"\t{mark(option)}{rich(option.text, inline=True)}{feedback}")
    return "\n".join(lines)


def single_choice(head: str, question, general: str) -> str:
    body = _options(question, lambda option: "=" if option.correct else "~")
    return f"{head}{{\n{body}\n\t{general}\n}}"


def multiple_choice(head: str, question, general: str) -> str:
    body = _options(question, lambda option: f"~%{fraction(question, option)}%")
    return f"{head}{{\n{body}\n\t{general}\n}}"


def true_false(head: str, question, general: str) -> str:
    right = next(o for o in question.options if o.correct)
    wrong = next(o for o in question.options if not o.correct)
    verdict = "TRUE" if right.text == "True" else "FALSE"
    return f"{head}{{{verdict}#{rich(wrong.feedback or '')}#{rich(right.feedback or '')}{general}}}"


def numerical(head: str, question, general: str) -> str:
    return f"{head}{{#{number(question.answer)}:{number(question.margin)}{general}}}"


def short_answer(head: str, question, general: str) -> str:
    answers = " ".join(f"={escape(answer)}" for answer in question.accepted)
    return f"{head}{{{answers}{general}}}"


def essay(head: str, question, general: str) -> str:
    """The scenario and the task, and an empty answer: GIFT's essay question."""
    return f"{head}{rich(question.task)}{{{general}}}"


# Each question type as the GIFT question that writes it: writer(head, question, general feedback).
WRITERS = {
    "choice": single_choice, "multi": multiple_choice, "truefalse": true_false, "numeric": numerical,
    "short": short_answer, "critique": essay,
}


def question_gift(concept, question) -> str:
    writer = for_type(WRITERS, question, "the GIFT export")
    head = f"// {full_id(concept, question)}\n::{escape(question.title)}::[html]{rich(question.stem)}"
    return writer(head, question, f"####{rich(question.explanation)}")


def write(course, results, out_dir: Path) -> None:
    chunks = []
    for concept in course.concepts:
        if not concept.questions:
            continue
        chunks.append(f"$CATEGORY: {category_path(course.title, concept)}")
        chunks.extend(question_gift(concept, question) for question in concept.questions)
    (out_dir / "questions.gift.txt").write_text("\n\n".join(chunks) + "\n", encoding="utf-8")
