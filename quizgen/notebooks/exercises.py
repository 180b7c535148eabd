"""A code exercise, defined once in its lab's `exercises.py` and rendered by everything that shows or grades it.

An `Exercise` holds five functions' worth of knowledge, each written once:

- `solution`: the reference function. Its name is the function the learner writes; its signature and
  docstring, with the body replaced, are the learner's stub; its body is the solution (solution and
  Otter master notebooks) and computes the expected results of the unseen inputs;
- `text`: what the learner reads above the stub (Markdown);
- `check`: the public check, `check(function) -> checks.Report`. Its source is copied into the notebook
  (the cell under the stub) and into the Otter master's public test, so both run the same checks;
- `unseen`: `unseen(rng, case) -> arguments`, the hidden inputs. quizgen's grader draws them from a fresh
  seed per submission (outside the sandbox; only the inputs go in), the Otter master from a fixed seed;
- `compare`: how a result is compared with the expected one (`checks.close` by default).

`solution`, `check` and `unseen` are copied as source into notebooks and tests, so each must stand alone:
imports inside the body, no helper of the exercises file. Reading an exercise imports no torch.
"""

from __future__ import annotations

import ast
import inspect
import random
import textwrap
from dataclasses import dataclass
from typing import Any, Callable

from quizgen.formats.notation import number
from quizgen.notebooks import checks
from quizgen.notebooks.plan import CHECK, EXERCISE, EXPLANATION, Cell

STUB_BODY = "    # YOUR CODE HERE\n    raise NotImplementedError"


@dataclass(frozen=True)
class Raised:
    """An expected outcome that is an exception: the learner's function must raise this type."""

    type: str


@dataclass(frozen=True)
class Case:
    arguments: tuple  # as the solution received them (tensors and all)
    expected: Any  # checks.plain of what the solution returned, or Raised


@dataclass(frozen=True)
class Exercise:
    solution: Callable
    title: str
    points: float
    text: str
    check: Callable
    unseen: Callable
    compare: Callable = checks.close
    cases: int = 5  # unseen inputs per submission

    @property
    def name(self) -> str:
        return self.solution.__name__

    # --- sources, for notebooks and Otter tests --------------------------------------------------

    def solution_source(self) -> str:
        return source_of(self.solution)

    def stub_source(self) -> str:
        """The signature and docstring of the solution, and a body for the learner to write."""
        source = self.solution_source()
        docstring = ast.parse(source).body[0].body[0]
        return "\n".join(source.splitlines()[: docstring.end_lineno]) + "\n" + STUB_BODY

    def check_source(self) -> str:
        return source_of(self.check)

    def unseen_source(self) -> str:
        return source_of(self.unseen)

    def compare_source(self) -> str:
        return source_of(self.compare)

    def cells(self, position: int) -> list[Cell]:
        points = f"{number(self.points, digits=6)} points"
        text = textwrap.dedent(self.text).strip()
        # The ";" keeps Jupyter from showing the returned report after what the check printed.
        check_call = f"{self.check_source()}\n\n\n{self.check.__name__}({self.name});"
        return [
            Cell("markdown", EXPLANATION, f"## Exercise {position}: {self.title}\n\n*{points}*\n\n{text}"),
            Cell("code", EXERCISE, self.stub_source(), self.solution_source(), key=self.name),
            Cell("code", CHECK, check_call, key=self.name),
        ]

    # --- grading ---------------------------------------------------------------------------------

    def draw(self, seed: int, count: int | None = None) -> list[Case]:
        """Unseen inputs from ``seed`` and what the reference solution gives on each."""
        rng = random.Random(seed)
        return [self.case(tuple(self.unseen(rng, index))) for index in range(self.cases if count is None else count)]

    def case(self, arguments: tuple) -> Case:
        import copy

        try:
            expected = checks.plain(self.solution(*copy.deepcopy(arguments)))
        except Exception as error:  # noqa: BLE001 - an input the function must refuse
            expected = Raised(type(error).__name__)
        return Case(arguments, expected)

    def judge(self, result: dict, case: Case) -> tuple[bool, str]:
        """Whether one result, as the sandbox reported it ({"output": plain} or {"error": {"type": …}}),
        matches; the message says how it failed and never what was expected."""
        error = result.get("error") if isinstance(result, dict) else None
        if isinstance(case.expected, Raised):
            if isinstance(error, dict) and error.get("type") == case.expected.type:
                return True, ""
            return False, f"should raise {case.expected.type} for an invalid argument"
        if isinstance(error, dict):
            if error.get("type") == "timeout":
                return False, "did not return in time"
            if error.get("type") == "not run":
                return False, "was not tried: the notebook was stopped after a call that did not return in time"
            # Only the type: a message could quote the unseen input back to the learner.
            return False, f"raised {error.get('type')}"
        output = result.get("output") if isinstance(result, dict) else None
        if isinstance(output, dict) and "__unsupported__" in output:
            return False, f"returned something that cannot be graded ({output['__unsupported__']})"
        message = self.compare(output, case.expected)
        return (True, "") if message is None else (False, message)


def source_of(function: Callable) -> str:
    return textwrap.dedent(inspect.getsource(function)).rstrip()


def encode(value):
    """An argument as the sandbox's boot.decode reads it: tensors as nested lists with their dtype."""
    if type(value).__name__ == "Tensor":
        return {"tensor": value.tolist(), "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, dict) and any(has_tensor(item) for item in value.values()):
        return {"dict": {name: encode(item) for name, item in value.items()}}
    if isinstance(value, (list, tuple)) and any(has_tensor(item) for item in value):
        return {"list": [encode(item) for item in value]}
    return {"value": checks.plain(value)}


def has_tensor(value) -> bool:
    if type(value).__name__ == "Tensor":
        return True
    if isinstance(value, dict):
        return any(has_tensor(item) for item in value.values())
    return isinstance(value, (list, tuple)) and any(has_tensor(item) for item in value)
