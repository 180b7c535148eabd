"""Question types: one module each, exposing NAME, its Attrs and Question models, and parse(section).

Adding a type = one module here + one line in TYPES.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from quizgen.questions import choice, critique, multi, numeric, short, truefalse

TYPES = {module.NAME: module for module in (choice, multi, truefalse, numeric, short, critique)}

Question = Annotated[
    Union[
        choice.ChoiceQuestion,
        multi.MultiQuestion,
        truefalse.TrueFalseQuestion,
        numeric.NumericQuestion,
        short.ShortQuestion,
        critique.CritiqueQuestion,
    ],
    Field(discriminator="type"),
]

QuestionAttributes = Annotated[
    Union[
        choice.ChoiceAttrs,
        multi.MultiAttrs,
        truefalse.TrueFalseAttrs,
        numeric.NumericAttrs,
        short.ShortAttrs,
        critique.CritiqueAttrs,
    ],
    Field(discriminator="type"),
]
