"""Select all that apply, with partial credit (see docs/authoring.md for the rule).

The partial-credit rule is Moodle's multichoice with option fractions (each right option +1/R of the
points, each wrong option -1/W, the sum floored at 0): ticking every option, or none, earns nothing.
``option_fractions`` is its one definition; MultiQuestion.score, the grader, the notebooks' Otter tests,
the site (site.js reads the fractions the page carries), QTI 2.1, Moodle XML and GIFT all read it.
"""

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
        description="partial: points x max(0, right chosen / right options - wrong chosen / wrong options); "
        "all-or-nothing: only the exact set of right options scores.",
    )


def option_fractions(correct: list[bool] | tuple[bool, ...]) -> tuple[float, ...]:
    """Each option's share of the points when it is chosen, under partial scoring: +1/R for each of the R
    right options, -1/W for each of the W wrong ones. The points earned are the chosen shares' sum, floored
    at 0 (it never exceeds 1): all the right options and no wrong one earn everything, every option or
    none earn nothing."""
    right = sum(1 for flag in correct if flag)
    wrong = len(correct) - right
    return tuple(1 / right if flag else (-1 / wrong) for flag in correct)


def partial_score(correct, chosen: set[int]) -> float:
    """The share of the points (0 to 1) that choosing the options at ``chosen`` earns under partial
    scoring: right chosen / R - wrong chosen / W, floored at 0, counted in whole options so that all the
    right ones give exactly 1 and every option exactly 0."""
    right = sum(1 for flag in correct if flag)
    wrong = len(correct) - right
    right_chosen = sum(1 for index in chosen if correct[index])
    wrong_chosen = len(chosen) - right_chosen
    earned = right_chosen / right - (wrong_chosen / wrong if wrong else 0.0)
    return max(0.0, earned)


class MultiQuestion(MultiAttrs, QuestionBody):
    options: tuple[Option, ...] = Field(min_length=2)

    def option_fractions(self) -> tuple[float, ...]:
        """See option_fractions: each option's share of the points when chosen (partial scoring)."""
        return option_fractions([option.correct for option in self.options])

    def score(self, chosen: set[int]) -> float:
        """Points earned for choosing the options at these indices."""
        correct = [option.correct for option in self.options]
        if self.scoring == "all-or-nothing":
            right = {index for index, flag in enumerate(correct) if flag}
            return float(self.points) if set(chosen) == right else 0.0
        return self.points * partial_score(correct, set(chosen))


def parse(section: QuestionSection) -> MultiQuestion | None:
    stem_blocks, options = parse_option_list(section, "a multi question has no options")
    if options and not any(option["correct"] for option in options):
        section.error(section.heading_line, "a multi question needs at least one correct option marked '[x]'")
    elif options and all(option["correct"] for option in options):
        section.error(section.heading_line, "a multi question needs at least one wrong option marked '[ ]': "
                      "with every option right, ticking everything is the answer and the question tests nothing")
    return build_question(section, MultiAttrs, MultiQuestion, stem_blocks, {"options": options})


TYPE = QuestionType(NAME, MultiAttrs, MultiQuestion, parse, label="Select all that apply", graded="auto",
                    correct_answers=option_answers, texts=option_texts, shuffles_options=True)
