"""One error family: library code raises QuizgenError; only the command-line modules speak click,
and nothing imports the command line back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from quizgen.errors import ContentError, Diagnostic, QuizgenError
from paths import ROOT

PACKAGE = ROOT / "quizgen"
COMMAND_LINE = {"cli.py", "lab/cli.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function ("from a import b" counts a and a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def modules() -> dict[str, set[str]]:
    return {path.relative_to(PACKAGE).as_posix(): imported_modules(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_only_the_command_line_modules_import_click():
    speaking_click = sorted(name for name, imports in modules().items()
                            if any(m == "click" or m.startswith("click.") for m in imports))
    assert speaking_click and set(speaking_click) <= COMMAND_LINE, speaking_click


def test_nothing_imports_the_command_line_back():
    """quizgen/cli.py names the lab commands to load them when used; they, like all library code,
    never import it (which is what made the two import each other)."""
    importers = sorted(name for name, imports in modules().items() if "quizgen.cli" in imports)
    assert importers == ["__main__.py"]


@pytest.mark.parametrize("error, text, diagnostics", [
    (QuizgenError("There is no lab named 'x'."), "There is no lab named 'x'.", []),
    (QuizgenError("cannot load the lab", "labs/x.py", 3), "labs/x.py:3: cannot load the lab",
     [Diagnostic("labs/x.py", 3, "cannot load the lab")]),
    (ContentError([Diagnostic("b.md", 2, "two"), Diagnostic("a.md", 9, "one")]), "a.md:9: one\nb.md:2: two",
     [Diagnostic("a.md", 9, "one"), Diagnostic("b.md", 2, "two")]),
])
def test_an_error_says_where_when_it_knows(error, text, diagnostics):
    assert isinstance(error, QuizgenError)
    assert str(error) == text and error.diagnostics == diagnostics
