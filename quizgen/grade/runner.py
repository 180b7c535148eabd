"""Grade a batch: every submission in its own sandbox, in parallel, scored against one reference run.

The lab's reference results are looked up (or computed once) before the first submission and reused for
all of them: no submission retrains the reference. Each submission goes through the same stages wherever
it runs: `read` and `prepare` here (the learner's plan, the notebook's text, its unseen inputs), a run
in a sandbox — on this machine, `workers` at a time, or on a Dask worker (cluster.py) — or its stored
harvest (`--rescore`, harvest.py), then `conclude` here: scoring (scoring.py), the learner's files and
the harvest. Scoring never leaves this process, so no worker holds a key, an expected output or the
reference run. One bad submission never stops the batch; each learner's files are written as soon as
they are graded, and the summary as the records come in, so an interrupted run keeps what it finished
and `--resume` picks up from there.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import stat
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from quizgen.grade import harvest, jail, reports, scoring, slots, untrusted
from quizgen.notebooks.exercises import encode
from quizgen.variants import LEARNER_ID, learner_variant
from quizgen.grade.sandbox import (
    ENVIRONMENT_ERROR, NOT_A_NOTEBOOK, Isolation, Limits, Outcome, Runtime, kill_all, probe_isolation, run_notebook,
)

MAX_NOTEBOOK_BYTES = 50 * 2**20
MAX_ANSWERS_CHARS = 200_000


@dataclass(frozen=True)
class Submission:
    path: Path
    learner: str


@dataclass
class GradeReport:
    out: Path
    header: dict
    records: list[dict] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        return counts


def collect(paths: list[Path]) -> list[Submission]:
    """Files given, and every visible entry in folders given; each learner named after their file.

    A file keeps its name (without extension) as its learner id when that name is a plain id and no other
    file has it (ignoring case, as some file systems do); otherwise its id is the cleaned name plus a
    short hash of its path. So no file can take another's exact id: `victim!.ipynb` never becomes
    `victim`, and the real `victim.ipynb` keeps it.
    """
    files = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            files += sorted(p for p in path.iterdir() if not p.name.startswith(".") and not p.is_dir())
        else:
            files.append(path)
    files = list(dict.fromkeys(files))
    stems: dict[str, int] = {}
    for path in files:
        stems[path.stem.lower()] = stems.get(path.stem.lower(), 0) + 1
    learners = {path: path.stem for path in files if PLAIN_ID.fullmatch(path.stem) and stems[path.stem.lower()] == 1}
    taken = {learner.lower() for learner in learners.values()}
    for path in files:
        if path not in learners:
            base = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.")[:80] or "learner"
            digest = hashlib.sha256(os.fsencode(path)).hexdigest()
            # A file named like another's hashed id (`victim-3f2a9c1d.ipynb`) cannot take it: longer hashes.
            learner = next(f"{base}-{digest[:n]}" for n in (8, 16, 64) if f"{base}-{digest[:n]}".lower() not in taken)
            learners[path] = learner
            taken.add(learner.lower())
    return [Submission(path, learners[path]) for path in files]


PLAIN_ID = LEARNER_ID  # a file named like this keeps its name as the learner id
MAX_CELLS = 5000


def read_submission(path: Path) -> bytes | str:
    """The file's bytes, or why it is not graded: a symbolic link, not a regular file, or too large (checked
    before reading, on the file actually opened)."""
    if path.is_symlink():
        return "it is a symbolic link, not a notebook file; submit the notebook itself"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "it is not a regular file"
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB"
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(MAX_NOTEBOOK_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_NOTEBOOK_BYTES:
        return f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB"
    return data



def read_notebook(data: bytes) -> dict | str:
    """The notebook as plain nbformat-4 JSON whose cells are all well-formed, or why it is not one.
    Parsing JSON runs no code; every cell's source comes out as one cleaned string."""
    try:
        plain = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return f"it is not a notebook ({type(error).__name__})"
    if not isinstance(plain, dict) or not isinstance(plain.get("cells"), list):
        return "it is not a notebook: it has no list of cells"
    if plain.get("nbformat") != 4:
        return "it is not a Jupyter notebook of format 4 (save it again from Jupyter)"
    if len(plain["cells"]) > MAX_CELLS:
        return f"it has more than {MAX_CELLS} cells"
    cells = []
    for number, cell in enumerate(plain["cells"], 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return f"it is not a notebook: cell {number} has no cell type"
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            return f"it is not a notebook: cell {number} has no source text"
        source = source.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates
        cells.append({"cell_type": cell["cell_type"], "source": source, "metadata": _quizgen_metadata(cell)})
    return {"cells": cells, "nbformat": 4}


def grade(paths: list[Path], *, lab_id: str, out: Path, content: Path | None = None, workers: int = 1,
          resume: bool = False, rescore: bool = False, limits: Limits = Limits(), cache_dir: Path | None = None,
          progress: Callable[[dict], None] | None = None, isolation: Isolation | None = None,
          on_reference: Callable[[dict], None] | None = None, scheduler: str | None = None,
          draw_seed: Callable[[str], int] | None = None, cannot_run: str | None = None) -> GradeReport:
    """Grade every submission in ``paths``: here, ``workers`` at a time, or on the Dask cluster whose scheduler
    is at ``scheduler`` (quizgen.grade.cluster). ``rescore`` scores each submission from its stored harvest
    where it can (harvest.py) and runs only the others; ``cannot_run`` (a sentence) reports every
    submission that would need a run as an environment error instead. ``progress`` receives events:
    {"event": "started" | "finished" | "workers" | "refused", ...}. ``draw_seed(learner)`` picks the seed of
    a submission's unseen inputs (default: a fresh random one; tests fix it to compare two runs)."""
    from quizgen.lab import cache, runner
    from quizgen.notebooks.recipe import flat_metrics, plan_for

    course = _course(content, cache_dir)
    spec = runner.get_lab(lab_id, course.labs if course else None)
    concept = next((c for c in course.concepts if c.lab == lab_id), None) if course else None
    plan = plan_for(spec, concept, files=course.folder if course else None)
    reference_results = None
    if plan.measurements or plan.predictions:
        reference_results = runner.run_lab(lab_id, cache_dir=cache_dir or cache.DEFAULT_CACHE_DIR, labs=spec.folder.parent)
        if on_reference:
            on_reference(reference_results)
    reference = flat_metrics(reference_results) if reference_results else None
    if scheduler is None:
        isolation = isolation or probe_isolation()
    submissions = collect(paths)
    header = {
        "lab": spec.id, "title": spec.title, "concept": plan.concept_id,
        "isolation": isolation.to_json() if scheduler is None else {
            "mode": "cluster", "detail": f"each submission ran in the sandbox of the Dask worker that graded it "
                                         f"(scheduler {scheduler}); cluster.workers says what each one guarantees",
            "cgroups": "per worker", "seccomp": None, "guarantees": []},
        "limits": asdict(limits) | {"cpu_seconds": limits.cpu_seconds},
        "reference": None if reference_results is None else {
            "key": reference_results.get("key"), "config_hash": reference_results.get("config_hash"),
            "cached": reference_results.get("cached"), "seed": reference_results.get("seed"),
            "threads": reference_results.get("threads")},
        "grader": harvest.grader_version(),
        "sandbox": harvest.sandbox_version(),
    }
    out.mkdir(parents=True, exist_ok=True)
    results = _Results(out, header)
    report = GradeReport(out, header, results.records)
    # What the sandbox must not see: the lab folder holds the solutions and the unseen inputs' code.
    secret_paths = [p.resolve() for p in [out, cache_dir or cache.DEFAULT_CACHE_DIR, spec.folder.parent,
                                          *(s.path.parent for s in submissions)] + ([content] if content else [])]
    variables = ["ANSWERS", "MEASURED", *plan.config_names]
    context = _Context(
        plan, spec, reference, isolation, limits, secret_paths, resume, out, rescore=rescore,
        draw_seed=draw_seed or (lambda learner: secrets.randbits(63)), cannot_run=cannot_run,
        lab_files=harvest.lab_files_hash(spec.folder), variables=variables,
        fingerprint=harvest.run_fingerprint(_config_hash(spec.config), asdict(limits), variables,
                                            [exercise.name for exercise in plan.exercises]),
        emit=progress or (lambda event: None), sandboxes=workers)
    _quiet_torch()

    def on_record(record: dict) -> None:
        results.add(record)
        context.emit({"event": "finished", "record": record})

    try:
        if scheduler is not None:
            from quizgen.grade import cluster

            cluster.grade(submissions, context, scheduler, on_record, header)
        else:
            _grade_here(submissions, context, workers, on_record)
    finally:
        results.write()
        context.close()
    report.records.sort(key=lambda record: record["learner"])
    return report


def _grade_here(submissions: list[Submission], context: "_Context", workers: int, on_record) -> None:
    """Every submission on this machine, ``workers`` sandboxes at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_grade_one, submission, context) for submission in submissions]
        try:
            for future in as_completed(futures):
                on_record(future.result())
        except BaseException:
            # Ctrl-C: stop now rather than wait for every running notebook to finish.
            pool.shutdown(wait=False, cancel_futures=True)
            kill_all(context.stop)
            raise


class _Results:
    """The records so far, and results.json and grades.csv rewritten from them as they come in: at once for
    the first, then at most about once a second (each learner's own files are written at once, and are
    what --resume reads), so that a class of thousands does not rewrite a growing file per submission."""

    def __init__(self, out: Path, header: dict):
        self.out, self.header = out, header
        self.records: list[dict] = []
        self.lock = threading.Lock()
        self.written_at, self.cost = -math.inf, 0.0

    def add(self, record: dict) -> None:
        with self.lock:
            self.records.append(record)
            if time.monotonic() - self.written_at >= max(1.0, 4 * self.cost):
                self._write()

    def write(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        started = time.monotonic()
        reports.write_summary(self.out, self.records, self.header)
        self.written_at, self.cost = time.monotonic(), time.monotonic() - started


def for_learner(plan, learner: str):
    """The plan with each generated question as the learner's own variant, which their personal notebook
    shows (quizgen.variants.learner_variant): the learner id, from the submission's file name, decides it,
    never the notebook."""
    if not any(question.variants for question in plan.questions):
        return plan
    from dataclasses import replace

    return replace(plan, questions=tuple(learner_variant(q, plan.concept_id, learner) for q in plan.questions))


def _course(content: Path | None, cache_dir: Path | None = None):
    if content is None or not Path(content).is_dir():
        return None
    from quizgen.build import with_measured_answers
    from quizgen.loader import load_course

    # The answers the labs measure come from the cached runs, as in the build the notebooks came from.
    return with_measured_answers(load_course(Path(content)), None, cache_dir)[0]


def _quiet_torch() -> None:
    # The grader's own tensor work (expected outputs of hidden tests) is tiny; leave the cores to sandboxes.
    import torch

    torch.set_num_threads(1)


def _config_hash(config: dict) -> str:
    from quizgen.lab.cache import settings_hash

    return settings_hash(config)


@dataclass
class _Context:
    plan: object
    spec: object
    reference: dict | None
    isolation: Isolation | None  # None on a cluster: each worker has its own
    limits: Limits
    secret_paths: list[Path]
    resume: bool
    out: Path
    rescore: bool = False
    draw_seed: Callable[[str], int] = lambda learner: secrets.randbits(63)
    cannot_run: str | None = None
    lab_files: str = ""
    variables: list[str] = field(default_factory=list)
    fingerprint: str = ""
    emit: Callable[[dict], None] = lambda event: None
    sandboxes: int = 1  # at once, on this machine
    stop: threading.Event = field(default_factory=threading.Event)
    _runtime: Runtime | None = None
    _cgroups: jail.Cgroups | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sandbox_here(self) -> tuple[Runtime, jail.Cgroups | None]:
        """The runtime copy and the batch's cgroups, made at the first notebook that runs here (a rescore
        from stored harvests makes neither)."""
        with self._lock:
            if self._runtime is None:
                self._runtime = Runtime()
                if self.isolation is not None and self.isolation.cgroups != "none":
                    self._cgroups = jail.Cgroups.probe(self.sandboxes)
            return self._runtime, self._cgroups

    def close(self) -> None:
        with self._lock:
            if self._runtime is not None:
                self._runtime.close()
            if self._cgroups is not None:
                self._cgroups.close()
            self._runtime = self._cgroups = None

    def key_for(self, plan) -> str:
        return harvest.scoring_key(plan, self.lab_files, self.reference)


@dataclass
class Job:
    """One submission on its way: read and checked here, then run (here, on a worker) or taken from its
    stored harvest, then scored here."""

    submission: Submission
    started: float
    data: bytes | str
    digest: str
    plan: object
    missing: list = field(default_factory=list)
    predictions: dict | str | None = None
    cases: dict = field(default_factory=dict)  # exercise name -> its unseen inputs (Cases, with expected outputs)
    seed: int | None = None
    inputs: str = ""  # hash of the encoded unseen inputs
    task: dict | None = None  # what a sandbox runs: cells, variables, encoded unseen inputs, limits
    outcome: Outcome | None = None
    output_tail: str | None = ""
    finished: dict | None = None  # --resume: the record of an earlier run of the same file
    from_harvest: bool = False
    rerun: str | None = None  # --rescore: why its harvest could not be used
    worker: str | None = None  # where it ran: "local", a Dask worker's address; None when nothing ran


def _quizgen_metadata(cell: dict) -> dict:
    """Of a cell's metadata, only what the grader reads (its role and key), and only as plain strings."""
    metadata = cell.get("metadata")
    quizgen = metadata.get("quizgen") if isinstance(metadata, dict) else None
    if not isinstance(quizgen, dict):
        return {}
    kept = {name: quizgen[name] for name in ("role", "key") if isinstance(quizgen.get(name), str)}
    return {"quizgen": kept}


