"""`quizgen grade` run by an unprivileged user, as on an instructor's laptop: the sandbox then lives in a
user namespace (`bwrap --unshare-user`) instead of a real unprivileged uid per worker, without cgroups (a
memory watchdog instead), and must hold just as well: no network, nothing of the grader's on disk, limits and
timeouts enforced, and every attack of attacks.py held as it is as root.

Runs when the tests run as root (as in CI): the grader is started as `nobody` with `setpriv`, from a
virtual environment any user can run (Debian's Python of the same version, with this environment's
packages hard-linked into it). Elsewhere it is skipped, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("nbformat")

import attacks  # noqa: E402
import grade_helpers as subs  # noqa: E402
from paths import ROOT  # noqa: E402

NOBODY = 65534
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")


def world_reachable(path: Path) -> bool:
    """Whether any user can read ``path`` (every folder above it searchable by others)."""
    path = path.resolve()
    folders = [*reversed(path.parents), path] if path.is_dir() else list(reversed(path.parents))
    return (all(folder.stat().st_mode & stat.S_IXOTH for folder in folders)
            and bool(path.stat().st_mode & stat.S_IROTH))


def why_not() -> str | None:
    if os.geteuid() != 0:
        return "not root: the other grading tests already run in user-namespace mode here"
    if not shutil.which("setpriv") or not shutil.which("unshare"):
        return "setpriv or unshare is not installed"
    if not SYSTEM_PYTHON.is_file():
        return f"{SYSTEM_PYTHON} is not installed"
    if not world_reachable(ROOT / "quizgen" / "__init__.py"):
        return f"the checkout {ROOT} is not readable by other users"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(why_not() is not None, reason=why_not() or "")]


def shared_venv(base: Path) -> Path:
    """A venv of the system Python holding this environment's packages, hard-linked (no copy)."""
    venv = base / "venv"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(venv)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    target = venv / "lib" / version / "site-packages"
    shutil.rmtree(target)
    try:
        shutil.copytree(sysconfig.get_paths()["purelib"], target, copy_function=os.link, symlinks=True)
    except (OSError, shutil.Error) as error:
        pytest.skip(f"cannot hard-link the test environment's packages under /tmp: {error}")
    return venv / "bin" / "python"


def as_nobody(python: Path, home: Path) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "env", "-i",
            "PATH=/usr/bin:/bin", f"HOME={home}", f"TMPDIR={home}", "LANG=C.UTF-8", str(python)]


def open_up(path: Path, writable: bool = False) -> None:
    for item in [path, *path.rglob("*")]:
        if item.is_dir():
            item.chmod(0o777 if writable else 0o755)
        else:
            item.chmod(0o666 if writable else 0o644)


@dataclass
class Unprivileged:
    """A grading set-up for `nobody`: its Python, the folders it reads and writes, a stored reference."""

    python: Path
    home: Path
    submissions: Path
    out: Path
    cache: Path

    def grade_command(self, *options: str) -> list[str]:
        return as_nobody(self.python, self.home) + [
            "-m", "quizgen", "grade", str(self.submissions), "--lab", subs.LAB, "--content", str(ROOT / "content"),
            "--cache-dir", str(self.cache), "--out", str(self.out), "--workers", "2", "--cell-timeout", "8",
            "--wall-timeout", "60", *options]

    def open_up(self) -> None:
        """Once the submissions are written: readable by nobody, and the output writable."""
        open_up(self.submissions)
        open_up(self.out, writable=True)


def unprivileged(base: Path) -> Unprivileged:
    python = shared_venv(base)
    submissions, out, home = base / "submissions", base / "grades", base / "home"
    for folder in (submissions, out, home):
        folder.mkdir()
    cache = home / "lab-cache"
    open_up(home, writable=True)
    # The made-up reference run, stored by the unprivileged Python itself: the cache key names the
    # Python version, and the grader must find it, not recompute it.
    store = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import grade_helpers; "
             f"from pathlib import Path; grade_helpers.store_reference(Path({str(cache)!r}), {subs.LAB!r})")
    subprocess.run(as_nobody(python, home) + ["-c", store], check=True, cwd=home, timeout=300)
    return Unprivileged(python, home, submissions, out, cache)


