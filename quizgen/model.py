"""The typed course: what every output renders from. Frozen pydantic models; unknown fields are errors."""

from __future__ import annotations

from pathlib import Path

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from quizgen.questions import Question
from quizgen.questions.base import SLUG_PATTERN, MarkdownText, Slug, Strict

LINK_PATTERN = SLUG_PATTERN.removesuffix("$") + r"(?:#[a-z0-9]+(?:-[a-z0-9]+)*)?$"
Link = Annotated[str, StringConstraints(pattern=LINK_PATTERN)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class QuizSettings(Strict):
    """How the LMS runs a concept's quiz: course.yml's `quiz:`, each field overridable in a concept's
    front matter. docs/exports.md says which field each LMS export carries and what it ignores."""

    attempts: Annotated[int, Field(ge=1)] | None = Field(None, description="Attempts allowed; none: unlimited.")
    time_limit: Annotated[int, Field(ge=1)] | None = Field(None, description="Minutes per attempt; none: no limit.")
    shuffle_answers: bool = Field(True, description="Shuffle the options of choice questions (a question's "
                                  "shuffle=false still keeps its order).")
    show_correct_answers: Literal["after_each_attempt", "after_last_attempt", "never"] = Field(
        "after_each_attempt", description="When learners see the correct answers.")
    points: Annotated[float, Field(gt=0)] | None = Field(
        None, description="What the whole quiz is worth; none: the sum of its questions' points.")

    def overridden_by(self, override: "QuizSettings | None") -> "QuizSettings":
        """These settings with every field ``override`` sets explicitly taken from it."""
        if override is None:
            return self
        return self.model_copy(update={name: getattr(override, name) for name in override.model_fields_set})


class Objective(Strict):
    """A learning objective: what a learner can do after the concept, with the id questions tag it by."""

    id: Slug = Field(description="The objective's slug, which questions name in objective=<id>.")
    text: NonEmpty = Field(description="What the learner can do, one Markdown line (a measurable verb first).")
    line: int = Field(0, description="Its line in the concept's file (the loader fills it in).")


# What an author writes for one objective (the JSON Schema shows this, not Objective's own fields).
ObjectiveEntry = NonEmpty | Annotated[dict[Slug, NonEmpty], Field(min_length=1, max_length=1)]


def objective_data(value, position: int):
    """One entry of ``objectives:`` as written, as Objective's fields: ``- explain-init: Explain …`` (a mapping
    of one id to its text), or a plain string, whose id is its position in the list (``1``, ``2`` …)."""
    if isinstance(value, str):
        return {"id": str(position), "text": value}
    if isinstance(value, dict) and len(value) == 1 and "text" not in value:
        ((key, text),) = value.items()
        return {"id": key, "text": text}
    return value  # an Objective already (or {id:, text:}); anything else fails validation with its own message


class FrontMatter(Strict):
    """The YAML at the top of a concept file."""

    id: Slug = Field(description="The concept's stable slug; links and exports use it.")
    title: NonEmpty
    tags: tuple[NonEmpty, ...] = ()
    related: tuple[Link, ...] = Field((), description="Concepts (or concept#question) to study alongside.")
    learn_after: tuple[Link, ...] = Field((), description="What to study next: concept or concept#question ids.")
    lab: Slug | None = Field(None, description="The lab in labs/ that backs this concept's claims.")
    sources: tuple[NonEmpty, ...] = ()
    objectives: tuple[Objective, ...] = Field(
        (), description="Learning objectives: what a learner can do after this concept, each `- id: text` (a plain "
        "string's id is its position, 1, 2 …); questions name them in objective=<id>, and the site shows them.")
    difficulty: Literal["introductory", "intermediate", "advanced"] | None = None
    quiz: QuizSettings | None = Field(None, description="This concept's quiz settings, over the course's.")

    @field_validator("objectives", mode="before", json_schema_input_type=list[ObjectiveEntry])
    @classmethod
    def _objectives(cls, value):
        if not isinstance(value, (list, tuple)):
            return value
        objectives = [objective_data(item, position) for position, item in enumerate(value, 1)]
        ids = [item.get("id") if isinstance(item, dict) else getattr(item, "id", None) for item in objectives]
        duplicates = sorted({str(i) for i in ids if i is not None and ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"objective id {', '.join(map(repr, duplicates))} is given twice")
        return objectives

    def objective(self, objective_id: str) -> Objective | None:
        return next((o for o in self.objectives if o.id == objective_id), None)


class LocalFile(Strict):
    """A file of the course that a concept's Markdown links to (an image), found and checked by the loader."""

    src: str = Field(description="The link as written in the Markdown, relative to the concept's file.")
    name: str = Field(description="Its path inside the content folder (posix): what outputs file it under.")
    line: int
    alt: str = Field("", description="Its alternative text (lint warns when there is none).")


class Concept(FrontMatter):
    explanation: MarkdownText
    questions: tuple[Question, ...] = ()
    path: str = Field(description="The file, as reported in diagnostics.")
    files: tuple[LocalFile, ...] = Field((), description="The local files its Markdown links to.")

    def file_names(self) -> dict[str, str]:
        """{src as written: name in the content folder}, what render_markdown(files=...) maps."""
        return {file.src: file.name for file in self.files}

    def question(self, question_id: str):
        return next((q for q in self.questions if q.id == question_id), None)


class CourseInfo(Strict):
    """content/course.yml (optional)."""

    title: NonEmpty
    description: str = ""
    labs: NonEmpty | None = Field(None, description="The course's own labs folder, relative to course.yml; "
                                  "without it, concepts name the course labs that come with quizgen.")
    quiz: QuizSettings = Field(QuizSettings(), description="How the LMS runs each concept's quiz.")


class Course(Strict):
    title: str
    description: str = ""
    labs: Path | None = Field(None, description="The labs folder concepts name (course.yml's `labs`, resolved); "
                              "None: the labs that come with quizgen.")
    folder: Path | None = Field(None, description="The content folder, resolved: where a LocalFile's name is.")
    quiz: QuizSettings = QuizSettings()
    concepts: tuple[Concept, ...]
    form: int | None = Field(None, description="Which shuffled form this is (quizgen.forms); None for the course.")

    def quiz_settings(self, concept: Concept) -> QuizSettings:
        """The settings of ``concept``'s quiz: the course's, with the concept's own over them."""
        return self.quiz.overridden_by(concept.quiz)

    def local_file(self, name: str) -> Path:
        """Where the file a LocalFile names is on disk."""
        return self.folder / name

    def concept(self, concept_id: str) -> Concept | None:
        return next((c for c in self.concepts if c.id == concept_id), None)

    @property
    def questions(self):
        return [(concept, question) for concept in self.concepts for question in concept.questions]
