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

NAME = "gift"
_SPECIAL = re.compile(r"([\\~=#{}:])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split("\n")))


def rich(text: str, inline: bool = False) -> str:
    """Course Markdown as escaped one-line GIFT HTML."""
    return escape(inline_html(text) if inline else html(text))


def question_gift(concept, question) -> str:
    head = f"// {full_id(concept, question)}\n::{escape(question.title)}::[html]{rich(question.stem)}"
    if question.type == "critique":
        head += rich(question.task)
    general = f"####{rich(question.explanation)}"
    if question.type in ("choice", "multi"):
        lines = []
        for option in question.options:
            if question.type == "choice":
                mark = "=" if option.correct else "~"
            else:
                mark = f"~%{fraction(question, option)}%"
            feedback = f"#{rich(option.feedback)}" if option.feedback else ""
            lines.append(f"\t{mark}{rich(option.text, inline=True)}{feedback}")
        body = "\n".join(lines)
        return f"{head}{{\n{body}\n\t{general}\n}}"
    if question.type == "truefalse":
        right = next(o for o in question.options if o.correct)
        wrong = next(o for o in question.options if not o.correct)
        verdict = "TRUE" if right.text == "True" else "FALSE"
        return f"{head}{{{verdict}#{rich(wrong.feedback or '')}#{rich(right.feedback or '')}{general}}}"
    if question.type == "numeric":
        return f"{head}{{#{number(question.answer)}:{number(question.margin)}{general}}}"
    if question.type == "short":
        answers = " ".join(f"={escape(answer)}" for answer in question.accepted)
        return f"{head}{{{answers}{general}}}"
    return f"{head}{{{general}}}"  # critique: an essay question


def write(course, results, out_dir: Path) -> None:
    chunks = []
    for concept in course.concepts:
        if not concept.questions:
            continue
        chunks.append(f"$CATEGORY: {category_path(course.title, concept)}")
        chunks.extend(question_gift(concept, question) for question in concept.questions)
    (out_dir / "questions.gift.txt").write_text("\n\n".join(chunks) + "\n", encoding="utf-8")
