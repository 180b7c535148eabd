"""A lab notebook as data: its cells (each with a student and a solution version) and what is graded.

The student notebook, the solution notebook, the Otter master notebook and the grader all read the
same `Plan`, so they can never disagree about a question's name, its points or its allowed answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

# Cell roles. The grader finds the graded cells by role (in the cell's metadata) or, when a learner's
# editor dropped the metadata, by what the cell assigns (see quizgen.grade.scoring).
EXPLANATION, SETUP, CONFIG, EXERCISE, CHECK, PREDICT, TRAIN, MEASURE, ANSWER, CODE = (
    "explanation", "setup", "config", "exercise", "check", "predict", "train", "measure", "answer", "code",
)


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    role: str
    source: str  # what the learner gets
    solution: str | None = None  # the reference version, when it differs
    key: str = ""  # the graded thing the cell holds: an exercise name, a question id, PREDICTIONS, MEASURED
    # Files a Markdown cell shows, carried inside the notebook: (name, MIME type, base64 of the bytes),
    # each shown by `![alt](attachment:name)`.
    attachments: tuple[tuple[str, str, str], ...] = ()

    @property
    def reference(self) -> str:
        return self.source if self.solution is None else self.solution


@dataclass(frozen=True)
class Prediction:
    name: str
    question: str
    allowed: tuple  # the values a prediction may take; the first is also its type
    truth: Callable[[dict], Any]  # flattened reference metrics -> what really happened
    solution: Any = None  # what the solution notebook predicts


@dataclass(frozen=True)
class Measurement:
    """A number the learner reports from their own run, compared with the cached reference run.

    `description` is the learner's hint in the MEASURED cell; `solution` the solution notebook's
    expression for it; reference(metrics) the accepted interval when the learner kept the lab's
    configuration; None when the value is graded by the relations alone (an arm whose numbers move
    from machine to machine more than any fair interval around the reference run).
    """

    name: str
    description: str
    solution: str
    reference: Callable[[dict], tuple[float, float]] | None
    kind: type = float


@dataclass(frozen=True)
class Relation:
    """A relation between measurements that must hold whatever settings the learner chose.

    `expression` is Python over `m`, the learner's MEASURED dict, written once here and used twice: the
    grader compiles it (a constant of ours, never learner input) and the Otter master embeds it in a
    hidden test.
    """

    description: str
    expression: str
    names: tuple[str, ...]
    kinds: tuple[type, ...] = (int, float)

    def holds(self, measured: dict) -> bool:
        values = [measured.get(name) for name in self.names]
        if not all(type(value) in self.kinds and value == value for value in values):  # value == value: not NaN
            return False
        return bool(_compiled(self.expression)(measured))


_COMPILED: dict[str, Callable] = {}


def _compiled(expression: str) -> Callable:
    if expression not in _COMPILED:
        _COMPILED[expression] = eval(f"lambda m: {expression}", {"__builtins__": {"abs": abs, "all": all}})  # noqa: S307
    return _COMPILED[expression]


@dataclass(frozen=True)
class Plan:
    lab_id: str
    title: str
    cells: tuple[Cell, ...]
    config_names: tuple[str, ...]
    exercises: tuple = ()  # quizgen.notebooks.exercises.Exercise, in notebook order
    predictions: tuple[Prediction, ...] = ()
    measurements: tuple[Measurement, ...] = ()
    relations: tuple[Relation, ...] = ()
    questions: tuple = ()  # the concept's questions, in notebook order
    concept_id: str | None = None
    measured_points: float = 0.0
