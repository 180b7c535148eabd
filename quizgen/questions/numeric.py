"""A number, with an absolute or relative tolerance and a unit; may name the lab metric it comes from."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

from pydantic import Field, StringConstraints, model_validator
from typing_extensions import Annotated

from quizgen.formats.notation import number
from quizgen.questions.base import (
    METRIC_PATTERN, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, body_texts, build_question,
    check_sections, split_options,
)

NAME = "numeric"


class NumericAttrs(QuestionAttrs):
    type: Literal["numeric"]
    answer: float | None = Field(None, allow_inf_nan=False, description="The correct value; leave it out when the "
                                 "lab measures it (a generated question whose metric names a lab grid).")
    tolerance: float | None = Field(None, ge=0, description="Accepted absolute error.")
    relative_tolerance: float | None = Field(
        None, ge=0, description="Accepted error as a fraction of the answer (0.05 = 5%)."
    )
    unit: str | None = Field(None, description="Unit the answer is given in.")
    metric: Annotated[str, StringConstraints(pattern=METRIC_PATTERN)] | None = Field(
        None, description="The lab metric the answer comes from, e.g. moderate.relative_drift."
    )

    @model_validator(mode="after")
    def _one_tolerance(self):
        if self.tolerance is not None and self.relative_tolerance is not None:
            raise ValueError("give either tolerance or relative_tolerance, not both")
        if self.answer is None and self.metric is None:
            raise ValueError("missing required attribute 'answer' (or metric=, when the lab measures the answer)")
        return self


class NumericQuestion(NumericAttrs, QuestionBody):
    @property
    def measured(self) -> bool:
        """Whether the lab gives the answer (quizgen.variants.measured fills it in before any output)."""
        return self.answer is None
    @property
    def margin(self) -> float:
        """The largest accepted distance from the answer."""
        if self.relative_tolerance is not None:
            # In decimal, from the numbers as written: 1.151 x 0.001 is 0.001151, not 0.0011510000000000001.
            return float(Decimal(repr(abs(self.answer))) * Decimal(repr(self.relative_tolerance)))
        return self.tolerance or 0.0

    def accepts(self, value: float) -> bool:
        # A tiny slack so that 0.1 + 0.2 style rounding never rejects an exact boundary answer.
        return math.isfinite(value) and abs(value - self.answer) <= self.margin * (1 + 1e-9) + 1e-12


def parse(section: QuestionSection) -> NumericQuestion | None:
    check_sections(section, ("explanation",))
    stem_blocks, options = split_options(section)
    if options is not None:
        section.error(options.start + 1, "a numeric question has no options: put the value in answer=")
    return build_question(section, NumericAttrs, NumericQuestion, stem_blocks, {})


def correct_answers(question: NumericQuestion) -> list[str]:
    unit = f" {question.unit}" if question.unit else ""
    return [f"{number(question.answer)} ± {number(question.margin)}{unit}"]


TYPE = QuestionType(NAME, NumericAttrs, NumericQuestion, parse, label="Numeric answer", graded="auto",
                    correct_answers=correct_answers, texts=body_texts, shuffles_options=False)
