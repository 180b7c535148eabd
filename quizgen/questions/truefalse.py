"""A statement, its truth value, and why."""

from __future__ import annotations

from typing import Literal

from quizgen.questions.base import (
    Option, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, build_question, option_answers, option_texts,
)
from quizgen.questions.choice import parse_option_list

NAME = "truefalse"


class TrueFalseAttrs(QuestionAttrs):
    type: Literal["truefalse"]


class TrueFalseQuestion(TrueFalseAttrs, QuestionBody):
    options: tuple[Option, Option]

    @property
    def answer(self) -> bool:
        return next(option for option in self.options if option.correct).text == "True"


def parse(section: QuestionSection) -> TrueFalseQuestion | None:
    stem_blocks, options = parse_option_list(section, "a true/false question has no options")
    texts = sorted(option["text"] for option in options)
    if options and (texts != ["False", "True"] or sum(option["correct"] for option in options) != 1):
        section.error(
            section.heading_line,
            "a true/false question needs exactly two options, '- [ ] True' and '- [ ] False', "
            "with the right one marked '[x]'",
        )
    return build_question(section, TrueFalseAttrs, TrueFalseQuestion, stem_blocks, {"options": options})


# True stays above False: forms keep its options in order.
TYPE = QuestionType(NAME, TrueFalseAttrs, TrueFalseQuestion, parse, label="True or false", graded="auto",
                    correct_answers=option_answers, texts=option_texts, shuffles_options=False)
