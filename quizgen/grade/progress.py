"""What `quizgen grade` shows while it grades: a bar with done / running / failed and an ETA, each
worker's status with --verbose, and the summary at the end. It keeps the counts and words; the command
line (cli.py) decides where they go.

"failed" counts the submissions that ended with another status than graded (the summary breaks them
down by status). The ETA comes from the submissions that ran in this batch (those resumed or rescored
from their harvest take no time and would make it look shorter than it is).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from quizgen.grade.sandbox import GRADED


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


class Progress:
    def __init__(self, total: int, write: Callable[..., None], *, live: bool, verbose: bool,
                 clock: Callable[[], float] = time.monotonic):
        self.total, self.write, self.live, self.verbose, self.clock = total, write, live, verbose, clock
        self.started = clock()
        self.done = self.failed = self.ran = 0
        self.ran_since: float | None = None  # when the first run began
        self.running: dict[str, str] = {}  # learner -> worker (from "started" events, on this machine)
        self.on_workers: dict[str, list[str]] | None = None  # worker -> learners it runs (on a cluster)
        self.per_worker: dict[str, int] = {}  # worker -> submissions it ran
        self.statuses: dict[str, int] = {}
        self.reused = {"resumed": 0, "rescored": 0}
        self.reruns: dict[str, int] = {}
        self.refusals: dict[str, str] = {}
        self.lock = threading.Lock()
        self.next_plain_line = 0.0
        self.shown = ""

    # --- events from the runner (any thread) -----------------------------------------------------------------

    def __call__(self, event: dict) -> None:
        with self.lock:
            kind = event.get("event")
            if kind == "started":
                self.ran_since = self.ran_since or self.clock()
                self.running[event["learner"]] = event["worker"]
            elif kind == "finished":
                self._finished(event["record"])
            elif kind == "workers":
                self.ran_since = self.ran_since or (self.clock() if any(event["workers"].values()) else None)
                if self.verbose and event["workers"] != self.on_workers:
                    self._say(*(f"  {worker}: {', '.join(learners) or 'idle'} ({self.per_worker.get(worker, 0)} done)"
                                for worker, learners in sorted(event["workers"].items())))
                self.on_workers = event["workers"]
            elif kind == "refused":
                self.refusals[event["worker"]] = event["message"]
                self._say(f"worker {event['worker']} refuses to grade: {event['message']}")
            self._show()

    def _finished(self, record: dict) -> None:
        learner, status = record["learner"], record["status"]
        self.running.pop(learner, None)
        self.done += 1
        self.failed += status != GRADED
        self.statuses[status] = self.statuses.get(status, 0) + 1
        reused = "resumed" if record.get("resumed") else "rescored" if record.get("rescored") else None
        if reused:
            self.reused[reused] += 1
        elif record.get("worker"):
            self.ran += 1
            self.per_worker[record["worker"]] = self.per_worker.get(record["worker"], 0) + 1
        if record.get("rerun"):
            self.reruns[record["rerun"]] = self.reruns.get(record["rerun"], 0) + 1
        if self.verbose:
            score = "" if status == "environment error" else f" {record['score']:g}/{record['points_possible']:g}"
            where = "resumed" if reused == "resumed" else "from its harvest" if reused else \
                f"{record.get('worker') or 'not run'}, {record['timings']['grading_s']:.0f} s"
            self._say(f"{learner}: {status}{score} ({where})")

    # --- the bar ---------------------------------------------------------------------------------------------

    def eta(self) -> str:
        remaining = self.total - self.done
        if not remaining:
            return "0s"
        if not self.ran or self.ran_since is None:
            return "--"
        per_submission = (self.clock() - self.ran_since) / self.ran
        return duration(per_submission * remaining)

    def running_count(self) -> int:
        if self.on_workers is not None:
            return sum(len(learners) for learners in self.on_workers.values())
        return len(self.running)

    def line(self, width: int = 24) -> str:
        filled = int(width * self.done / self.total) if self.total else width
        return (f"grading [{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} done · "
                f"{self.running_count()} running · {self.failed} failed · ETA {self.eta()}")

    def _say(self, *lines: str) -> None:
        if self.live and self.shown:
            self.write("\r\x1b[K", newline=False)
            self.shown = ""
        for line in lines:
            self.write(line)

    def _show(self) -> None:
        line = self.line()
        if self.live:
            if line != self.shown:
                self.write("\r\x1b[K" + line, newline=False)
                self.shown = line
        elif self.clock() >= self.next_plain_line or self.done == self.total:
            # Into a log file: a line now and then, not a redrawn bar.
            if line != self.shown:
                self.write(line)
                self.shown = line
            self.next_plain_line = self.clock() + 30

    def close(self) -> None:
        with self.lock:
            if self.live and self.shown:
                self.write("")
                self.shown = ""

    # --- the summary -----------------------------------------------------------------------------------------

    def summary(self) -> list[str]:
        lines = [f"time: {duration(self.clock() - self.started)}; ran {self.ran}"
                 + (f" on {len(self.per_worker)} workers ("
                    + ", ".join(f"{worker}: {count}" for worker, count in sorted(self.per_worker.items())) + ")"
                    if set(self.per_worker) - {"local"} else "")
                 + "".join(f", {count} {kind}" for kind, count in self.reused.items() if count)]
        if self.reruns:
            lines.append("ran again: " + "; ".join(f"{count} because {why}" for why, count in sorted(self.reruns.items())))
        for worker, message in sorted(self.refusals.items()):
            lines.append(f"refused by {worker}: {message}")
        return lines
