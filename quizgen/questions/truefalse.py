"""A statement, its truth value, and why."""

from __future__ import annotations

from typing import Literal

from quizgen.questions.base import Option, QuestionAttrs, QuestionBody, QuestionSection, build_question
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
