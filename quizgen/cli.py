"""The quizgen command line. The only module that prints or exits: library code raises QuizgenError,
and the group below turns it into `path:line: message` lines (or one sentence) and exit status 1."""

from __future__ import annotations

import functools
import gc
import importlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from quizgen import __version__
from quizgen.errors import QuizgenError
from quizgen.files import writable_folder

CONTENT_DIR = click.Path(file_okay=False, path_type=Path)
DEFAULT_CONTENT = Path("content")


def content_folder(command):
    """The course folder, the same way in check, build, export and serve: as the positional CONTENT or
    as --content (default: content). Giving both, naming different folders, is a usage error."""

    @functools.wraps(command)
    def with_content(*args, content_argument: Path | None, content_option: Path | None, **kwargs):
        return command(*args, content_dir=chosen_content(content_argument, content_option), **kwargs)

    with_content = click.option("--content", "content_option", type=CONTENT_DIR, default=None, metavar="DIR",
                                help="The course folder, the same as CONTENT (default: content).")(with_content)
    return click.argument("content_argument", metavar="[CONTENT]", type=CONTENT_DIR, required=False)(with_content)


def chosen_content(argument: Path | None, option: Path | None) -> Path:
    if argument is not None and option is not None and argument.resolve() != option.resolve():
        raise click.UsageError(f"the course folder is given twice, as CONTENT '{argument}' and as --content "
                               f"'{option}': give it once")
    return argument or option or DEFAULT_CONTENT


def format_option(help: str, required: bool = False):
    """--format NAME, repeatable, each a name or a comma list (`--format key,critique`), or `all`."""
    return click.option("--format", "format_names", multiple=True, required=required, metavar="NAME[,NAME…]|all",
                        help=help)


def chosen_formats(given: tuple[str, ...], kind: str | None) -> list[str]:
    """Every format named in ``given`` (repeated options and comma lists alike), in order, once each;
    `all` is every format of ``kind`` (None: of every kind). An unknown name is a plain sentence listing
    the known ones."""
    from quizgen.formats import REGISTRY, names

    known = names(kind)
    chosen = []
    for name in format_words(given):
        if name == "all":
            chosen += known
        elif name in known:
            chosen.append(name)
        elif name in REGISTRY:
            raise click.ClickException(f"'{name}' is not an export; `quizgen build --format {name}` builds it. "
                                       f"The export formats are: {', '.join(known)} (or all)")
        else:
            raise click.ClickException(f"unknown format '{name}'; the formats are: {', '.join(known)} (or all)")
    if given and not chosen:
        raise click.ClickException(f"--format names no format; the formats are: {', '.join(known)} (or all)")
    return list(dict.fromkeys(chosen))  # `--format gift --format gift` builds it once


def format_words(given: tuple[str, ...]) -> list[str]:
    """The names in the --format values: `--format a,b --format c` gives a, b, c."""
    return [part.strip() for value in given for part in value.split(",") if part.strip()]


def by_name(given: tuple[str, ...]) -> set[str]:
    """The formats ``given`` names one by one (not through `all`)."""
    return set(format_words(given)) - {"all"}