def _grade_one(submission: Submission, context: _Context) -> dict:
    job = read(submission)
    try:
        prepare(job, context)
        if job.finished:
            return job.finished | {"resumed": True}
        if job.outcome is None:
            job.outcome = _run_here(job, context)
            job.output_tail = job.outcome.output_tail
        return conclude(job, context)
    except Exception as error:  # noqa: BLE001 - our bug must not stop the batch; it is reported, not hidden
        return conclude_failure(job, context, error)


def read(submission: Submission) -> Job:
    data = read_submission(submission.path)
    digest = hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()
    return Job(submission, time.perf_counter(), data, digest, plan=None)


def prepare(job: Job, context: _Context) -> None:
    """Everything about a submission that needs no run: the learner's plan, an earlier record (--resume),
    whether the file is a notebook, its missing cells and written predictions, its stored harvest
    (--rescore), and otherwise its unseen inputs and the task a sandbox will run."""
    learner = job.submission.learner
    job.plan = for_learner(context.plan, learner)
    if context.resume and (finished := reports.load_finished(context.out, learner, job.digest)):
        job.finished = finished
        return
    notebook = read_notebook(job.data) if isinstance(job.data, bytes) else job.data
    if isinstance(notebook, str):
        job.outcome = Outcome(status=NOT_A_NOTEBOOK, message=notebook)
        job.cases = {exercise.name: [] for exercise in job.plan.exercises}
        return
    job.missing = scoring.missing_cells(job.plan, notebook)
    job.predictions = scoring.written_predictions(notebook)
    cells = [[index, cell["source"]] for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]
    if context.rescore and _take_harvest(job, context, cells):
        return
    _draw(job, job.plan, context.draw_seed(learner))
    job.task = {"cells": cells, "variables": context.variables, "exercise_inputs": _encoded(job.cases),
                "limits": asdict(context.limits), "sandbox": harvest.sandbox_version()}
    if context.cannot_run:
        job.outcome = Outcome(status=ENVIRONMENT_ERROR, message=context.cannot_run)


