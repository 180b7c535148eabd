"""Grading on a Dask cluster: `quizgen grade … --scheduler tcp://HOST:PORT`.

The grader (this process) reads, checks and scores every submission, exactly as a local run does
(runner.py); only the run itself goes to a worker. A task carries the submission by content — its
code cells, the answer variables to collect, the encoded unseen inputs, the limits and the sandbox
version — so workers need no shared file system, and never see a key, an expected output, the
reference run or another submission's file. A worker runs the task in the same sandbox a local run
uses (sandbox.run_notebook, with its own probe, runtime copy, cgroups and a machine-wide slot) and
sends back the outcome as one JSON text.

- A worker that cannot build the sandbox, or runs another sandbox version than the grader, refuses the
  task with a plain sentence; the grader says it once, sends the submission to the other workers, and
  reports it as an environment error when no worker is left — it is never run outside a sandbox.
- What a worker sends back is read like anything from a sandbox: one JSON text of bounded size, parsed
  with bounded depth and items, every field rebuilt and checked against the task the grader sent
  (harvest.outcome_from_json); a reply that fails is an environment error, retried by `--resume`.
  Statuses are the sandbox's own (decided outside the notebook, on the worker); scores are computed
  here, by scoring.py, from nothing but the checked outcome.
- Each result is concluded (scored, its files written) as it arrives, so Ctrl-C, a lost worker or a
  lost scheduler keep everything finished; Dask reruns the task of a worker that died mid-task, and
  `--resume` grades what was left.

The Dask cluster itself is the grader's infrastructure: Dask runs whatever a client sends it and
deserialises with pickle, so only the grader's machines may reach the scheduler (a private network, or
TLS with `--scheduler tls://…` and a Dask security configuration). A notebook cannot reach it: its
sandbox has no network.
"""

from __future__ import annotations

import atexit
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

from quizgen.errors import QuizgenError
from quizgen.grade import harvest, untrusted

CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
WORKERS_TIMEOUT = 60  # seconds to wait for a first worker
POLL = 0.2  # seconds between two looks at finished tasks
STATUS_EVERY = 1.0  # seconds between two reports of what each worker runs


# --- on the grader ------------------------------------------------------------------------------------------


def connect(address: str):
    try:
        from distributed import Client
    except ImportError:
        raise QuizgenError("grading on a cluster needs Dask: pip install 'quizgen[cluster]'") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise QuizgenError(f"cannot reach the Dask scheduler at {address}: {error or type(error).__name__}") from None


def _workers(client, refused: dict) -> list[str]:
    return sorted(address for address in client.nthreads() if address not in refused)


def grade(submissions, context, address: str, on_record: Callable[[dict], None], header: dict) -> None:
    """Grade ``submissions`` on the cluster of ``address``, concluding each here as it comes back."""
    from distributed import as_completed

    from quizgen.grade import runner

    client = connect(address)
    refused: dict[str, str] = {}  # worker address -> why it cannot grade
    workers_seen: dict[str, dict] = {}  # worker address -> its isolation, as it reported it
    header["cluster"] = {"scheduler": address, "workers": workers_seen, "refused": refused}
    in_flight: dict = {}  # future -> job
    done = as_completed(loop=client.loop)
    pending = iter(submissions)
    try:
        deadline = time.monotonic() + WORKERS_TIMEOUT
        while not client.nthreads():
            if time.monotonic() > deadline:
                raise QuizgenError(f"the Dask scheduler at {address} has no workers (waited {WORKERS_TIMEOUT} s): "
                                   "start some with `dask worker " + address + "`")
            time.sleep(POLL)

        def send(job) -> None:
            allowed = _workers(client, refused) if refused else None  # once a worker refused: the others
            if allowed == []:
                why = "; ".join(f"{worker}: {sentence}" for worker, sentence in sorted(refused.items()))
                on_record(runner.conclude_failure(job, context, f"no worker could sandbox it ({why})"))
                return
            key = f"quizgen-grade-{job.submission.learner}-{uuid.uuid4().hex[:12]}"
            future = client.submit(run_task, job.task, key=key, pure=False, workers=allowed,
                                   allow_other_workers=False)
            in_flight[future] = job
            done.add(future)

        def fill() -> None:
            # At most twice the cluster's threads in flight (workers that join later count from then on).
            capacity = max(4, 2 * sum(client.nthreads().values()))
            while len(in_flight) < capacity:
                submission = next(pending, None)
                if submission is None:
                    return
                job = runner.read(submission)
                try:
                    runner.prepare(job, context)
                    if job.finished:
                        on_record(job.finished | {"resumed": True})
                    elif job.outcome is not None:  # not a notebook, its harvest, or nothing may run
                        on_record(runner.conclude(job, context))
                    else:
                        send(job)
                except Exception as error:  # noqa: BLE001 - our bug must not stop the batch
                    on_record(runner.conclude_failure(job, context, error))

        fill()
        next_status = 0.0
        while in_flight:
            ready = done.next_batch(block=False) if done.has_ready() else []
            if not ready:
                if time.monotonic() >= next_status:
                    next_status = time.monotonic() + STATUS_EVERY
                    _report_status(client, in_flight, context)
                time.sleep(POLL)
                continue
            for future in ready:
                job = in_flight.pop(future)
                try:
                    reply = _reply(future, job)
                except Exception as error:  # noqa: BLE001 - a worker's failure is this submission's, not the batch's
                    future.release()
                    on_record(runner.conclude_failure(job, context, _failure(error)))
                    continue
                future.release()
                if "refused" in reply:
                    if reply["worker"] not in refused:
                        refused[reply["worker"]] = reply["refused"]
                        context.emit({"event": "refused", "worker": reply["worker"], "message": reply["refused"]})
                    send(job)
                    continue
                workers_seen.setdefault(reply["worker"], reply["isolation"])
                job.outcome, job.output_tail, job.worker = reply["outcome"], reply["output_tail"], reply["worker"]
                try:
                    on_record(runner.conclude(job, context))
                except Exception as error:  # noqa: BLE001
                    on_record(runner.conclude_failure(job, context, error))
            fill()
    finally:
        for future in list(in_flight):
            future.cancel()
        client.close()