class QuizgenGroup(click.Group):
    """Every command runs under this group: a QuizgenError from any of them (or from the library code
    they call) is reported here, the one place. Subcommands that live in other packages are imported
    only when used: `quizgen check` must stay fast and never load the lab engine."""

    LAZY = {"lab": "quizgen.lab.cli:lab", "verify": "quizgen.lab.cli:verify"}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx, name):
        if name in self.LAZY:
            module, attribute = self.LAZY[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QuizgenError as error:
            report_error(error)


# One-shot commands run without cyclic garbage collection (they allocate hundreds of thousands of
# objects that live until the end, so collecting finds nothing and cost ~5% of an export) and end
# as soon as their output is flushed, without tearing the interpreter down (freeing a large course
# object by object took ~40 ms of a 0.6 s export). Not the lab, grading or serving commands, which
# run long and whose libraries (torch, Jupyter, threads) may clean up at exit.
QUICK_EXIT = {"check", "build", "export", "schema"}
_owns_process = False  # set by main(); not when a test or another program invokes `cli`
_quick_exit = False


@click.group(cls=QuizgenGroup)
@click.version_option(__version__, prog_name="quizgen")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Turn course material written in Markdown into quizzes, lab notebooks and LMS exports."""
    global _quick_exit
    _quick_exit = _owns_process and ctx.invoked_subcommand in QUICK_EXIT
    if _quick_exit:
        gc.disable()


@cli.command()
@content_folder
@click.option("--strict", is_flag=True, help="Treat item-writing warnings as errors.")
def check(content_dir: Path, strict: bool) -> None:
    """Load and validate every concept file in CONTENT (default: content).

    Also warns about item-writing flaws (correct option always in one position or always the
    longest, "all of the above", options differing only in case)."""
    from quizgen.lint import lint
    from quizgen.questions import TYPES

    course = load_or_exit(content_dir)
    warnings = lint(course)
    for warning in warnings:
        click.echo(str(warning), err=True)
    if strict and warnings:
        click.echo(f"{plural(len(warnings), 'warning')} (--strict makes them errors)", err=True)
        sys.exit(1)

    counts = Counter(question.type for _, question in course.questions)
    by_type = ", ".join(f"{counts[kind]} {kind}" for kind in TYPES if counts[kind])
    total = sum(counts.values())
    summary = f"{content_dir}: {plural(len(course.concepts), 'concept')}, {plural(total, 'question')}"
    generated = [question for _, question in course.questions if question.generated]
    variants = (f", {len(generated)} generated with {sum(len(q.variants) for q in generated)} variants"
                if generated else "")
    click.echo(summary + (f" ({by_type})" if total else "") + variants
               + (f", {plural(len(warnings), 'warning')}" if warnings else ""))


@cli.command()
@click.option("--part", type=click.Choice(["all", "front-matter", "question"]), default="all", show_default=True,
              help="front-matter or question gives a standalone schema for an editor.")
def schema(part: str) -> None:
    """Print the JSON Schema of the front matter and of question attribute lines."""
    from quizgen.schema import json_schemas

    schemas = json_schemas()
    chosen = schemas if part == "all" else schemas[part.replace("-", "_")]
    click.echo(json.dumps(chosen, indent=2, ensure_ascii=False))


@cli.command()
@content_folder
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="build", show_default=True,
              help="The build folder: site/, notebooks/ and export/<format>/ go in it.")
@format_option("Build only these formats (repeatable, or a comma list); default: all of them.")
@click.option("--learners", "learners_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="A list of learner ids, one per line: each also gets a notebook of their own "
              "(notebooks/learners/<lab>/<id>.ipynb), with their variants of the generated questions.")
def build(content_dir: Path, out: Path, format_names: tuple[str, ...], learners_file: Path | None) -> None:
    """Build the quiz site, the lab notebooks and every export from CONTENT (default: content).

    A format with nothing to write for the course (notebooks and otter, when no concept names a lab)
    writes no folder, and the one an earlier build left is removed."""
    from quizgen.formats import FORMATS
    from quizgen.variants import read_learners

    learners = read_learners(learners_file) if learners_file else []
    run_build(content_dir, out, chosen_formats(format_names, None) or list(FORMATS), named=by_name(format_names),
              learners=learners)


@cli.command()
@content_folder
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="build", show_default=True,
              help="The build folder; the site goes to OUT/site/.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
def serve(content_dir: Path, out: Path, port: int) -> None:
    """Serve the quiz site of CONTENT (default: content) on localhost, rebuilding it on every change to
    the course (a concept file, course.yml, an image it shows)."""
    from quizgen.site.serve import serve as serve_site

    check_content_dir(content_dir)
    writable_folder(out)
    serve_site(content_dir, out, port=port, say=lambda line, error: click.echo(line, err=error))


@cli.command()
@format_option("The export formats (repeatable, or a comma list), or all of them.", required=True)
@content_folder
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="build", show_default=True,
              help="The build folder; files go to OUT/export/<format>/.")
@click.option("--forms", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Write N shuffled versions (form-1 … form-N), each with its own answer key.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same forms.")
def export(format_names: tuple[str, ...], content_dir: Path, out: Path, forms: int, seed: int) -> None:
    """Write instructor exports of CONTENT (default: content): LMS packages, answer keys, item bank,
    critique prompts."""
    run_build(content_dir, out, chosen_formats(format_names, "export"), forms=forms, seed=seed,
              named=by_name(format_names))


@cli.command()
@click.argument("submissions", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--lab", "lab_id", required=True, metavar="ID", help="The lab the notebooks belong to.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Submissions graded at the same time on this machine, each in its own sandbox.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Grade on this Dask cluster instead (needs quizgen[cluster]); each worker sandboxes what it runs.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default="build/grades", show_default=True,
              help="Where grades.csv, results.json and feedback/ go.")
@click.option("--resume", is_flag=True, help="Skip submissions already graded in OUT (unchanged files only).")
@click.option("--rescore", is_flag=True,
              help="Score every submission again from what its run harvested (OUT/harvests), running only those "
                   "whose notebook, lab configuration or sandbox changed.")
@click.option("--content", "content_dir", type=CONTENT_DIR, default="content", show_default=True,
              help="The course, for the lab's quiz questions.")
@click.option("--cell-timeout", type=click.FloatRange(min=1), default=300, show_default=True, help="Seconds per cell.")
@click.option("--wall-timeout", type=click.FloatRange(min=1), default=1800, show_default=True,
              help="Seconds per notebook.")
@click.option("--memory", type=click.FloatRange(min=0.5), default=4, show_default=True, help="GiB per notebook.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build") / "lab-cache",
              show_default=True, help="Where the lab's reference results are cached.")
@click.option("--no-sandbox", is_flag=True,
              help="Run notebooks without bubblewrap where it cannot be had (they can then read your files).")
@click.option("--gradebook", "gradebooks", multiple=True, metavar="canvas|moodle[,…]",
              help="Also write the LMS's grade import CSV (OUT/canvas-gradebook.csv, OUT/moodle-grades.csv).")
@click.option("--lms-users", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV mapping each learner id (column 'learner') to the LMS's user fields, for --gradebook.")
@click.option("--assignment", default=None, metavar="NAME",
              help="The LMS column the grades go to (default: the lab's title); in Canvas 'Name (ID)' names an "
                   "existing assignment.")
@click.option("--verbose", is_flag=True, help="Say each submission's result and what each worker runs.")
def grade(submissions: tuple[Path, ...], lab_id: str, workers: int, scheduler: str | None, out: Path, resume: bool,
          rescore: bool, content_dir: Path, cell_timeout: float, wall_timeout: float, memory: float, cache_dir: Path,
          no_sandbox: bool, gradebooks: tuple[str, ...], lms_users: Path | None, assignment: str | None,
          verbose: bool) -> None:
    """Grade learners' lab notebooks (files or folders), each run in a sandbox: here, or on a Dask cluster."""
    from quizgen.grade import gradebook
    from quizgen.grade.progress import Progress
    from quizgen.grade.runner import collect, grade as grade_batch
    from quizgen.grade.sandbox import Limits, probe_isolation

    if resume and rescore:
        raise click.UsageError("give --resume or --rescore, not both (a rescore reuses every harvest it can)")
    if scheduler and no_sandbox:
        raise click.UsageError("--no-sandbox is for this machine only: on a cluster every notebook runs in its "
                               "worker's sandbox, and a worker without one refuses it")
    if scheduler and workers != 1:
        raise click.UsageError("--workers is for this machine; on a cluster each Dask worker's --nthreads says how "
                               "many notebooks it runs at once")
    chosen_gradebooks = list(dict.fromkeys(name.strip() for value in gradebooks for name in value.split(",")
                                           if name.strip()))
    if unknown := [name for name in chosen_gradebooks if name not in gradebook.GRADEBOOKS]:
        raise click.UsageError(f"unknown gradebook {', '.join(map(repr, unknown))}: the known ones are "
                               f"{', '.join(gradebook.GRADEBOOKS)}")
    if chosen_gradebooks and lms_users is None:
        raise click.UsageError("--gradebook needs --lms-users FILE: which LMS user each learner id is")
    try:
        import nbformat  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        raise click.ClickException(f"grading needs the lab extra ({error.name} is missing): pip install 'quizgen[lab]'")
    if content_dir.is_dir():
        load_or_exit(content_dir)  # bad content is reported as path:line, before any notebook runs
    users = gradebook.read_users(lms_users, chosen_gradebooks) if chosen_gradebooks else None
    writable_folder(out)  # before the reference run and the first notebook, not after
    total = len(collect(list(submissions)))
    if not total:
        raise click.ClickException(f"nothing to grade: no files in {', '.join(repr(str(p)) for p in submissions)}")
    isolation, cannot_run = None, None
    if scheduler:
        click.echo(f"grading on the Dask cluster at {scheduler}: each worker runs notebooks in its own sandbox and "
                   "refuses them if it cannot build one", err=True)
    else:
        isolation = probe_isolation()
        if not isolation.jail and not no_sandbox:
            reason = (f"cannot sandbox the notebooks: {isolation.detail}. Install bubblewrap (Debian and Ubuntu: "
                      "apt-get install bubblewrap) on a kernel that allows user namespaces, or pass --no-sandbox to "
                      "run them unsandboxed (only for notebooks you trust).")
            if not rescore:
                raise click.ClickException(reason)
            # A rescore needs no sandbox for what it reuses; what must run again is reported, not run.
            cannot_run = f"it must run again, and this machine cannot sandbox notebooks ({isolation.detail})"
            click.echo(f"warning: {reason} Submissions whose harvest cannot be reused are reported as environment "
                       "errors.", err=True)
        elif not isolation.jail:
            click.echo(f"warning: notebooks run without a sandbox ({isolation.detail}); they can read this "
                       "machine's files and use its network.", err=True)
        else:
            click.echo(f"sandbox: {isolation.mode} ({isolation.detail})", err=True)
            for line in isolation.guarantees:
                click.echo(f"  {line}", err=True)
    limits = Limits(cell_timeout=cell_timeout, wall_timeout=wall_timeout, memory_bytes=int(memory * 2**30))
    progress = Progress(total, lambda text, newline=True: click.echo(text, nl=newline, err=True),
                        live=sys.stderr.isatty(), verbose=verbose)

    def on_reference(results: dict) -> None:
        click.echo(f"reference results of {lab_id}: {'cached' if results['cached'] else 'computed once'} "
                   f"({results['directory']})", err=True)

    try:
        report = grade_batch(list(submissions), lab_id=lab_id, out=out, content=content_dir, workers=workers,
                             resume=resume, rescore=rescore, limits=limits, cache_dir=cache_dir, isolation=isolation,
                             progress=progress, on_reference=on_reference, scheduler=scheduler, cannot_run=cannot_run)
    except KeyboardInterrupt:
        progress.close()
        click.echo(f"interrupted: what finished is in {out}; run the same command with --resume to grade the rest",
                   err=True)
        raise SystemExit(130) from None
    progress.close()
    for line in progress.summary():
        click.echo(line, err=True)
    counts = ", ".join(f"{count} {status}" for status, count in sorted(report.counts().items()))
    click.echo(f"{plural(len(report.records), 'submission')} ({counts}): {out / 'grades.csv'}, "
               f"{out / 'results.json'}, {out / 'feedback'}/")
    if users is not None:
        for written in gradebook.write(out, report.records, users, chosen_gradebooks,
                                       assignment or report.header["title"]):
            click.echo(f"{written.gradebook}: {written.path} ({plural(written.rows, 'learner')})")
            if written.not_listed:
                click.echo(f"  not in {lms_users} (left out): {', '.join(written.not_listed)}", err=True)
            if written.not_graded:
                click.echo(f"  not graded, left out for a regrade: {', '.join(written.not_graded)}", err=True)


def run_build(content_dir: Path, out: Path, formats: list[str], forms: int = 0, seed: int = 0,
              named: set[str] = frozenset(), learners: list[str] = ()) -> None:
    """Build ``formats`` and list the folders written. A format with nothing to write for the course
    (notebooks and otter without labs) is listed only when it was ``named`` or removed an earlier
    build's folder, on stderr, as a note."""
    from quizgen.build import build as build_course
    from quizgen.formats import REGISTRY, names, shows_evidence
    from quizgen.loader import ParseCache

    if forms and not any(REGISTRY[name].forms for name in formats):
        raise click.ClickException(f"--forms applies to {', '.join(names(forms=True))}; {', '.join(formats)} "
                                   f"{'has' if len(formats) == 1 else 'have'} no forms")
    check_content_dir(content_dir)
    try:  # bad content raises ContentError, which the group reports
        report = build_course(content_dir, out, formats, forms=forms, seed=seed, cache=ParseCache.default(),
                              learners=learners)
    except OSError as error:  # e.g. the build folder cannot be made or written
        where = error.filename or out
        raise click.ClickException(f"cannot build into '{out}': {where}: {error.strerror or error}") from None
    for name, folder in report.written.items():
        click.echo(f"{name}: {folder}")
    for line in shown_warnings(report.warnings):  # what a format loses of the course (e.g. GIFT: points)
        click.echo(line, err=True)
    for name, folder in report.empty.items():
        if name in report.removed:
            click.echo(f"{name}: nothing to write for this course; removed {folder}, an earlier build's", err=True)
        elif name in named:
            click.echo(f"{name}: nothing to write for this course (no folder written)", err=True)
    if not shows_evidence(formats):
        return
    from quizgen.site.evidence import missing_claims

    missing = missing_claims(report.course, report.results)
    if missing:
        claims = ", ".join(sorted({f"{lab}/{claim}" for _, lab, claim in missing}))
        click.echo(f"{plural(len(missing), 'question')} name a lab claim with no results yet ({claims}); "
                   "run `quizgen verify` to measure them.", err=True)


SHOWN_PER_WARNING = 5  # the same warning at more places than this is counted, not repeated


def shown_warnings(warnings: list) -> list[str]:
    """Each warning at its path:line, in order; one that more than SHOWN_PER_WARNING places share (GIFT's
    lost points on a big course) is shown at the first of them, then counted in one line."""
    seen: Counter = Counter()
    lines = []
    for warning in warnings:
        seen[warning.message] += 1
        if seen[warning.message] <= SHOWN_PER_WARNING:
            lines.append(str(warning))
    for message, count in seen.items():
        if count > SHOWN_PER_WARNING:
            lines.append(f"warning: {plural(count - SHOWN_PER_WARNING, 'more place')} with the same warning: {message}")
    return lines


def check_content_dir(content_dir: Path) -> None:
    from quizgen.loader import concept_files

    if not content_dir.is_dir():
        raise click.ClickException(f"the content folder '{content_dir}' does not exist")
    if not concept_files(content_dir):
        raise click.ClickException(f"no concept files (*.md) in '{content_dir}'")


def report_error(error: QuizgenError):
    """Every diagnostic on stderr and a count, or the one sentence; exit status 1."""
    if not error.diagnostics:
        raise click.ClickException(error.message)
    for diagnostic in error.diagnostics:
        click.echo(str(diagnostic), err=True)
    errors = [d for d in error.diagnostics if d.severity == "error"]
    click.echo(f"{plural(len(errors), 'error')} in {plural(len({d.path for d in errors}), 'file')}", err=True)
    sys.exit(1)


def load_or_exit(content_dir: Path):
    """The course (bad content raises ContentError, which the group reports)."""
    from quizgen.loader import ParseCache, load_course

    check_content_dir(content_dir)
    return load_course(content_dir, ParseCache.default())


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def main() -> None:
    """Entry point: user errors are plain sentences; a bug is reported without a traceback
    unless QUIZGEN_DEBUG is set."""
    global _owns_process
    _owns_process = True
    # quizgen's models use no pydantic plugin; looking for some reads the metadata of every installed
    # package (about 30 ms a command). A user who wants theirs sets the variable themselves.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        cli(standalone_mode=True)
    except SystemExit as exit:
        if _quick_exit:
            quick_exit(exit.code)
        raise
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("QUIZGEN_DEBUG"):
            raise
        click.echo(f"quizgen: internal error: {type(exc).__name__}: {exc}. "
                   "Run again with QUIZGEN_DEBUG=1 for details and report it.", err=True)
        sys.exit(2)


def quick_exit(code) -> None:
    """Flush what was written and end the process now (see QUICK_EXIT)."""
    if code is not None and not isinstance(code, int):
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said
            pass
    os._exit(code or 0)
