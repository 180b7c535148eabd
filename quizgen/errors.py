"""The one error family library code raises, and the diagnostics it carries.

Library code raises ``QuizgenError`` for anything a user can fix (bad content, an unknown lab, a
folder that cannot be written), with the path and line where they are known; only ``quizgen.cli``
turns one into a message and an exit status. Every problem with content is ``path:line: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str
    line: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"


@dataclass
class DiagnosticList:
    """Collects problems so that a run reports all of them at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, path: str | Path, line: int, message: str) -> None:
        self.items.append(Diagnostic(str(path), line, message))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items)


class QuizgenError(Exception):
    """A problem the user can fix, said in one sentence.

    With a ``path`` it is a diagnostic (``path:line: message``, line 1 when unknown); without one,
    ``diagnostics`` is empty and the message stands alone (e.g. an unknown lab named on the command
    line).
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.diagnostics = [] if path is None else [Diagnostic(str(path), line or 1, message)]
        super().__init__(str(self.diagnostics[0]) if self.diagnostics else message)


class ContentError(QuizgenError):
    """Raised with every diagnostic found when content does not load."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        self.message = "\n".join(str(d) for d in self.diagnostics)
        Exception.__init__(self, self.message)
