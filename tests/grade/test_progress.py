"""What `quizgen grade` shows while it grades: done / running / failed and an ETA from the submissions that
ran; each result and each worker's status with --verbose; a refusal always; a summary at the end."""

from __future__ import annotations

from quizgen.grade.progress import Progress, duration


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def finished(learner: str, status: str = "graded", worker: str | None = "local", **extra) -> dict:
    return {"event": "finished", "record": {"learner": learner, "status": status, "score": 3, "points_possible": 5,
                                            "worker": worker, "timings": {"grading_s": 30.0}, **extra}}


def test_the_bar_counts_and_estimates_from_the_runs():
    clock, lines = Clock(), []
    progress = Progress(10, lambda text, newline=True: lines.append(text), live=False, verbose=False, clock=clock)
    assert progress.line().endswith("0/10 done · 0 running · 0 failed · ETA --")
    progress(finished("resumed-one", resumed=True))  # takes no time: not a basis for the ETA
    progress({"event": "started", "learner": "a", "worker": "local"})
    progress({"event": "started", "learner": "b", "worker": "local"})
    clock.now += 60
    progress(finished("a"))
    progress(finished("b", status="cell timeout"))
    assert progress.line() == "grading [#######-----------------] 3/10 done · 0 running · 1 failed · ETA 3m30s"
    assert lines and all("\x1b" not in line for line in lines)  # into a log: plain lines, no redrawing


def test_verbose_says_each_result_and_what_each_worker_runs():
    lines = []
    progress = Progress(3, lambda text, newline=True: lines.append(text), live=False, verbose=True, clock=Clock())
    progress({"event": "workers", "workers": {"tcp://w1:1": ["ada"], "tcp://w2:2": []}})
    progress(finished("ada", worker="tcp://w1:1"))
    progress({"event": "refused", "worker": "tcp://w3:3", "message": "this worker cannot build the sandbox: no bwrap"})
    assert "  tcp://w1:1: ada (0 done)" in lines and "  tcp://w2:2: idle (0 done)" in lines
    assert "ada: graded 3/5 (tcp://w1:1, 30 s)" in lines
    assert "worker tcp://w3:3 refuses to grade: this worker cannot build the sandbox: no bwrap" in lines
    # The scheduler's last word still has ada running, until its next status.
    assert progress.line().endswith("1/3 done · 1 running · 0 failed · ETA 0s")
    summary = progress.summary()
    assert summary[0].startswith("time: 0s; ran 1 on 1 workers (tcp://w1:1: 1)")
    assert summary[-1] == "refused by tcp://w3:3: this worker cannot build the sandbox: no bwrap"


def test_a_terminal_gets_one_redrawn_line():
    written = []
    progress = Progress(2, lambda text, newline=True: written.append((text, newline)), live=True, verbose=False,
                        clock=Clock())
    progress(finished("a"))
    progress(finished("b"))
    progress.close()
    assert all(text.startswith("\r\x1b[K") and not newline for text, newline in written[:-1])
    assert written[-1] == ("", True)


def test_durations_read_as_times():
    assert [duration(s) for s in (0, 59.4, 61, 3600 * 2 + 60 * 5)] == ["0s", "59s", "1m01s", "2h05m"]
