"""The typed course: what every output renders from. Frozen pydantic models; unknown fields are errors."""

from __future__ import annotations

from pathlib import Path

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from quizgen.questions import Question
from quizgen.questions.base import SLUG_PATTERN, MarkdownText, Slug, Strict

LINK_PATTERN = SLUG_PATTERN.removesuffix("$") + r"(?:#[a-z0-9]+(?:-[a-z0-9]+)*)?$"
Link = Annotated[str, StringConstraints(pattern=LINK_PATTERN)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class FrontMatter(Strict):
    """The YAML at the top of a concept file."""

    id: Slug = Field(description="The concept's stable slug; links and exports use it.")
    title: NonEmpty
    tags: tuple[NonEmpty, ...] = ()
    related: tuple[Link, ...] = Field((), description="Concepts (or concept#question) to study alongside.")
    learn_after: tuple[Link, ...] = Field((), description="What to study next: concept or concept#question ids.")
    lab: Slug | None = Field(None, description="The lab in labs/ that backs this concept's claims.")
    sources: tuple[NonEmpty, ...] = ()
    difficulty: Literal["introductory", "intermediate", "advanced"] | None = None


class Concept(FrontMatter):
    explanation: MarkdownText
    questions: tuple[Question, ...] = ()
    path: str = Field(description="The file, as reported in diagnostics.")

    def question(self, question_id: str):
        return next((q for q in self.questions if q.id == question_id), None)


class CourseInfo(Strict):
    """content/course.yml (optional)."""

    title: NonEmpty
    description: str = ""
    labs: NonEmpty | None = Field(None, description="The course's own labs folder, relative to course.yml; "
                                  "without it, concepts name the course labs that come with quizgen.")


class Course(Strict):
    title: str
    description: str = ""
    labs: Path | None = Field(None, description="The labs folder concepts name (course.yml's `labs`, resolved); "
                              "None: the labs that come with quizgen.")
    concepts: tuple[Concept, ...]
    form: int | None = Field(None, description="Which shuffled form this is (quizgen.forms); None for the course.")

    def concept(self, concept_id: str) -> Concept | None:
        return next((c for c in self.concepts if c.id == concept_id), None)

    @property
    def questions(self):
        return [(concept, question) for concept in self.concepts for question in concept.questions]
