"""Question types: one module each (quizgen/questions/<type>.py: its attribute-line and question models,
its parser, and ``TYPE``, its QuestionType record), listed once in MODULES below.

Everything else is built from TYPES: the Question and QuestionAttributes unions the course model and
`quizgen schema` use, the loader's ``type=`` check, and what every output looks up. An output that
keeps a table of its own per type (a writer, an LMS item kind) reads it with ``for_type``, so a type it
lacks is an UnsupportedQuestionType naming the output, never another type's behaviour.

Adding a type: its module, its name in MODULES, then an entry in each output's table;
tests/test_question_types.py walks every registered type through every output and names what is
missing (docs/question-types.md lists the files).
"""

from __future__ import annotations

from typing import Annotated, Iterator, Mapping, TypeVar, Union

from pydantic import Field

from quizgen.errors import QuizgenError
from quizgen.questions import choice, critique, multi, numeric, short, truefalse
from quizgen.questions.base import QuestionType

MODULES = (choice, multi, truefalse, numeric, short, critique)
TYPES: dict[str, QuestionType] = {module.TYPE.name: module.TYPE for module in MODULES}

Question = Annotated[Union[tuple(kind.model for kind in TYPES.values())], Field(discriminator="type")]
QuestionAttributes = Annotated[Union[tuple(kind.attrs for kind in TYPES.values())], Field(discriminator="type")]

T = TypeVar("T")


class UnsupportedQuestionType(QuizgenError):
    """An output met a question type it has no entry for (a type registered before every output learnt
    it), or a name that is not a registered type."""


def type_name(question) -> str:
    return question if isinstance(question, str) else question.type


def question_type(question) -> QuestionType:
    """The record of a question's type (or of a type's name)."""
    name = type_name(question)
    try:
        return TYPES[name]
    except KeyError:
        raise UnsupportedQuestionType(f"'{name}' is not a question type (quizgen.questions.TYPES has "
                                      f"{', '.join(TYPES)})") from None


def for_type(table: Mapping[str, T], question, output: str) -> T:
    """``table[question.type]``: what ``output`` does with this type of question.

    A type missing from the table is an UnsupportedQuestionType that names the output and the type.
    """
    name = type_name(question)
    try:
        return table[name]
    except KeyError:
        raise UnsupportedQuestionType(f"{output} has no entry for question type '{name}' "
                                      "(docs/question-types.md lists what a new type needs)") from None


def auto_graded(question) -> bool:
    """Whether the question is scored from its key (see QuestionType.graded)."""
    return question_type(question).graded == "auto"


class AutoGraded:
    """The names of the auto-graded types, read from TYPES at each look-up: ``kind in AUTO_GRADED``
    (an unregistered name is an UnsupportedQuestionType, not "graded by hand")."""

    def __contains__(self, name: str) -> bool:
        return auto_graded(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name, kind in TYPES.items() if kind.graded == "auto")


AUTO_GRADED = AutoGraded()
