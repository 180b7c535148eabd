"""Running one untrusted notebook: the grader's side of the sandbox (boot.py is the other side).

Each submission runs in a subprocess whose folder holds only its notebook. Where the machine allows it
(root, or unprivileged user namespaces) that process gets new mount, network and PID namespaces and a
chroot with nothing of the grader's in it; everywhere it gets resource limits, a scrubbed environment,
fixed seeds and thread counts, a per-cell and a wall-clock timeout, and a process group that is killed
as a whole. What comes back is read as JSON events and records and checked here; nothing from the
sandbox is ever unpickled or evaluated.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from quizgen.lab.runner import DEFAULT_THREADS

BOOT = Path(__file__).with_name("boot.py")

GRADED = "graded"
CELL_TIMEOUT = "cell timeout"
WALL_TIMEOUT = "wall timeout"
OUT_OF_MEMORY = "out of memory"
KERNEL_DIED = "kernel died"
MISSING_ANSWER_CELL = "missing answer cell"
NOT_A_NOTEBOOK = "not a notebook"
ENVIRONMENT_ERROR = "environment error"
STATUSES = (GRADED, CELL_TIMEOUT, WALL_TIMEOUT, OUT_OF_MEMORY, KERNEL_DIED, MISSING_ANSWER_CELL, NOT_A_NOTEBOOK,
            ENVIRONMENT_ERROR)

MEMORY_ERRORS = ("MemoryError", "_ArrayMemoryError", "OutOfMemoryError")
MEMORY_MESSAGES = ("can't allocate memory", "cannot allocate memory", "not enough memory", "out of memory")
NEEDED_MODULES = ["torch", "transformers", "quizgen.lab.runner"]
MAX_LINE = 8 * 2**20
OUTPUT_TAIL = 64 * 2**10
UID_BASE = 61000  # one unprivileged uid per worker slot, so that sandboxes cannot signal or trace each other


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 300.0
    wall_timeout: float = 1800.0
    memory_bytes: int = 4 * 2**30
    processes: int = 256  # threads count too
    file_bytes: int = 256 * 2**20
    open_files: int = 512
    tmp_size: str = "256m"
    threads: int = DEFAULT_THREADS  # the reference run's, so that numbers compare
    call_timeout: float = 10.0  # one call of a learner's function on one unseen input
    grace: float = 5.0  # after an interrupt, before the process group is killed

    @property
    def cpu_seconds(self) -> int:
        return int(self.wall_timeout * (self.threads + 1)) + 60


@dataclass(frozen=True)
class Isolation:
    mode: str  # "namespaces", "user-namespaces" or "none"
    detail: str

    @property
    def jail(self) -> bool:
        return self.mode != "none"

    def command(self) -> list[str]:
        if self.mode == "namespaces":
            return ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child"]
        if self.mode == "user-namespaces":
            return ["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child"]
        return []


def probe_isolation() -> Isolation:
    """The strongest isolation this machine gives us, tried for real (a kernel may refuse at run time)."""
    if not shutil.which("unshare"):
        return Isolation("none", "unshare is not installed")
    candidates = ["user-namespaces"] if os.geteuid() != 0 else ["namespaces", "user-namespaces"]
    refusals = []
    for mode in candidates:
        command = Isolation(mode, "").command() + [sys.executable, "-c", "pass"]
        try:
            result = subprocess.run(command, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as error:
            refusals.append(f"{mode}: {error}")
            continue
        if result.returncode == 0:
            return Isolation(mode, "new mount, network and PID namespaces; chroot without the grader's files")
        refusals.append(f"{mode}: {result.stderr.decode(errors='replace').strip()[:200]}")
    return Isolation("none", "namespaces refused (" + "; ".join(refusals) + ")")


class Runtime:
    """What a sandbox may import of quizgen: the lab engine and the learner-side checks, nothing else."""

    def __init__(self):
        import quizgen

        package = Path(quizgen.__file__).parent
        self.package = package
        self.folder = Path(tempfile.mkdtemp(prefix="quizgen-runtime-"))
        target = self.folder / "quizgen"
        shutil.copytree(package / "lab", target / "lab", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy2(package / "__init__.py", target / "__init__.py")
        (target / "notebooks").mkdir()
        (target / "notebooks" / "__init__.py").write_text('"""The learner-side part of quizgen.notebooks."""\n')
        shutil.copy2(package / "notebooks" / "checks.py", target / "notebooks" / "checks.py")
        for path in [self.folder, *self.folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Outcome:
    """What happened to one submission in its sandbox, as plain data."""

    status: str = GRADED
    message: str = ""
    cells: list[dict] = field(default_factory=list)  # {index, status, error, seconds}
    variables: dict | None = None
    predictions_before_training: object = None
    exercises: dict = field(default_factory=dict)  # name -> {"defined": bool, "results": [...]}
    harvest_complete: bool = False
    execution_s: float = 0.0  # the notebook's own cells
    total_s: float = 0.0
    output_tail: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def system_binds() -> list[str]:
    """Read-only trees the sandbox needs: the system and the Python installation (not the grader's files)."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}:
        if not any(prefix == p or prefix.startswith(p + "/") for p in paths):
            paths.append(prefix)
    return paths


def hidden_paths(binds: list[str], secrets_: list[Path]) -> list[str]:
    """Grader folders that happen to lie inside a bound tree (an installed quizgen in site-packages)."""
    hidden = []
    for path in secrets_:
        text = str(Path(path).resolve())
        if any(text == b or text.startswith(b.rstrip("/") + "/") for b in binds):
            hidden.append(text)
    return hidden


def run_notebook(notebook: dict, *, name: str, runtime: Runtime, isolation: Isolation, limits: Limits,
                 slot: int, train_from: int, variables: list[str], exercise_inputs: dict,
                 secret_paths: list[Path] = (), stop: threading.Event | None = None) -> Outcome:
    """Execute a (shape-checked) notebook in a fresh sandbox and collect its answers."""
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="quizgen-sandbox-"))
    try:
        (workdir / "notebook").mkdir()
        notebook_path = workdir / "notebook" / name
        notebook_path.write_text(json.dumps(notebook), encoding="utf-8")
        (workdir / "root").mkdir()
        for path in (workdir, workdir / "notebook", notebook_path, workdir / "root"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        outcome = _supervise(notebook_path, workdir / "root", runtime, isolation, limits, slot, train_from,
                             variables, exercise_inputs, secret_paths, stop or threading.Event())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    outcome.total_s = time.perf_counter() - started
    return outcome


def _environment(limits: Limits) -> dict:
    threads = str(limits.threads)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/home/learner", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
        "TORCH_NUM_THREADS": threads, "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": "/tmp/huggingface", "TQDM_DISABLE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def _supervise(notebook_path, root, runtime, isolation, limits, slot, train_from, variables, exercise_inputs,
               secret_paths, stop) -> Outcome:
    outcome = Outcome()
    report_r, report_w = os.pipe()
    request_r, request_w = os.pipe()
    output_r, output_w = os.pipe()
    binds = system_binds()
    settings = {
        "notebook": str(notebook_path), "notebook_name": notebook_path.name, "root": str(root),
        "jail": isolation.jail, "drop_to_uid": isolation.mode == "namespaces", "uid": UID_BASE + slot,
        "binds": binds, "hide": hidden_paths(binds, [runtime.package, *secret_paths]),
        "runtime": str(runtime.folder), "tmp_size": limits.tmp_size, "seed": 0, "train_from": train_from,
        "modules": NEEDED_MODULES,
        "files": ["/opt/quizgen/quizgen/lab/checkpoint/config.json"],
        "report_fd": report_w, "request_fd": request_r, "output_fd": output_w,
        "limits": {"memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds,
                   "processes": limits.processes, "file_bytes": limits.file_bytes, "open_files": limits.open_files},
    }
    # If the grader dies (killed, or a crash), its sandboxes must not run on: the kernel sends them SIGKILL.
    orphan_guard = ["setpriv", "--pdeathsig", "KILL"] if shutil.which("setpriv") else []
    command = orphan_guard + isolation.command() + [sys.executable, "-s", "-P", str(BOOT), json.dumps(settings)]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, pass_fds=(report_w, request_r, output_w),
                                   start_new_session=True, env=_environment(limits), cwd=str(notebook_path.parent))
    except OSError as error:
        for fd in (report_r, report_w, request_r, request_w, output_r, output_w):
            os.close(fd)
        return Outcome(status=ENVIRONMENT_ERROR, message=f"could not start the sandbox: {error}")
    for fd in (report_w, request_r, output_w):
        os.close(fd)
    state = _Watch(limits, request_w, stop)
    with _LIVE_LOCK:
        _LIVE[process.pid] = stop
    try:
        _watch(process, state, report_r, output_r, variables, exercise_inputs, outcome)
    finally:
        if process.poll() is None:  # interrupted (Ctrl-C) while it ran
            _kill(process, state)
            process.wait()
        with _LIVE_LOCK:
            _LIVE.pop(process.pid, None)
        for fd in (report_r, output_r):
            os.close(fd)
        state.close_request()
        process.stderr.close()
    return outcome


