"""Single best answer. Scenario and diagnosis questions are choice questions with a case in the stem."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from quizgen.questions.base import (
    Option, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, build_question, check_option_texts,
    check_sections, option_answers, option_texts, parse_options, split_options,
)

NAME = "choice"


class ChoiceAttrs(QuestionAttrs):
    type: Literal["choice"]
    shuffle: bool = Field(True, description="Whether forms may shuffle the options.")


class ChoiceQuestion(ChoiceAttrs, QuestionBody):
    options: tuple[Option, ...] = Field(min_length=2)

    @property
    def correct_option(self) -> Option:
        return next(option for option in self.options if option.correct)


def parse_option_list(section: QuestionSection, what: str) -> tuple[list, list[dict]]:
    """Stem blocks and options of a question that needs a task list; shared by choice-like types."""
    check_sections(section, ("explanation",))
    stem_blocks, block = split_options(section)
    if block is None:
        section.error(section.heading_line, f"{what}: add the options as a task list ('- [x] right', '- [ ] wrong')")
        return stem_blocks, []
    options = parse_options(section, block)
    check_option_texts(section, options)
    return stem_blocks, options


def parse(section: QuestionSection) -> ChoiceQuestion | None:
    stem_blocks, options = parse_option_list(section, "a choice question has no options")
    correct = sum(option["correct"] for option in options)
    if options and correct != 1:
        section.error(
            section.heading_line,
            f"a choice question needs exactly one correct option marked '[x]', found {correct}"
            + (" (use type=multi for select-all questions)" if correct > 1 else ""),
        )
    if options and len(options) < 2:
        section.error(section.heading_line, "a choice question needs at least two options")
    return build_question(section, ChoiceAttrs, ChoiceQuestion, stem_blocks, {"options": options})


TYPE = QuestionType(NAME, ChoiceAttrs, ChoiceQuestion, parse, label="Single answer", graded="auto",
                    correct_answers=option_answers, texts=option_texts, shuffles_options=True)
