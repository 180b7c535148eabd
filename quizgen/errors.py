"""Diagnostics: every problem with content is reported as ``path:line: message``."""

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


class ContentError(Exception):
    """Raised with every diagnostic found when content does not load."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))