_LIVE: dict[int, threading.Event] = {}  # process group of each running sandbox -> its batch's stop event
_LIVE_LOCK = threading.Lock()


def kill_all(stop: threading.Event) -> None:
    """Kill every sandbox of a batch that is stopping; they end as environment errors, so that --resume
    grades them again."""
    stop.set()
    with _LIVE_LOCK:
        groups = [group for group, event in _LIVE.items() if event is stop]
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass


class _Watch:
    """The state of one sandbox as its events arrive."""

    def __init__(self, limits: Limits, request_w: int, stop: threading.Event):
        now = time.monotonic()
        self.stop = stop
        self.limits = limits
        self.request_w: int | None = request_w
        self.wall_deadline = now + limits.wall_timeout
        self.cell_deadline: float | None = None
        self.harvest_deadline: float | None = None
        self.interrupted_at: float | None = None
        self.timeout: str | None = None  # CELL_TIMEOUT or WALL_TIMEOUT, once one fired
        self.killed = False
        self.ready = False
        self.started = False  # the learner's first cell began: from here on a death is theirs
        self.done = False
        self.environment_error: str | None = None
        self.marker = secrets.token_hex(16)

    def close_request(self) -> None:
        """Close our end of the request pipe exactly once (fd numbers are reused by other workers)."""
        if self.request_w is not None:
            os.close(self.request_w)
            self.request_w = None


