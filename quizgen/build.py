"""build(content, out, formats): load the course once, render every format, swap the results in.

Gather everything first, then write (MkDocs' rule): the course is loaded and validated before any
output is touched. Each format renders into a staging folder next to its target; only when every
format has succeeded are the targets replaced, each by a rename. A failed build leaves the previous
output as it was.

A format that has nothing to write for the course (the notebooks and the Otter masters of a course
whose concepts name no lab, the critique prompts of one without critiques) writes no folder, and its
folder from an earlier build is removed in the same swap: a stale notebooks/ must not pass for this
build's output. (Formats that were not asked for are left as they are.)
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from quizgen.errors import Diagnostic
from quizgen.formats import REGISTRY, get_format, shows_evidence, warm_up
from quizgen.forms import make_form
from quizgen.loader import ParseCache, load_course
from quizgen.model import Course
from quizgen.parallel import fork_map


@dataclass
class BuildReport:
    course: Course
    results: dict  # the lab results the outputs show
    written: dict[str, Path] = field(default_factory=dict)  # format name -> its output folder
    # Formats that had nothing to write -> the folder they would have written, which is not there now;
    # removed: those of them whose folder an earlier build had left (and this one removed).
    empty: dict[str, Path] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    # What the formats say the course loses in them (e.g. GIFT: points, images), at path:line, once each.
    warnings: list[Diagnostic] = field(default_factory=list)


def cached_lab_results(course: Course) -> dict:
    """{lab id: cached results} for every lab the course names, without running a lab or importing
    torch. A lab with no cached run (or that cannot be read) is absent: outputs then say that its
    claims have no results yet (`quizgen verify` fills the cache)."""
    try:
        from quizgen.lab import runner
    except ImportError:  # the lab extra is not installed
        return {}
    results = {}
    for lab in sorted({concept.lab for concept in course.concepts if concept.lab}):
        try:
            hit = runner.cached_results(lab, labs=course.labs)
        except Exception:  # noqa: BLE001 - an unreadable lab has no evidence to show; verify reports why
            continue
        if hit:
            results[lab] = hit
    return results


MAX_SEEDS = 100  # cached fine-tuning seeds a build reads for the answers labs measure


def cached_lab_runs(lab_id: str, labs: Path | None, cache_dir: Path | None = None) -> list[dict]:
    """Every cached run of a lab with seeds 0, 1, 2 … (until the first seed that never ran)."""
    from quizgen.lab import cache, runner

    runs = []
    for seed in range(MAX_SEEDS):
        try:
            hit = runner.cached_results(lab_id, seed=seed, labs=labs, cache_dir=cache_dir or cache.DEFAULT_CACHE_DIR)
        except Exception:  # noqa: BLE001 - an unreadable lab has nothing to measure; verify reports why
            break
        if hit is None:
            break
        runs.append(hit)
    return runs


def with_measured_answers(course: Course, results: dict | None,
                          cache_dir: Path | None = None) -> tuple[Course, list[Diagnostic | None]]:
    """The course with the answers its labs measure filled in (quizgen.variants.measured), from every cached
    seed (or from ``results``, one run per lab, when given); a question its lab cannot key is left out,
    with a warning saying why."""
    from quizgen.variants.measured import measured_questions, resolve

    labs = {concept.lab for concept, _ in measured_questions(course) if concept.lab}
    if not labs:
        return course, []
    if results is not None:
        runs = {lab: [results[lab]] for lab in labs if lab in results}
    else:
        runs = {lab: cached_lab_runs(lab, course.labs, cache_dir) for lab in sorted(labs)}
    course, reports = resolve(course, runs)
    return course, [_left_out(report.problem()) for report in reports]


def _left_out(problem: Diagnostic | None) -> Diagnostic | None:
    if problem is None:
        return None
    return Diagnostic(problem.path, problem.line, f"{problem.message}; the question is left out of this build",
                      severity="warning")


def target_dir(out: Path, name: str, kind: str) -> Path:
    return out / "export" / name if kind == "export" else out / kind


def build(content: Path, out: Path, formats: list[str], results: dict | None = None,
          forms: int = 0, seed: int = 0, cache: ParseCache | None = None,
          learners: list[str] = ()) -> BuildReport:
    """Render ``formats`` of the course in ``content`` under ``out``.

    Raises ContentError on bad content (what `quizgen check` refuses, with the same diagnostics) and
    OSError when ``out`` cannot be written; either way the previous output stays as it was.
    With ``forms`` > 0, the formats that support forms write form-1/ … form-N/ instead, each a
    reproducible shuffle (``seed``) with its own answer key. With ``learners`` (ids), the formats declared
    per_learner (the notebooks) also write each learner's own version, their variants of the generated
    questions.
    """
    course = load_course(content, cache, warm_up=lambda: warm_up(formats))
    course, measured = with_measured_answers(course, results)
    if results is None:  # looked up only for formats that show lab evidence
        results = cached_lab_results(course) if shows_evidence(formats) else {}
    versions = [(f"form-{n}", make_form(course, seed, n)) for n in range(1, forms + 1)]
    report = BuildReport(course, results)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".staging-"))
    try:
        staged, jobs = {}, []
        for name in formats:
            folder = staging / name
            folder.mkdir()
            if versions and REGISTRY[name].forms:
                for label, form in versions:
                    (folder / label).mkdir()
                    jobs.append(Job(name, form, results, folder / label))
            else:
                jobs.append(Job(name, course, results, folder))
            if learners and REGISTRY[name].per_learner:
                jobs.append(Job(name, course, results, folder, tuple(learners)))
            staged[name] = (folder, target_dir(out, name, REGISTRY[name].kind))
        left_out = [problem for problem in measured if problem is not None]
        report.warnings = list(dict.fromkeys([*left_out, *(w for said in run_jobs(jobs) if said for w in said)]))
        for name, (folder, target) in staged.items():
            if holds_files(folder):
                replace_dir(folder, target)
                report.written[name] = target
                continue
            report.empty[name] = target
            if target.exists():
                remove_dir(target)
                report.removed.add(name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


@dataclass(frozen=True)
class Job:
    """One format rendering one course (or form) into one folder."""

    format_name: str
    course: Course
    results: dict
    folder: Path
    learners: tuple[str, ...] = ()  # the learners' own versions (write_for_learners), not the course's

    def run(self) -> list[Diagnostic] | None:
        module = get_format(self.format_name)
        if self.learners:
            return module.write_for_learners(self.course, self.results, self.folder, list(self.learners))
        return module.write(self.course, self.results, self.folder)


PARALLEL_MIN_WORK = 2000  # questions x format costs below which starting processes costs more than it saves


def run_jobs(jobs: list[Job]) -> list:
    """Run the jobs, on every core when there is enough work (the costliest first); the first
    failure is re-raised. Returns what each job's format said (its warnings, or None)."""
    return fork_map(Job.run, jobs, min_work=PARALLEL_MIN_WORK, uneven=True,
                    cost=lambda job: len(job.course.questions) * REGISTRY[job.format_name].cost * max(1, len(job.learners)))


def holds_files(folder: Path) -> bool:
    return any(path.is_file() for path in folder.rglob("*"))


def replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``: the old folder moves aside first, so a reader never sees a mix."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


def remove_dir(target: Path) -> None:
    """Take ``target`` away as replace_dir takes an old folder away: renamed aside first, then deleted."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    target.rename(old)
    shutil.rmtree(old)
