"""Short answer: a response matches an accepted answer ignoring case and runs of white space."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from quizgen.questions.base import (
    MarkdownText, QuestionAttrs, QuestionBody, QuestionSection, QuestionType, body_texts, build_question,
    check_sections, split_options,
)

NAME = "short"


def normalize_answer(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


class ShortAttrs(QuestionAttrs):
    type: Literal["short"]


class ShortQuestion(ShortAttrs, QuestionBody):
    accepted: tuple[MarkdownText, ...] = Field(min_length=1)

    def accepts(self, response: str) -> bool:
        return normalize_answer(response) in {normalize_answer(answer) for answer in self.accepted}


def parse(section: QuestionSection) -> ShortQuestion | None:
    check_sections(section, ("accepted answers", "explanation"))
    stem_blocks, options = split_options(section)
    if options is not None:
        section.error(options.start + 1, "a short question has no options: list answers under '#### Accepted answers'")
    accepted = []
    sub = section.subsections.get("accepted answers")
    if sub is None:
        section.error(section.heading_line, "missing '#### Accepted answers' section")
    else:
        lists = [block for block in sub.blocks if block.type == "bullet_list"]
        if len(lists) != 1 or len(sub.blocks) != 1:
            section.error(sub.line, "'#### Accepted answers' must hold one bullet list, an answer per item")
        else:
            accepted = [t.content.strip() for t in lists[0].tokens if t.type == "inline"]
            seen = set()
            for token in (t for t in lists[0].tokens if t.type == "inline"):
                key = normalize_answer(token.content)
                if key in seen:
                    section.error(token.map[0] + 1, f"accepted answer {token.content.strip()!r} is listed twice")
                seen.add(key)
    return build_question(section, ShortAttrs, ShortQuestion, stem_blocks, {"accepted": accepted})


TYPE = QuestionType(NAME, ShortAttrs, ShortQuestion, parse, label="Short answer", graded="auto",
                    correct_answers=lambda question: list(question.accepted), texts=body_texts, shuffles_options=False)