def _failure(error: BaseException) -> str:
    """A task that failed on its worker (a worker lost too often, our bug there): in a sentence."""
    name = type(error).__name__
    if name == "KilledWorker":
        return "its worker died while running it, every time Dask tried (regrade it with --resume)"
    if "Cancelled" in name:
        return "the cluster dropped it (was the scheduler lost?); regrade it with --resume"
    return f"its worker failed: {untrusted.clean_text(f'{name}: {error}', 500)}"


def _reply(future, job) -> dict:
    """A worker's reply, bounded and checked; raises on a failed task or a reply that does not check out."""
    data = future.result()
    if not isinstance(data, bytes) or len(data) > harvest.MAX_RESULT_BYTES:
        raise ValueError("the worker's reply is not a bounded text")
    # Strings up to the length of a log's tail (64 KiB); the sandbox cut every answer to 20,000 characters.
    reply = untrusted.parse(data, harvest.MAX_RESULT_BYTES, max_items=4 * untrusted.MAX_ITEMS,
                            max_text=harvest.OUTPUT_TAIL)
    if not isinstance(reply, dict) or not isinstance(reply.get("worker"), str):
        raise ValueError("the worker's reply is not one")
    worker = untrusted.clean_text(reply["worker"], 200)
    if isinstance(reply.get("refused"), str):
        return {"worker": worker, "refused": untrusted.clean_text(reply["refused"], 1000)}
    isolation = reply.get("isolation")
    return {"worker": worker,
            "isolation": {key: isolation.get(key) for key in ("mode", "detail", "cgroups", "seccomp", "guarantees")}
            if isinstance(isolation, dict) else {},
            "outcome": harvest.outcome_from_json(reply.get("outcome"), job.task),
            "output_tail": harvest.output_tail_from(reply.get("output_tail"))}


def _report_status(client, in_flight: dict, context) -> None:
    """What each worker is running now, by learner (the scheduler's view)."""
    try:
        processing = client.processing()
    except Exception:  # noqa: BLE001 - a status line is not worth stopping for
        return
    learners = {future.key: job.submission.learner for future, job in in_flight.items()}
    context.emit({"event": "workers", "workers": {
        worker: [learners[key] for key in keys if key in learners] for worker, keys in processing.items()}})


# --- on a worker --------------------------------------------------------------------------------------------


class _WorkerState:
    """What one worker process grades with, made at its first task: its own probe of the sandbox, a copy
    of the runtime and (as root) its cgroups."""

    def __init__(self):
        from quizgen.grade import jail
        from quizgen.grade.sandbox import Runtime, probe_isolation

        self.isolation = probe_isolation()
        self.runtime = Runtime() if self.isolation.jail else None
        self.cgroups = jail.Cgroups.probe(_threads()) if self.isolation.cgroups != "none" else None
        atexit.register(self.close)

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()
        if self.cgroups is not None:
            self.cgroups.close()


_STATE: _WorkerState | None = None
_STATE_LOCK = threading.Lock()


def _state() -> _WorkerState:
    global _STATE
    with _STATE_LOCK:
        if _STATE is None:
            _STATE = _WorkerState()
        return _STATE


def _address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()


def _threads() -> int:
    """How many tasks (sandboxes) this worker runs at once."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1


def _hidden_here() -> list[Path]:
    """What of this worker machine a sandbox must not see either: the course labs quizgen ships (their
    solutions) and the worker's scratch folder (other tasks' data)."""
    from quizgen.lab.runner import shipped_labs

    hidden = [shipped_labs()]
    try:
        from distributed import get_worker

        hidden.append(Path(get_worker().local_directory))
    except (ImportError, ValueError):
        pass
    return [path.resolve() for path in hidden if path.exists()]


def run_task(task: dict) -> bytes:
    """Run one submission's code cells in this machine's sandbox; the outcome as one JSON text."""
    from dataclasses import asdict

    from quizgen.grade import slots
    from quizgen.grade.sandbox import Limits, run_notebook

    address = _address()
    if task.get("sandbox") != harvest.sandbox_version():
        return _answer({"worker": address, "refused": (
            f"this worker runs another quizgen sandbox ({harvest.sandbox_version()}) than the grader "
            f"({task.get('sandbox')}): install the same quizgen, Python, torch and transformers versions on the "
            "grader and on every worker")})
    state = _state()
    if not state.isolation.jail:
        return _answer({"worker": address, "refused": f"this worker cannot build the sandbox: {state.isolation.detail}"})
    limits = Limits(**task["limits"])
    with slots.lease() as slot:
        outcome = run_notebook(
            [(index, source) for index, source in task["cells"]], runtime=state.runtime, isolation=state.isolation,
            limits=limits, slot=slot, variables=task["variables"], exercise_inputs=task["exercise_inputs"],
            secret_paths=_hidden_here(), cgroups=state.cgroups)
    data = asdict(outcome)
    output_tail = data.pop("output_tail")
    return _answer({"worker": address, "isolation": state.isolation.to_json(), "outcome": data,
                    "output_tail": output_tail})


def _answer(reply: dict) -> bytes:
    return json.dumps(reply).encode("utf-8", "replace")
