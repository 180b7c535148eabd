"""`quizgen grade --scheduler`: a real Dask scheduler and workers on loopback grade a batch of honest, wrong
and hostile submissions exactly as this machine does; a worker killed mid-batch loses no finished result
and `--resume` completes the batch; a worker that cannot build the sandbox refuses, in a sentence, and
nothing is graded outside a sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("nbformat")
distributed = pytest.importorskip("distributed", reason="the cluster extra is not installed: pip install -e '.[cluster]'")

import attacks  # noqa: E402
import grade_helpers as subs  # noqa: E402
from grade_helpers import ISOLATION, needs_jail  # noqa: E402
from quizgen.cli import cli  # noqa: E402
from quizgen.grade import runner  # noqa: E402
from quizgen.grade.sandbox import Limits  # noqa: E402
from quizgen.notebooks import solution_notebook  # noqa: E402

# Generous enough that a busy machine does not time out an honest cell or call in one run and not the other.
LIMITS = Limits(cell_timeout=20, wall_timeout=120, grace=3, memory_bytes=2 * 2**30, call_timeout=10)
pytestmark = [pytest.mark.slow, needs_jail]

# The attacks of attacks.py graded on the cluster too, each with what must hold (cheap ones: no 30 s waits).
ATTACKS = ["jail-escape", "forged-environment-error", "steals-request", "event-flood", "lone-surrogate",
           "source-null", "victim", "linker", "made-up-measurements", "echoes-arguments", "markup-in-errors"]


def seed_of(learner: str) -> int:
    """The same unseen inputs for a learner in both runs, so that their results can be compared."""
    return int.from_bytes(learner.encode()[:7].ljust(7, b"\0"), "big")


def local_cluster(workers: int = 2):
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    dashboard_address=":0", silence_logs=50)


def without_training(learner: str, correct: bool) -> dict:
    """``learner``'s solution notebook (their variants) without its fine-tuning (its measurements then
    fail), answered right or, with correct=False, with plausible mistakes."""
    notebook = solution_notebook(subs.plan(learner=learner))
    notebook["cells"] = [cell for cell in notebook["cells"]
                         if cell["metadata"].get("quizgen", {}).get("role") not in ("train", "code")]
    if not correct:
        for cell in notebook["cells"]:
            meta = cell["metadata"].get("quizgen", {})
            if meta.get("key") == "relative_drift" and meta.get("role") == "exercise":
                cell["source"] = "def relative_drift(theta, theta_hat):\n    return 0.1"
            elif meta.get("role") == "answer" and "'aggressive-risk'" in cell["source"]:
                cell["source"] = "ANSWERS['aggressive-risk'] = 'C'"
            elif meta.get("role") == "answer" and "'drift-ratio'" in cell["source"]:
                cell["source"] = "ANSWERS['drift-ratio'] = 'eleven'"
    return notebook


def comparable(record: dict) -> dict:
    """A record without what differs from run to run: times, and which worker ran it."""
    kept = {key: value for key, value in record.items() if key not in ("timings", "worker")}
    kept["cells"] = [{key: value for key, value in cell.items() if key != "seconds"} for cell in record["cells"]]
    return kept


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One folder of submissions graded twice: here with 2 workers, and on 2 Dask workers."""
    cache = tmp_path_factory.mktemp("cluster-cache")
    subs.store_reference(cache, subs.LAB)
    context = attacks.Context("root", tmp_path_factory.mktemp("cluster-submissions"),
                              tmp_path_factory.mktemp("cluster-grades"), cache)
    attacks.prepare(context, ATTACKS)
    for name, notebook in (("honest", without_training("honest", True)), ("wrong", without_training("wrong", False)),
                           ("sleeps-forever", subs.sleeps_forever()), ("kernel-dies", subs.kernel_dies()),
                           ("fake-marker", subs.fake_marker(subs.correct_answers())),
                           ("float-subclass", subs.float_subclass())):
        subs.write(context.folder, name, notebook)
    (context.folder / "not-json.ipynb").write_text("{'cells': [print('hello')]", encoding="utf-8")
    grade = dict(lab_id=subs.LAB, content=subs.CONTENT, cache_dir=cache, limits=LIMITS, draw_seed=seed_of)
    try:
        here = runner.grade([context.folder], out=context.out.parent / "here", workers=2, isolation=ISOLATION, **grade)
        with local_cluster() as cluster:
            started = time.monotonic()
            there = runner.grade([context.folder], out=context.out, scheduler=cluster.scheduler_address, **grade)
        attacks.finish(context, {record["learner"]: record for record in there.records}, there.header,
                       seconds=time.monotonic() - started)
        yield context, here, there
    finally:
        attacks.cleanup(context)


