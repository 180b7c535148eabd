"""Open-ended critique: a scenario, a task, a rubric table and an exemplar answer."""

from __future__ import annotations

import math
from typing import Any, Iterator, Literal

from pydantic import Field, model_validator

from quizgen.formats.notation import number
from quizgen.questions.base import (
    MarkdownText, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, Strict, body_texts, build_question,
    check_sections, split_options,
)

NAME = "critique"
RUBRIC_COLUMNS = ("criterion", "points", "full credit", "partial credit", "no credit")
NO_PARTIAL = {"", "—", "–", "-", "n/a", "none"}


class Criterion(Strict):
    name: MarkdownText
    points: float = Field(gt=0)
    full: MarkdownText
    partial: str | None = None
    none: MarkdownText
    line: int


class CritiqueAttrs(QuestionAttrs):
    type: Literal["critique"]


class CritiqueQuestion(CritiqueAttrs, QuestionBody):
    task: MarkdownText
    rubric: tuple[Criterion, ...] = Field(min_length=1)
    exemplar: MarkdownText

    @model_validator(mode="after")
    def _rubric_adds_up(self):
        total = sum(criterion.points for criterion in self.rubric)
        if not math.isclose(total, self.points, rel_tol=1e-9):
            total, points = number(total, digits=6), number(self.points, digits=6)
            raise ValueError(
                f"the rubric's points add up to {total} but the question is worth {points} "
                f"(set points={total} on the attribute line, or change the rubric)"
            )
        return self


def parse_rubric(section: QuestionSection) -> list[dict[str, Any]]:
    sub = section.subsections.get("rubric")
    if sub is None:
        section.error(section.heading_line, "missing '#### Rubric' section")
        return []
    tables = [block for block in sub.blocks if block.type == "table"]
    if len(tables) != 1:
        section.error(sub.line, "'#### Rubric' must hold one table: | Criterion | Points | Full credit | "
                                "Partial credit | No credit |")
        return []
    rows, row_lines, row = [], [], None
    for token in tables[0].tokens:
        if token.type == "tr_open":
            row = []
            row_lines.append(token.map[0] + 1)
        elif token.type == "inline" and row is not None:
            row.append(token.content.strip())
        elif token.type == "tr_close":
            rows.append(row)
    header = tuple(cell.casefold() for cell in rows[0])
    if header != RUBRIC_COLUMNS:
        section.error(row_lines[0], "the rubric's columns must be: Criterion | Points | Full credit | "
                                    f"Partial credit | No credit (found: {' | '.join(rows[0])})")
        return []
    criteria = []
    for cells, line in zip(rows[1:], row_lines[1:]):
        name, points, full, partial, none = cells
        criteria.append({
            "name": name, "points": points, "full": full, "none": none, "line": line,
            "partial": None if partial.casefold() in NO_PARTIAL else partial,
        })
    return criteria


def parse(section: QuestionSection) -> CritiqueQuestion | None:
    check_sections(section, ("task", "rubric", "exemplar", "explanation"))
    stem_blocks, options = split_options(section)
    if options is not None:
        section.error(options.start + 1, "a critique question has no options: describe the task under '#### Task'")
    fields = {
        "task": section.section_text("task"),
        "rubric": parse_rubric(section),
        "exemplar": section.section_text("exemplar"),
    }
    rubric = section.subsections.get("rubric")
    return build_question(section, CritiqueAttrs, CritiqueQuestion, stem_blocks, fields,
                          model_error_line=rubric.line if rubric else None)


def texts(question: CritiqueQuestion) -> Iterator[str]:
    yield from body_texts(question)
    yield question.task
    yield question.exemplar
    for criterion in question.rubric:
        yield criterion.name
        yield criterion.full
        yield criterion.partial or ""
        yield criterion.none


# No correct answer to write down: a person applies the rubric (the exemplar shows full credit).
TYPE = QuestionType(NAME, CritiqueAttrs, CritiqueQuestion, parse, label="Critique, self-assessed", graded="rubric",
                    correct_answers=lambda question: [], texts=texts, shuffles_options=False)
