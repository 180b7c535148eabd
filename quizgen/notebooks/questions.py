"""A concept's quiz questions as notebook cells: the question in Markdown, then an answer cell.

Only the stem and the options go into the notebook: no option feedback, no explanation, no marked
answer (those would give the answer away). Options are lettered in their written order: A … Z, then
AA, AB, … (quizgen.formats.notation). ANSWER_CELLS says, per question type, what its cells show and
what a full-credit answer is; a type it lacks is an UnsupportedQuestionType, never another type's cell.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

from quizgen.formats.notation import number, option_letters
from quizgen.markdown import replace_images
from quizgen.notebooks.plan import ANSWER, EXPLANATION, Cell
from quizgen.questions import AUTO_GRADED, UnsupportedQuestionType, for_type  # noqa: F401 (otter, scoring)


def letters(question) -> tuple[str, ...]:
    """The names of the question's options, in written order (see quizgen.formats.notation)."""
    return option_letters(len(question.options))


def one_letter_each(names) -> bool:
    """Whether every option name is one letter (26 options or fewer): then "AC" can only mean A and C."""
    return all(len(name) == 1 for name in names)


def joined(names, separator: str = ", ") -> str:
    """Option names as one string: run together while each is one letter ("AC"), else separated
    ("C, AA"), so that the string reads back as the same list (checks.chosen_letters)."""
    return "".join(names) if one_letter_each(names) else separator.join(names)


def _right_letters(question) -> list[str]:
    return [letter for letter, option in zip(letters(question), question.options) if option.correct]


def _options_list(question) -> list[str]:
    return ["", *(f"- **{letter}.** {option.text}" for letter, option in zip(letters(question), question.options))]


def _unit_line(question) -> list[str]:
    return ["", f"Unit: {question.unit}."] if question.unit else []


def _nothing(question) -> list[str]:
    return []


def _multi_hint(question) -> str:
    if one_letter_each(letters(question)):
        return 'every letter that applies, e.g. "AC"'
    return 'every letter that applies, separated by commas, e.g. "A, AB"'


@dataclass(frozen=True)
class AnswerCell:
    """How a type's question appears in a notebook."""

    shown: Callable[[Any], list[str]]  # Markdown lines after the stem: the options, the unit, the task
    hint: Callable[[Any], str]  # the comment after `ANSWERS[id] = …`: what to write
    reference: Callable[[Any], Any]  # a full-credit answer (solution and Otter master notebooks only)
    # What check_answers verifies of an auto-graded type's answer (checks.ANSWER_CHECKS has each kind):
    # "kind" or "kind:names", the option names as joined() writes them (so "choice:ABCD" up to 26
    # options, "choice:A,B,…,AB" past Z). None for a type a person grades.
    answer_format: Callable[[Any], str] | None


ANSWER_CELLS = {
    "choice": AnswerCell(
        _options_list, lambda q: 'one letter, e.g. "A"', lambda q: _right_letters(q)[0],
        lambda q: f"choice:{joined(letters(q), ',')}"),
    "multi": AnswerCell(
        _options_list, _multi_hint, lambda q: joined(_right_letters(q)),
        lambda q: f"multi:{joined(letters(q), ',')}"),
    "truefalse": AnswerCell(_nothing, lambda q: "True or False", lambda q: q.answer, lambda q: "truefalse"),
    "numeric": AnswerCell(
        _unit_line, lambda q: "a number" + (f", in {q.unit}" if q.unit else ""), lambda q: q.answer,
        lambda q: "numeric"),
    "short": AnswerCell(_nothing, lambda q: "a few words, in quotes", lambda q: q.accepted[0], lambda q: "short"),
    "critique": AnswerCell(
        lambda q: ["", "**Task.** " + q.task.strip()],
        lambda q: "your critique, in a text string; your instructor grades it", lambda q: q.exemplar, None),
}


def answer_cell(question) -> AnswerCell:
    return for_type(ANSWER_CELLS, question, "the lab notebooks")


def answer_format(question) -> str:
    """What the public check verifies: the kind of answer and, for options, the names allowed."""
    form = answer_cell(question).answer_format
    if form is None:
        raise UnsupportedQuestionType(f"question type '{question.type}' is graded by a person: the notebook's "
                                      "check_answers has no answer format for it")
    return form(question)


def reference_answer(question):
    """The answer a full-credit learner writes (used only in solution and Otter master notebooks)."""
    return answer_cell(question).reference(question)


def question_markdown(position: int, question) -> str:
    points = f"{number(question.points, digits=6)} point{'s' if question.points != 1 else ''}"
    lines = [f"### Question {position}: {question.title}", "", f"*{points}*", "", question.stem.strip()]
    return "\n".join(lines + answer_cell(question).shown(question))


def with_attachments(text: str, files: Mapping[str, Path]) -> tuple[str, tuple]:
    """``text`` with each image of ``files`` it shows pointing at an attachment, and the attachments."""
    if "![" not in text or not files:
        return text, ()
    names, attachments = {}, []
    for src, path in files.items():
        if src in text or unquote(src) in text:
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name)
            name = name if name not in {n for n, _, _ in attachments} else f"{len(attachments)}-{name}"
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            attachments.append((name, mime, base64.b64encode(path.read_bytes()).decode("ascii")))
            names[src] = f"attachment:{name}"
    return replace_images(text, names), tuple(attachments)


def answer_source(question, value) -> str:
    return f"ANSWERS[{question.id!r}] = {value!r}  # {answer_cell(question).hint(question)}"


def question_cells(questions, files: Mapping[str, Path] | None = None) -> list[Cell]:
    """``files``: {src as written: the file} of the images the questions show (Concept.files), carried
    as attachments of the cell that shows them, so a notebook is one file."""
    cells = []
    for position, question in enumerate(questions, start=1):
        text, attachments = with_attachments(question_markdown(position, question), files or {})
        cells.append(Cell("markdown", EXPLANATION, text, key=question.id, attachments=attachments))
        cells.append(Cell("code", ANSWER, answer_source(question, None),
                          answer_source(question, reference_answer(question)), key=question.id))
    return cells