def _draw(job: Job, plan, seed: int) -> None:
    job.seed = seed
    job.cases = {exercise.name: exercise.draw(seed) for exercise in plan.exercises}
    job.inputs = harvest.text_hash(_encoded(job.cases))


def _encoded(cases: dict) -> dict:
    return {name: [[encode(argument) for argument in case.arguments] for case in group] for name, group in cases.items()}


def _take_harvest(job: Job, context: _Context, cells: list) -> bool:
    """The stored outcome of this very file's earlier run, when it can stand for a new run (harvest.py)."""
    stored = harvest.load(context.out, job.submission.learner)
    why = harvest.why_not_reusable(stored, job.digest, context.fingerprint)
    if why is None:
        _draw(job, job.plan, stored["seed"])
        if job.inputs != stored.get("inputs"):
            why = "the hidden tests' unseen inputs changed"
        else:
            try:
                job.outcome = harvest.outcome_from_json(
                    stored.get("outcome"), {"cells": cells, "exercise_inputs": _encoded(job.cases)})
            except untrusted.Rejected:
                why = "its stored harvest could not be read"
    if why is not None:
        job.rerun, job.outcome, job.seed, job.cases = why, None, None, {}
        return False
    job.from_harvest, job.output_tail = True, None
    worker = stored.get("worker")
    job.worker = untrusted.clean_text(worker, 200) if isinstance(worker, str) else None
    return True


