"""Grade a batch: every submission in its own sandbox, in parallel, scored against one reference run.

The lab's reference results are looked up (or computed once) before the first submission and reused for
all of them: no submission retrains the reference. One bad submission never stops the batch; each
learner's files are written as soon as they are graded, and the summary after every submission, so an
interrupted run keeps what it finished and `--resume` picks up from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
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

from quizgen.grade import jail, reports, scoring, untrusted
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
          resume: bool = False, limits: Limits = Limits(), cache_dir: Path | None = None,
          progress: Callable[[dict], None] | None = None, isolation: Isolation | None = None,
          on_reference: Callable[[dict], None] | None = None) -> GradeReport:
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
    isolation = isolation or probe_isolation()
    submissions = collect(paths)
    header = {
        "lab": spec.id, "title": spec.title, "concept": plan.concept_id,
        "isolation": isolation.to_json(),
        "limits": asdict(limits) | {"cpu_seconds": limits.cpu_seconds},
        "reference": None if reference_results is None else {
            "key": reference_results.get("key"), "config_hash": reference_results.get("config_hash"),
            "cached": reference_results.get("cached"), "seed": reference_results.get("seed"),
            "threads": reference_results.get("threads")},
    }
    report = GradeReport(out, header)
    out.mkdir(parents=True, exist_ok=True)
    # What the sandbox must not see: the lab folder holds the solutions and the unseen inputs' code.
    secret_paths = [p.resolve() for p in [out, cache_dir or cache.DEFAULT_CACHE_DIR, spec.folder.parent,
                                          *(s.path.parent for s in submissions)] + ([content] if content else [])]
    context = _Context(plan, spec, reference, isolation, limits, secret_paths, resume, out)
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(workers):
        slots.put(slot)
    lock = threading.Lock()
    _quiet_torch()
    context.runtime = Runtime()
    context.cgroups = jail.Cgroups.probe() if isolation.cgroups != "none" else None
    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_grade_one, submission, context, slots) for submission in submissions]
            try:
                for future in as_completed(futures):
                    record = future.result()
                    with lock:
                        report.records.append(record)
                        reports.write_summary(out, report.records, header)
                    if progress:
                        progress(record)
            except BaseException:
                # Ctrl-C: stop now rather than wait for every running notebook to finish.
                pool.shutdown(wait=False, cancel_futures=True)
                kill_all(context.stop)
                raise
    finally:
        context.runtime.close()
        if context.cgroups:
            context.cgroups.close()
    report.records.sort(key=lambda record: record["learner"])
    return report


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


@dataclass
class _Context:
    plan: object
    spec: object
    reference: dict | None
    isolation: Isolation
    limits: Limits
    secret_paths: list[Path]
    resume: bool
    out: Path
    runtime: Runtime | None = None
    cgroups: jail.Cgroups | None = None
    stop: threading.Event = field(default_factory=threading.Event)



def _quizgen_metadata(cell: dict) -> dict:
    """Of a cell's metadata, only what the grader reads (its role and key), and only as plain strings."""
    metadata = cell.get("metadata")
    quizgen = metadata.get("quizgen") if isinstance(metadata, dict) else None
    if not isinstance(quizgen, dict):
        return {}
    kept = {name: quizgen[name] for name in ("role", "key") if isinstance(quizgen.get(name), str)}
    return {"quizgen": kept}


def _grade_one(submission: Submission, context: _Context, slots: queue.Queue) -> dict:
    started = time.perf_counter()
    data = read_submission(submission.path)
    digest = hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()
    try:
        if context.resume and (finished := reports.load_finished(context.out, submission.learner, digest)):
            return finished | {"resumed": True}
        record, output_tail = _run_and_score(submission, data, digest, context, slots)
    except Exception as error:  # noqa: BLE001 - our bug must not stop the batch; it is reported, not hidden
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        outcome = Outcome(status=ENVIRONMENT_ERROR, message=f"the grader failed: {untrusted.clean_text(detail, 500)}")
        record = _record(submission, digest, outcome, ENVIRONMENT_ERROR, [], [])
        output_tail = ""
    # Everything this submission cost the grader: sandbox, harvest, hidden inputs, scoring.
    record["timings"]["grading_s"] = time.perf_counter() - started
    record["timings"]["overhead_s"] = max(0.0, record["timings"]["grading_s"] - record["timings"]["execution_s"])
    reports.write_submission(context.out, record, context.spec.title, output_tail)
    return record


def _run_and_score(submission, data, digest, context: _Context, slots) -> tuple[dict, str]:
    plan = for_learner(context.plan, submission.learner)
    notebook = read_notebook(data) if isinstance(data, bytes) else data
    if isinstance(notebook, str):
        outcome, missing, predictions = Outcome(status=NOT_A_NOTEBOOK, message=notebook), [], None
        exercise_cases = {exercise.name: [] for exercise in plan.exercises}
    else:
        missing = scoring.missing_cells(plan, notebook)
        predictions = scoring.written_predictions(notebook)
        exercise_cases = {exercise.name: exercise.draw(secrets.randbits(64)) for exercise in plan.exercises}
        cells = [(index, cell["source"]) for index, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]
        slot = slots.get()
        try:
            outcome = run_notebook(
                cells, runtime=context.runtime, isolation=context.isolation,
                limits=context.limits, slot=slot, variables=["ANSWERS", "MEASURED", *plan.config_names],
                exercise_inputs={name: [[encode(argument) for argument in case.arguments] for case in cases]
                                 for name, cases in exercise_cases.items()},
                secret_paths=context.secret_paths, cgroups=context.cgroups, stop=context.stop)
        finally:
            slots.put(slot)
    status, items = scoring.score(plan, outcome, exercise_cases=exercise_cases, reference=context.reference,
                                  lab_config=context.spec.config, missing=missing, predictions=predictions)
    return _record(submission, digest, outcome, status, items, missing, predictions), outcome.output_tail


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