def test_a_cluster_grades_exactly_as_this_machine_does(batch):
    context, here, there = batch
    assert len(there.records) == len(here.records) >= len(ATTACKS) + 7
    differ = {mine["learner"]: sorted(key for key in comparable(mine) if comparable(mine)[key] != comparable(theirs)[key])
              for mine, theirs in zip(there.records, here.records) if comparable(mine) != comparable(theirs)}
    assert not differ, differ
    assert (context.out / "grades.csv").read_text() == (context.out.parent / "here" / "grades.csv").read_text()
    statuses = {record["learner"]: record["status"] for record in there.records}
    assert {name: statuses[name] for name in ("honest", "wrong", "sleeps-forever", "kernel-dies", "not-json")} == {
        "honest": "graded", "wrong": "graded", "sleeps-forever": "cell timeout", "kernel-dies": "kernel died",
        "not-json": "not a notebook"}
    honest, wrong = (next(r for r in there.records if r["learner"] == name) for name in ("honest", "wrong"))
    assert subs.earned(honest, "exercise:") == subs.possible(honest, "exercise:") > 0
    assert subs.earned(honest, "question:") == subs.possible(honest, "question:") > 0
    assert subs.earned(wrong, "exercise:relative_drift") == 0 and wrong["score"] < honest["score"]


def test_every_notebook_ran_on_a_worker_in_its_sandbox(batch):
    context, here, there = batch
    workers = there.header["cluster"]["workers"]
    assert len(workers) == 2 and all(isolation["mode"] == ISOLATION.mode for isolation in workers.values())
    ran = {record["worker"] for record in there.records if record["worker"]}
    assert ran <= set(workers) and len(ran) == 2
    assert {record["worker"] for record in here.records} <= {"local", None}
    # What no notebook ran (not a notebook, a symbolic link, a file too large) says so.
    assert all(record["worker"] is None for record in there.records if record["status"] == "not a notebook")


@pytest.mark.parametrize("name", ATTACKS)
def test_attack_on_a_cluster(batch, name):
    attacks.check(batch[0], name)


def sleeper(answer: str) -> dict:
    return subs.tiny("import time\ntime.sleep(2)", f"ANSWERS = {{'aggressive-risk': {answer!r}}}")


def test_a_killed_worker_loses_nothing_finished_and_resume_completes_the_batch(tmp_path):
    cache = tmp_path / "cache"
    subs.store_reference(cache, subs.LAB)
    folder = tmp_path / "in"
    folder.mkdir()
    learners = [f"learner-{number}" for number in range(8)]
    for number, learner in enumerate(learners):
        subs.write(folder, learner, sleeper("B" if number % 2 else "C"))
    out = tmp_path / "out"
    finished: dict[str, bytes] = {}
    with local_cluster() as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            worker_pids = client.run(os.getpid)

        def on_event(event: dict) -> None:
            if event["event"] != "finished":
                return
            learner = event["record"]["learner"]
            finished[learner] = (out / "submissions" / f"{learner}.json").read_bytes()
            if len(finished) == 2:
                os.kill(next(iter(worker_pids.values())), signal.SIGKILL)  # a worker dies mid-batch
            if len(finished) == 5:
                raise KeyboardInterrupt  # and then the instructor presses Ctrl-C

        with pytest.raises(KeyboardInterrupt):
            runner.grade([folder], lab_id=subs.LAB, out=out, content=subs.CONTENT, cache_dir=cache,
                         limits=LIMITS, scheduler=cluster.scheduler_address, progress=on_event)
        interrupted = json.loads((out / "results.json").read_text())
        assert sorted(record["learner"] for record in interrupted["submissions"]) == sorted(finished)
        assert all(record["status"] == "missing answer cell" for record in interrupted["submissions"])

        result = CliRunner().invoke(cli, ["grade", str(folder), "--lab", subs.LAB, "--out", str(out), "--resume",
                                          "--scheduler", cluster.scheduler_address, "--content", str(subs.CONTENT),
                                          "--cache-dir", str(cache), "--cell-timeout", "30"])
    assert result.exit_code == 0, result.output
    records = {record["learner"]: record for record in json.loads((out / "results.json").read_text())["submissions"]}
    assert sorted(records) == learners
    assert {learner for learner, record in records.items() if record.get("resumed")} == set(finished)
    for learner in finished:  # what was finished before the worker died is kept as it was
        assert (out / "submissions" / f"{learner}.json").read_bytes() == finished[learner]
    for number, learner in enumerate(learners):
        assert subs.earned(records[learner], "question:aggressive-risk") == number % 2, learner
    assert "8 submissions (8 missing answer cell)" in result.output