def _run_here(job: Job, context: _Context) -> Outcome:
    job.worker = "local"
    runtime, cgroups = context.sandbox_here()
    with slots.lease() as slot:
        context.emit({"event": "started", "learner": job.submission.learner, "worker": "local"})
        return run_notebook(
            [(index, source) for index, source in job.task["cells"]], runtime=runtime, isolation=context.isolation,
            limits=context.limits, slot=slot, variables=job.task["variables"],
            exercise_inputs=job.task["exercise_inputs"], secret_paths=context.secret_paths, cgroups=cgroups,
            stop=context.stop)


def conclude(job: Job, context: _Context) -> dict:
    """Score the outcome here, write the learner's files, and keep what the run harvested."""
    outcome = job.outcome
    status, items = scoring.score(job.plan, outcome, exercise_cases=job.cases, reference=context.reference,
                                  lab_config=context.spec.config, missing=job.missing, predictions=job.predictions)
    record = _record(job.submission, job.digest, outcome, status, items, job.missing, job.predictions)
    record["scored_by"] = {"grader": harvest.grader_version(), "key": context.key_for(job.plan)}
    record["worker"] = job.worker
    if job.from_harvest:
        record["rescored"] = True
    elif job.rerun:
        record["rerun"] = job.rerun
    _finish(record, job, context)
    if job.task is not None and not job.from_harvest and outcome.status != ENVIRONMENT_ERROR and not context.cannot_run:
        harvest.store(context.out, job.submission.learner, sha256=job.digest, fingerprint=context.fingerprint,
                      seed=job.seed, inputs=job.inputs, outcome=outcome, worker=job.worker)
    return record


