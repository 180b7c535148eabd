"""A concept's quiz questions as notebook cells: the question in Markdown, then an answer cell.

Only the stem and the options go into the notebook: no option feedback, no explanation, no marked
answer (those would give the answer away). Options are lettered in their written order.
"""

from __future__ import annotations

from quizgen.formats.notation import number, option_letters
from quizgen.notebooks.plan import ANSWER, EXPLANATION, Cell

AUTO_GRADED = ("choice", "multi", "truefalse", "numeric", "short")
HINTS = {
    "choice": "one letter, e.g. \"A\"",
    "multi": "every letter that applies, e.g. \"AC\"",
    "truefalse": "True or False",
    "numeric": "a number",
    "short": "a few words, in quotes",
    "critique": "your critique, in a text string; your instructor grades it",
}


def letters(question) -> tuple[str, ...]:
    """The names of the question's options, in written order (see quizgen.formats.notation)."""
    return option_letters(len(question.options))


def answer_format(question) -> str:
    """What the public check verifies: the kind of answer and, for options, the letters allowed."""
    if question.type in ("choice", "multi"):
        return f"{question.type}:{''.join(letters(question))}"
    return question.type


def reference_answer(question):
    """The answer a full-credit learner writes (used only in solution and Otter master notebooks)."""
    if question.type == "choice":
        return letters(question)[next(i for i, o in enumerate(question.options) if o.correct)]
    if question.type == "multi":
        return "".join(letter for letter, o in zip(letters(question), question.options) if o.correct)
    if question.type == "truefalse":
        return question.answer
    if question.type == "numeric":
        return question.answer
    if question.type == "short":
        return question.accepted[0]
    return question.exemplar


def question_markdown(position: int, question) -> str:
    points = f"{number(question.points, digits=6)} point{'s' if question.points != 1 else ''}"
    lines = [f"### Question {position}: {question.title}", "", f"*{points}*", "", question.stem.strip()]
    if question.type in ("choice", "multi"):
        lines.append("")
        lines += [f"- **{letter}.** {option.text}" for letter, option in zip(letters(question), question.options)]
    if question.type == "numeric" and question.unit:
        lines += ["", f"Unit: {question.unit}."]
    if question.type == "critique":
        lines += ["", "**Task.** " + question.task.strip()]
    return "\n".join(lines)


def answer_source(question, value) -> str:
    comment = HINTS[question.type]
    if question.type == "numeric" and question.unit:
        comment += f", in {question.unit}"
    return f"ANSWERS[{question.id!r}] = {value!r}  # {comment}"


def question_cells(questions) -> list[Cell]:
    cells = []
    for position, question in enumerate(questions, start=1):
        cells.append(Cell("markdown", EXPLANATION, question_markdown(position, question), key=question.id))
        cells.append(Cell("code", ANSWER, answer_source(question, None),
                          answer_source(question, reference_answer(question)), key=question.id))
    return cells
