"""Folders quizgen writes into: checked before the work that fills them, not after."""

from __future__ import annotations

from pathlib import Path

from quizgen.errors import QuizgenError


def writable_folder(folder: Path) -> None:
    """Make ``folder`` if needed, or raise QuizgenError saying in a plain sentence why it cannot be written."""
    import tempfile  # not on the path of `quizgen check`

    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        raise QuizgenError(f"cannot write to '{folder}': {error.strerror or error}") from None