def _watch(process, state: _Watch, report_r, output_r, variables, exercise_inputs, outcome) -> None:
    selector = selectors.DefaultSelector()
    pending = b""
    output, boot_errors = bytearray(), bytearray()
    open_fds = {report_r, output_r, process.stderr.fileno()}
    for fd in open_fds:
        selector.register(fd, selectors.EVENT_READ)
    exited_at = None
    while open_fds:
        for key, _ in selector.select(timeout=0.25):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                selector.unregister(key.fd)
                open_fds.discard(key.fd)
            elif key.fd == output_r:
                output.extend(chunk)
                del output[:-OUTPUT_TAIL]
            elif key.fd == report_r:
                *lines, pending = (pending + chunk).split(b"\n")
                pending = b"" if len(pending) > MAX_LINE else pending
                for line in lines:
                    _on_line(line, state, outcome, variables, exercise_inputs)
            else:
                boot_errors.extend(chunk[: max(0, 8192 - len(boot_errors))])
        _enforce_deadlines(process, state)
        if process.poll() is not None:
            # Without namespaces a learner's daemon could hold our pipes open forever.
            exited_at = exited_at or time.monotonic()
            if time.monotonic() - exited_at > 2:
                break
    selector.close()
    returncode = process.wait()
    outcome.output_tail = output.decode("utf-8", "replace")
    outcome.execution_s = sum(cell.get("seconds", 0.0) for cell in outcome.cells)
    outcome.status, outcome.message = _status(returncode, state, outcome, boot_errors.decode("utf-8", "replace"))


def _on_line(line: bytes, state: _Watch, outcome: Outcome, variables, exercise_inputs) -> None:
    text = line.decode("utf-8", "replace")
    marker = state.marker
    if state.ready and text.startswith(marker) and text.endswith(marker) and len(text) > 2 * len(marker):
        _on_record(text[len(marker):-len(marker)], state, outcome)
        return
    try:
        event = json.loads(text)
    except ValueError:
        return
    if not isinstance(event, dict) or state.ready:
        return
    kind = event.get("event")
    now = time.monotonic()
    if kind == "cell":
        state.started = True
        state.cell_deadline = now + state.limits.cell_timeout
    elif kind == "cell_done":
        state.cell_deadline = None
        outcome.cells.append(_cell_result(event))
    elif kind == "environment_error" and isinstance(event.get("message"), str):
        state.environment_error = event["message"][:2000]
    elif kind == "ready":
        state.ready = True
        state.cell_deadline = None
        calls = sum(len(cases) for cases in exercise_inputs.values())
        state.harvest_deadline = now + 30 + calls * state.limits.call_timeout
        request = {"marker": marker, "variables": variables, "exercises": exercise_inputs,
                   "call_timeout": state.limits.call_timeout}
        try:
            os.write(state.request_w, (json.dumps(request) + "\n").encode())
        except OSError:
            pass  # the sandbox closed its end; it will end without records
        state.close_request()


