"""Select all that apply, with partial credit (see docs/authoring.md for the rule)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from quizgen.questions.base import (
    Option, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, build_question, option_answers, option_texts,
)
from quizgen.questions.choice import parse_option_list

NAME = "multi"


class MultiAttrs(QuestionAttrs):
    type: Literal["multi"]
    shuffle: bool = Field(True, description="Whether forms may shuffle the options.")
    scoring: Literal["partial", "all-or-nothing"] = Field(
        "partial",
        description="partial: points x max(0, (right chosen - wrong chosen) / right options); "
        "all-or-nothing: only the exact set of right options scores.",
    )


class MultiQuestion(MultiAttrs, QuestionBody):
    options: tuple[Option, ...] = Field(min_length=2)

    def score(self, chosen: set[int]) -> float:
        """Points earned for choosing the options at these indices."""
        right = {index for index, option in enumerate(self.options) if option.correct}
        if self.scoring == "all-or-nothing":
            return self.points if chosen == right else 0.0
        earned = len(chosen & right) - len(chosen - right)
        return self.points * max(0.0, earned / len(right))


def parse(section: QuestionSection) -> MultiQuestion | None:
    stem_blocks, options = parse_option_list(section, "a multi question has no options")
    if options and not any(option["correct"] for option in options):
        section.error(section.heading_line, "a multi question needs at least one correct option marked '[x]'")
    return build_question(section, MultiAttrs, MultiQuestion, stem_blocks, {"options": options})


TYPE = QuestionType(NAME, MultiAttrs, MultiQuestion, parse, label="Select all that apply", graded="auto",
                    correct_answers=option_answers, texts=option_texts, shuffles_options=True)