def conclude_failure(job: Job, context: _Context, error: BaseException | str) -> dict:
    """An environment error: our bug, or (on a cluster) a worker that failed or could not sandbox it."""
    if isinstance(error, str):
        message = error
    else:
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        message = f"the grader failed: {untrusted.clean_text(detail, 500)}"
    record = _record(job.submission, job.digest, Outcome(status=ENVIRONMENT_ERROR, message=message),
                     ENVIRONMENT_ERROR, [], [])
    record["worker"] = job.worker
    job.output_tail = ""
    _finish(record, job, context)
    return record


def _finish(record: dict, job: Job, context: _Context) -> None:
    # Everything this submission cost the grader: sandbox, harvest, hidden inputs, scoring.
    record["timings"]["grading_s"] = time.perf_counter() - job.started
    record["timings"]["overhead_s"] = max(0.0, record["timings"]["grading_s"] - record["timings"]["execution_s"])
    reports.write_submission(context.out, record, context.spec.title, job.output_tail)


def _record(submission: Submission, digest: str, outcome: Outcome, status: str, items, missing,
            predictions=None) -> dict:
    answers = json.dumps({"variables": outcome.variables, "predictions": predictions})
    return {
        "learner": submission.learner,
        "file": untrusted.clean_text(os.fsencode(submission.path).decode("utf-8", "replace"), 1000),
        "sha256": digest,
        "status": status,
        "message": outcome.message,
        "score": sum(item.earned for item in items),
        "points_possible": sum(item.points for item in items),
        "items": [item.to_json() for item in items],
        "missing_cells": missing,
        "cells": outcome.cells,
        "answers": json.loads(answers) if len(answers) <= MAX_ANSWERS_CHARS else {"truncated": True},
        "timings": {"execution_s": outcome.execution_s, "sandbox_s": outcome.total_s},
    }
