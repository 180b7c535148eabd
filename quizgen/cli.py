"""The quizgen command line. The only module that prints or exits."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from quizgen import __version__
from quizgen.errors import ContentError

CONTENT_DIR = click.Path(file_okay=False, path_type=Path)


@click.group()
@click.version_option(__version__, prog_name="quizgen")
def cli() -> None:
    """Turn course material written in Markdown into quizzes, lab notebooks and LMS exports."""


@cli.command()
@click.argument("content_dir", type=CONTENT_DIR, default="content")
def check(content_dir: Path) -> None:
    """Load and validate every concept file in CONTENT_DIR (default: content)."""
    course = load_or_exit(content_dir)
    from quizgen.questions import TYPES

    counts = Counter(question.type for _, question in course.questions)
    by_type = ", ".join(f"{counts[kind]} {kind}" for kind in TYPES if counts[kind])
    total = sum(counts.values())
    summary = f"{content_dir}: {plural(len(course.concepts), 'concept')}, {plural(total, 'question')}"
    click.echo(summary + (f" ({by_type})" if total else ""))


@cli.command()
@click.option("--part", type=click.Choice(["all", "front-matter", "question"]), default="all", show_default=True,
              help="front-matter or question gives a standalone schema for an editor.")
def schema(part: str) -> None:
    """Print the JSON Schema of the front matter and of question attribute lines."""
    from quizgen.schema import json_schemas

    schemas = json_schemas()
    chosen = schemas if part == "all" else schemas[part.replace("-", "_")]
    click.echo(json.dumps(chosen, indent=2, ensure_ascii=False))


def load_or_exit(content_dir: Path):
    """The course, or every diagnostic on stderr and exit status 1."""
    from quizgen.loader import concept_files, load_course

    if not content_dir.is_dir():
        raise click.ClickException(f"the content folder '{content_dir}' does not exist")
    if not concept_files(content_dir):
        raise click.ClickException(f"no concept files (*.md) in '{content_dir}'")
    try:
        return load_course(content_dir)
    except ContentError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        errors = [d for d in exc.diagnostics if d.severity == "error"]
        click.echo(f"{plural(len(errors), 'error')} in {plural(len({d.path for d in errors}), 'file')}", err=True)
        sys.exit(1)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def main() -> None:
    """Entry point: user errors are plain sentences; a bug is reported without a traceback
    unless QUIZGEN_DEBUG is set."""
    try:
        cli(standalone_mode=True)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("QUIZGEN_DEBUG"):
            raise
        click.echo(f"quizgen: internal error: {type(exc).__name__}: {exc}. "
                   "Run again with QUIZGEN_DEBUG=1 for details and report it.", err=True)
        sys.exit(2)