def dask_worker(address: str, *, bubblewrap: bool) -> subprocess.Popen:
    """`dask worker` as a process of its own; without bubblewrap on its PATH when told so."""
    environment = dict(os.environ, PATH=os.environ.get("PATH", "") if bubblewrap else "/nonexistent")
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                             "--no-dashboard", "--name", "with-bwrap" if bubblewrap else "without-bwrap"],
                            env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_workers(address: str, count: int) -> list[str]:
    with distributed.Client(address, set_as_default=False, timeout=30) as client:
        client.wait_for_workers(count, timeout=60)
        return sorted(client.nthreads())


def test_a_worker_that_cannot_sandbox_refuses_and_nothing_runs_unsandboxed(tmp_path):
    cache = tmp_path / "cache"
    subs.store_reference(cache, subs.LAB)
    folder = tmp_path / "in"
    folder.mkdir()
    for learner in ("ada", "bob"):
        subs.write(folder, learner, subs.tiny(subs.FIRST_CHOICE))
    arguments = ["grade", str(folder), "--lab", subs.LAB, "--out", str(tmp_path / "out"), "--content",
                 str(subs.CONTENT), "--cache-dir", str(cache), "--cell-timeout", "30", "--verbose"]
    workers = []
    with local_cluster(workers=0) as cluster:
        address = cluster.scheduler_address
        try:
            workers.append(dask_worker(address, bubblewrap=False))
            (bad,) = wait_for_workers(address, 1)
            alone = CliRunner().invoke(cli, arguments + ["--scheduler", address])
            assert alone.exit_code == 0, alone.output
            refusal = f"worker {bad} refuses to grade: this worker cannot build the sandbox: bubblewrap (bwrap) is not"
            assert refusal in alone.output
            records = json.loads((tmp_path / "out" / "results.json").read_text())["submissions"]
            assert [(record["status"], record["worker"]) for record in records] == [("environment error", None)] * 2
            assert all("no worker could sandbox it" in record["message"] and "bubblewrap" in record["message"]
                       for record in records)
            assert not list((tmp_path / "out").glob("harvests/*"))

            workers.append(dask_worker(address, bubblewrap=True))
            good = next(worker for worker in wait_for_workers(address, 2) if worker != bad)
            both = CliRunner().invoke(cli, arguments + ["--scheduler", address, "--resume"])
            assert both.exit_code == 0, both.output
            records = json.loads((tmp_path / "out" / "results.json").read_text())["submissions"]
            assert [(record["status"], record["worker"]) for record in records] == [("missing answer cell", good)] * 2
            assert all(subs.earned(record, "question:aggressive-risk") == 1 for record in records)
        finally:
            for process in workers:
                process.terminate()
            for process in workers:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_the_command_says_plainly_when_there_is_no_scheduler(tmp_path):
    path = subs.write(tmp_path, "a", subs.tiny("x = 1"))
    with socket_that_refuses() as address:
        result = CliRunner().invoke(cli, ["grade", str(path), "--lab", subs.LAB, "--out", str(tmp_path / "out"),
                                          "--scheduler", address, "--content", str(subs.CONTENT)])
    assert result.exit_code == 1 and f"cannot reach the Dask scheduler at {address}" in result.output, result.output


class socket_that_refuses:
    """A loopback address nothing listens on."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return f"tcp://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        pass


def test_cluster_options_that_do_not_go_together(tmp_path):
    path = subs.write(tmp_path, "a", subs.tiny("x = 1"))
    base = ["grade", str(path), "--lab", subs.LAB, "--scheduler", "tcp://127.0.0.1:1"]
    for extra, words in ((["--no-sandbox"], "--no-sandbox is for this machine only"),
                         (["--workers", "4"], "--workers is for this machine")):
        result = CliRunner().invoke(cli, base + extra)
        assert result.exit_code == 2 and words in result.output, result.output


def test_a_path_out_of_the_grader_on_a_worker_is_hidden(tmp_path):
    """A worker hides the course labs quizgen ships (their solutions) where a sandbox could see them."""
    from quizgen.grade.cluster import _hidden_here
    from quizgen.lab.runner import shipped_labs

    assert shipped_labs().resolve() in _hidden_here()