def _cell_result(event: dict) -> dict:
    """A cell_done event, type-checked (its source could be the learner's code)."""
    error = event.get("error") if isinstance(event.get("error"), dict) else None
    if error is not None:
        error = {"type": str(error.get("type"))[:100], "message": str(error.get("message"))[:500],
                 "line": error.get("line") if isinstance(error.get("line"), int) else None}
    seconds = event.get("seconds")
    return {
        "index": event.get("index") if isinstance(event.get("index"), int) else -1,
        "status": event.get("status") if event.get("status") in ("ok", "error", "interrupted") else "error",
        "error": error,
        "seconds": float(seconds) if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) else 0.0,
    }


def _on_record(text: str, state: _Watch, outcome: Outcome) -> None:
    try:
        record = json.loads(text)
    except ValueError:
        return
    if not isinstance(record, dict):
        return
    kind = record.get("record")
    if kind == "variables" and outcome.variables is None and isinstance(record.get("values"), dict):
        outcome.variables = record["values"]
        outcome.predictions_before_training = record.get("predictions_before_training")
    elif kind == "exercise" and isinstance(record.get("name"), str) and record["name"] not in outcome.exercises:
        results = record.get("results") if isinstance(record.get("results"), list) else []
        outcome.exercises[record["name"]] = {"defined": record.get("defined") is True, "results": results}
    elif kind == "done":
        outcome.harvest_complete = state.done = True


def _enforce_deadlines(process, state: _Watch) -> None:
    if process.poll() is not None or state.killed:
        return
    now = time.monotonic()
    if state.ready:
        if state.done:
            return
        if now > state.harvest_deadline:
            state.timeout = state.timeout or CELL_TIMEOUT
            _kill(process, state)
        return
    if state.interrupted_at is not None:
        if now > state.interrupted_at + state.limits.grace:
            _kill(process, state)
        return
    if now > state.wall_deadline:
        state.timeout = WALL_TIMEOUT
    elif state.cell_deadline is not None and now > state.cell_deadline:
        state.timeout = CELL_TIMEOUT
    if state.timeout:
        # An interrupt first (KeyboardInterrupt in the cell): the answers given so far still come back.
        state.interrupted_at = now
        try:
            os.killpg(process.pid, signal.SIGINT)
        except ProcessLookupError:
            pass


def _kill(process, state: _Watch) -> None:
    state.killed = True
    try:
        os.killpg(process.pid, signal.SIGKILL)  # unshare --kill-child takes the whole PID namespace with it
    except ProcessLookupError:
        pass


def _status(returncode: int, state: _Watch, outcome: Outcome, boot_errors: str) -> tuple[str, str]:
    limits = state.limits
    if state.stop.is_set():
        return ENVIRONMENT_ERROR, "grading was interrupted before this notebook finished"
    if state.environment_error:
        return ENVIRONMENT_ERROR, state.environment_error
    if not state.started and not state.killed and returncode != 0:
        # It never reached the first cell: the sandbox itself failed to start.
        detail = boot_errors.strip().splitlines()[-1] if boot_errors.strip() else f"exit status {returncode}"
        return ENVIRONMENT_ERROR, f"the sandbox did not start: {detail}"
    if state.timeout == WALL_TIMEOUT:
        return WALL_TIMEOUT, f"the notebook ran longer than {limits.wall_timeout:g} s in total"
    if state.timeout == CELL_TIMEOUT and state.interrupted_at is not None:
        return CELL_TIMEOUT, f"a cell ran longer than {limits.cell_timeout:g} s"
    if state.timeout == CELL_TIMEOUT:
        return CELL_TIMEOUT, f"a graded function ran longer than {limits.call_timeout:g} s on an unseen input"
    if not state.ready or (state.ready and not state.done and returncode != 0):
        if returncode == -signal.SIGKILL:
            return OUT_OF_MEMORY, "the process was killed, most likely for using too much memory"
        if returncode == -signal.SIGXCPU:
            return WALL_TIMEOUT, "the notebook used up its CPU time"
        how = f"signal {signal.Signals(-returncode).name}" if returncode < 0 else f"exit status {returncode}"
        return KERNEL_DIED, f"the Python process stopped ({how}) before the notebook finished"
    errors = [cell["error"] for cell in outcome.cells if cell.get("error")]
    if any(e["type"] in MEMORY_ERRORS or any(m in e["message"].lower() for m in MEMORY_MESSAGES) for e in errors):
        return OUT_OF_MEMORY, f"a cell ran out of memory (the limit is {limits.memory_bytes / 2**30:g} GiB)"
    return GRADED, ""