@pytest.fixture(scope="module")
def graded_as_nobody():
    base = Path(tempfile.mkdtemp(prefix="quizgen-unprivileged-", dir="/tmp"))
    base.chmod(0o755)
    listener = subs.Listener()
    try:
        setup = unprivileged(base)
        known = [*map(str, (ROOT / "labs").glob("*/exercises.py")), *map(str, setup.cache.rglob("results.json"))]
        answers = subs.correct_answers()
        notebooks = {
            "answers": subs.around_student_cells(f"ANSWERS.update({answers!r})", at_end=True),
            "disk-search": subs.disk_search(known), "network": subs.opens_network(listener.port),
            "sleeps-forever": subs.sleeps_forever(), "allocates-8-gib": subs.allocates_8_gib(),
        }
        for name, notebook in notebooks.items():
            subs.write(setup.submissions, name, notebook)
        setup.open_up()
        result = subprocess.run(setup.grade_command(), capture_output=True, text=True, cwd=setup.home, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        results = json.loads((setup.out / "results.json").read_text(encoding="utf-8"))
        yield results, {record["learner"]: record for record in results["submissions"]}, listener, setup.out, result
    finally:
        listener.close()
        shutil.rmtree(base, ignore_errors=True)


def test_an_unprivileged_grader_jails_each_notebook_in_a_user_namespace(graded_as_nobody):
    results, records, _, _, run = graded_as_nobody
    assert results["isolation"]["mode"] == "user-namespaces", results["isolation"]
    assert "without a sandbox" not in run.stderr and "sandbox: user-namespaces (bubblewrap" in run.stderr
    assert "memory: no cgroup (the grader is not root)" in run.stderr  # the weaker guarantee, said at start
    assert {name: record["status"] for name, record in records.items()} == {
        "answers": "graded", "disk-search": "graded", "network": "graded",
        "sleeps-forever": "cell timeout", "allocates-8-gib": "out of memory",
    }, {name: record["message"] for name, record in records.items()}


def test_answers_still_leave_the_sandbox_and_score(graded_as_nobody):
    record = graded_as_nobody[1]["answers"]
    quiz = [item for item in record["items"] if item["id"].startswith("question:")]
    assert quiz and all(item["earned"] == item["points"] for item in quiz), quiz


def test_no_network_and_nothing_of_the_graders_on_disk(graded_as_nobody):
    _, records, listener, out, _ = graded_as_nobody
    network = (out / "logs" / "network.txt").read_text()
    assert "NETWORK blocked 127.0.0.1" in network and "NETWORK blocked 1.1.1.1" in network, network
    assert listener.connections == 0
    disk = (out / "logs" / "disk-search.txt").read_text()
    assert "searched" in disk and int(disk.split("searched ")[1].split()[0]) > 1000, disk
    assert "FOUND" not in disk, disk
    assert records["disk-search"]["score"] == 0


def test_limits_hold_and_keep_the_answers_given_before(graded_as_nobody):
    records = graded_as_nobody[1]
    assert records["sleeps-forever"]["message"] == "a cell ran longer than 8 s"
    for name in ("sleeps-forever", "allocates-8-gib"):
        assert subs.earned(records[name], "question:aggressive-risk") == 1, name


# --- the attack table (tests/grade/attacks.py), graded as nobody through the command line ------------


@pytest.fixture(scope="module")
def attacked_as_nobody():
    """Every attack of attacks.ATTACKS in one batch, graded by `quizgen grade` run as nobody with a 1 GiB
    memory limit; the expectations are the ones test_attacks.py checks for the in-process root grader."""
    base = Path(tempfile.mkdtemp(prefix="quizgen-attacks-nobody-", dir="/tmp"))
    base.chmod(0o755)
    context = None
    try:
        setup = unprivileged(base)
        context = attacks.Context("nobody", setup.submissions, setup.out, setup.cache)
        attacks.prepare(context)
        setup.open_up()
        command = setup.grade_command("--memory", "1")
        started = time.monotonic()
        try:
            result = subprocess.run(command, capture_output=True, text=True, cwd=setup.home, timeout=600)
            error = "" if result.returncode == 0 else (f"exit status {result.returncode}: "
                                                       f"{(result.stdout + result.stderr)[-3000:]}")
        except subprocess.TimeoutExpired:
            error = "`quizgen grade` ran past 600 s"
        results_path = setup.out / "results.json"
        results = json.loads(results_path.read_text(encoding="utf-8")) if results_path.exists() else {}
        records = {record["learner"]: record for record in results.get("submissions", [])}
        attacks.finish(context, records, results, error, time.monotonic() - started)
        yield context
    finally:
        if context is not None:
            attacks.cleanup(context)
        shutil.rmtree(base, ignore_errors=True)


def test_the_whole_attack_batch_is_graded_as_nobody(attacked_as_nobody):
    context = attacked_as_nobody
    assert not context.error, context.error
    assert set(context.records) >= set(attacks.NAMES), sorted(set(attacks.NAMES) - set(context.records))
    assert (context.out / "grades.csv").read_text(encoding="utf-8").count("\n") == 1 + len(context.records)


@pytest.mark.parametrize("name", attacks.NAMES)
def test_attack_as_nobody(attacked_as_nobody, name):
    attacks.check(attacked_as_nobody, name)
