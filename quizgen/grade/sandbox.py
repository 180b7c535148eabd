"""Running one untrusted notebook: the grader's side of the sandbox (boot.py is the other side).

jail.py builds the walls (bubblewrap, a system-call filter, cgroups or a memory watchdog). This module
starts a submission inside them and watches it from outside. Every message from inside is untrusted:

- deadlines are the grader's own clocks: the wall deadline is fixed at start and nothing lifts it; a
  cell's deadline starts when the grader sees that cell begin, and cell events are only taken in the
  notebook's own order, once each (so a forged event can at most move on to the learner's own next
  cell, never restart or lift a deadline);
- an "environment error" can only be said before the first cell, when nothing of the learner's has run;
- after the cells, the grader asks for each thing it needs, one request at a time, each with a fresh
  token and its own deadline kept here; only a reply to the open request counts, so the learner can
  neither lift a deadline nor answer what was not asked;
- every reply is bounded JSON, cleaned (untrusted.py) and type-checked before it is kept; nothing from a
  sandbox is ever unpickled or evaluated; statuses are decided here from what was observed.
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

from quizgen.grade import jail, untrusted
from quizgen.grade.jail import Isolation, probe_isolation  # noqa: F401 - part of this module's interface
from quizgen.lab.runner import TRAINING_THREADS

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
EVENT_BYTES = 16 * 2**10  # a cell event is small; longer lines before "ready" are not events
VARIABLES_BYTES = 8 * 2**20
CALL_BYTES = 2 * 2**20
CHANNEL_BYTES = 64 * 2**20  # everything a sandbox may write to the grader's channel
OUTPUT_TAIL = 64 * 2**10
SETUP_TIMEOUT = 120.0  # from start to "setup": the sandbox and Python starting, not the learner's time
VARIABLES_TIMEOUT = 30.0
CALL_GRACE = 5.0  # past a call's own timeout, for the reply to arrive, before the sandbox is ended


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 300.0
    wall_timeout: float = 1800.0
    memory_bytes: int = 4 * 2**30
    processes: int = 256  # threads count too
    file_bytes: int = 256 * 2**20
    open_files: int = 512
    tmp_bytes: int = 256 * 2**20
    threads: int = TRAINING_THREADS  # what each arm of the reference run trains on, so that numbers compare
    call_timeout: float = 10.0  # one call of a learner's function on one unseen input
    grace: float = 5.0  # after an interrupt, before the sandbox is killed

    @property
    def cpu_seconds(self) -> int:
        return int(self.wall_timeout * (self.threads + 1)) + 60


# What of quizgen a notebook may import in the sandbox: the lab engine, the modules it imports, and the
# learner-side checks. Nothing that knows an answer (the labs' exercises.py, the course, the cache).
RUNTIME_FILES = ("__init__.py", "errors.py", "versions.py", "lab", "notebooks/checks.py")


class Runtime:
    """A copy of RUNTIME_FILES and boot.py, bound read-only into each sandbox at /opt/quizgen."""

    def __init__(self):
        import quizgen

        package = Path(quizgen.__file__).parent
        self.package = package
        self.folder = Path(tempfile.mkdtemp(prefix="quizgen-runtime-"))
        target = self.folder / "quizgen"
        for name in RUNTIME_FILES:
            source, destination = package / name, target / name
            if source.is_dir():
                shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)
        (target / "notebooks" / "__init__.py").write_text('"""The learner-side part of quizgen.notebooks."""\n')
        shutil.copy2(BOOT, self.folder / "boot.py")
        for path in [self.folder, *self.folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Outcome:
    """What happened to one submission in its sandbox, as plain, cleaned data."""

    status: str = GRADED
    message: str = ""
    cells: list[dict] = field(default_factory=list)  # {index, status, error, seconds}
    variables: dict | None = None
    exercises: dict = field(default_factory=dict)  # name -> {"defined": bool, "results": [...]}
    execution_s: float = 0.0  # the notebook's own cells
    total_s: float = 0.0
    output_tail: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def run_notebook(cells: list[tuple[int, str]], *, runtime: Runtime, isolation: Isolation, limits: Limits,
                 slot: int, variables: list[str], exercise_inputs: dict, secret_paths: list[Path] = (),
                 cgroups: jail.Cgroups | None = None, stop: threading.Event | None = None) -> Outcome:
    """Execute a notebook's code cells (index, source) in a fresh sandbox and collect its answers."""
    started = time.perf_counter()
    calls = [(function, arguments) for function, cases in exercise_inputs.items() for arguments in cases]
    run = _Run(cells, runtime, isolation, limits, slot, variables, calls, secret_paths, cgroups,
               stop or threading.Event())
    outcome = run.execute()
    outcome.exercises = {function: {"defined": True, "results": []} for function in exercise_inputs}
    for (function, _), result in zip(calls, run.results or []):
        if result is _UNDEFINED:
            outcome.exercises[function]["defined"] = False
        else:
            outcome.exercises[function]["results"].append(result)
    if run.results is None or not run.asked_calls:
        outcome.exercises = {}  # never asked: the notebook stopped before its functions could be called
    else:
        not_run = {"error": {"type": "not run", "message": "", "line": None}}
        for function, _ in calls[len(run.results):]:
            outcome.exercises[function]["results"].append(not_run)
    outcome.total_s = time.perf_counter() - started
    return outcome


_UNDEFINED = object()
_LIVE: dict[int, threading.Event] = {}  # pid of each running sandbox -> its batch's stop event
_LIVE_LOCK = threading.Lock()


def kill_all(stop: threading.Event) -> None:
    """Kill every sandbox of a batch that is stopping; they end as environment errors, so that --resume
    grades them again."""
    stop.set()
    with _LIVE_LOCK:
        pids = [pid for pid, event in _LIVE.items() if event is stop]
    for pid in pids:
        _kill_tree(pid)


def _kill_tree(pid: int) -> None:
    """SIGKILL a sandbox: its bwrap (whose PID-namespace init dies with it, taking every process of the
    namespace along) and, for good measure, every process below it."""
    for target in [pid, *jail.descendants(pid)]:
        try:
            os.kill(target, signal.SIGKILL)
        except OSError:
            pass


def _environment(limits: Limits) -> dict:
    threads = str(limits.threads)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": jail.SANDBOX_HOME, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
        "TORCH_NUM_THREADS": threads, "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_HOME": "/tmp/huggingface", "TQDM_DISABLE": "1", "TOKENIZERS_PARALLELISM": "false",
    }


class _Run:
    """One sandbox from start to end, watched from outside."""

    def __init__(self, cells, runtime, isolation, limits, slot, variables, calls, secret_paths, cgroups, stop):
        self.cells, self.runtime, self.isolation = cells, runtime, isolation
        self.limits, self.slot, self.variable_names, self.calls = limits, slot, variables, calls
        self.secret_paths, self.cgroups, self.stop = secret_paths, cgroups, stop
        self.expected = [index for index, _ in cells]  # code-cell indices, in the order they must run
        self.position = 0  # how many cells have ended
        self.open_cell: int | None = None
        self.phase = "setup"  # setup -> cells -> harvest -> over
        started = time.monotonic()
        self.wall_deadline = started + limits.wall_timeout
        self.deadline: float | None = started + SETUP_TIMEOUT  # of the phase, cell or request at hand
        self.interrupted_at: float | None = None
        self.reason: tuple[str, str] | None = None  # the status the grader decided on, and why
        self.environment_error: str | None = None
        self.channel_bytes = 0
        self.request: dict | None = None  # the open request: {"token", "kind"}
        self.results: list | None = None
        self.asked_calls = False
        self.outcome = Outcome()
        self.killed = False
        self.cgroup: jail.Cgroup | None = None
        self.next_watch = 0.0

    # --- starting -------------------------------------------------------------------------------

    def execute(self) -> Outcome:
        report_r, report_w = os.pipe()
        request_r, request_w = os.pipe()
        output_r, output_w = os.pipe()
        seccomp_r = None
        own = [report_w, request_r, output_w]
        if self.isolation.jail and self.isolation.seccomp:
            program = jail.seccomp_filter()
            seccomp_r, seccomp_w = os.pipe()
            os.write(seccomp_w, program)
            os.close(seccomp_w)
            own.append(seccomp_r)
        cells_file = tempfile.TemporaryFile()
        cells_file.write(json.dumps(self.cells).encode("utf-8", "replace"))
        cells_file.seek(0)
        self.request_w = request_w
        workdir = None if self.isolation.jail else tempfile.mkdtemp(prefix="quizgen-unjailed-")
        arguments_file = None
        try:
            command = self._command(report_w, request_r, output_w, seccomp_r)
            if self.isolation.jail:
                # bwrap reads its arguments from a file: its command line (which /proc shows inside, as the
                # sandbox's PID 1) then names no host path.
                at = command.index("bwrap")
                end = command.index("--", at)
                arguments_file = tempfile.TemporaryFile()
                arguments_file.write(b"".join(os.fsencode(argument) + b"\0" for argument in command[at + 1:end]))
                arguments_file.seek(0)
                own.append(arguments_file.fileno())
                command = [*command[:at + 1], "--args", str(arguments_file.fileno()), *command[end:]]
            process = subprocess.Popen(command, stdin=cells_file, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                       pass_fds=tuple(own), start_new_session=True, env=_environment(self.limits),
                                       cwd=workdir or "/")
        except OSError as error:
            for fd in (report_r, output_r):
                os.close(fd)
            self._close_requests()
            cells_file.close()
            self._remove_cgroup()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            return Outcome(status=ENVIRONMENT_ERROR, message=f"could not start the sandbox: {error}")
        finally:
            for fd in own:
                if arguments_file is None or fd != arguments_file.fileno():
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            if arguments_file is not None:
                arguments_file.close()
        cells_file.close()
        with _LIVE_LOCK:
            _LIVE[process.pid] = self.stop
        try:
            self._watch(process, report_r, output_r)
        finally:
            if process.poll() is None:
                _kill_tree(process.pid)
                process.wait()
            with _LIVE_LOCK:
                _LIVE.pop(process.pid, None)
            for fd in (report_r, output_r):
                os.close(fd)
            self._close_requests()
            process.stderr.close()
            self._remove_cgroup()
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
        return self.outcome

    def _command(self, report_w, request_r, output_w, seccomp_r) -> list[str]:
        limits, isolation = self.limits, self.isolation
        jailed = isolation.jail
        binds = jail.system_binds()
        settings = {
            "report_fd": report_w, "request_fd": request_r, "output_fd": output_w, "seed": 0,
            "drop_to_uid": jail.UID_BASE + self.slot if isolation.mode == "namespaces" else None,
            "runtime": jail.SANDBOX_RUNTIME if jailed else str(self.runtime.folder),
            "modules": NEEDED_MODULES,
            "files": [f"{jail.SANDBOX_RUNTIME}/quizgen/lab/checkpoint/config.json"] if jailed else [],
            "needs_torch": any(_holds_tensor(argument) for _, arguments in self.calls for argument in arguments),
            "limits": {"memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds,
                       "processes": limits.processes, "file_bytes": limits.file_bytes,
                       "open_files": limits.open_files},
        }
        boot = f"{jail.SANDBOX_RUNTIME}/boot.py" if jailed else str(self.runtime.folder / "boot.py")
        python = [sys.executable, "-s", "-P", boot, json.dumps(settings)]
        if not jailed:
            return python
        hide = jail.hidden_paths(binds, [self.runtime.package, *self.secret_paths])
        command = jail.bwrap_command(isolation.mode, binds=binds, hide=hide, runtime=self.runtime.folder,
                                     seccomp_fd=seccomp_r, tmp_size=limits.tmp_bytes) + python
        if self.cgroups is not None:
            self.cgroup = self.cgroups.make(limits.memory_bytes, limits.processes)
            command = self.cgroup.trampoline() + command
        return command

    # --- watching ---------------------------------------------------------------------------------

    def _watch(self, process, report_r, output_r) -> None:
        selector = selectors.DefaultSelector()
        pending, discarding = b"", False
        output, stderr = bytearray(), bytearray()
        open_fds = {report_r, output_r, process.stderr.fileno()}
        for fd in open_fds:
            selector.register(fd, selectors.EVENT_READ)
        exited_at = None
        self.process = process
        while open_fds:
            for key, _ in selector.select(timeout=0.1):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fd)
                    open_fds.discard(key.fd)
                elif key.fd == output_r:
                    output.extend(chunk)
                    del output[:-OUTPUT_TAIL]
                elif key.fd == report_r:
                    self.channel_bytes += len(chunk)
                    if self.channel_bytes > CHANNEL_BYTES and not self.killed:
                        self._decide(KERNEL_DIED, "the notebook flooded the grader's channel")
                        self._end()
                    *lines, rest = (pending + chunk).split(b"\n")
                    for line in lines:
                        if not discarding:
                            self._on_line(line)
                        discarding = False
                    pending = rest
                    if len(pending) > VARIABLES_BYTES:  # an endless line: drop it up to its end
                        pending, discarding = b"", True
                else:
                    stderr.extend(chunk[: max(0, 8192 - len(stderr))])
            self._enforce(process)
            if process.poll() is not None:
                # A process left behind could hold our pipes open: the sandbox's own end is its exit.
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > 1:
                    break
        selector.close()
        returncode = process.wait()
        self.outcome.output_tail = untrusted.log_text(bytes(output))
        self.outcome.execution_s = sum(cell["seconds"] for cell in self.outcome.cells)
        self.outcome.status, self.outcome.message = self._status(returncode, stderr.decode("utf-8", "replace"))

    def _on_line(self, line: bytes) -> None:
        if self.phase in ("setup", "cells"):
            if len(line) > EVENT_BYTES:
                return
            try:
                event = untrusted.parse(line, EVENT_BYTES)
            except untrusted.Rejected:
                return
            if isinstance(event, dict):
                self._on_event(event)
        elif self.phase == "harvest" and self.request is not None:
            limit = VARIABLES_BYTES if self.request["kind"] == "variables" else CALL_BYTES
            if b'"token"' not in line:
                return
            try:
                reply = untrusted.parse(line, limit)
            except untrusted.Rejected:
                return
            if isinstance(reply, dict) and reply.get("token") == self.request["token"]:
                self._on_reply(reply)

    def _on_event(self, event: dict) -> None:
        kind, now = event.get("event"), time.monotonic()
        if self.phase == "setup":
            if kind == "environment_error" and isinstance(event.get("message"), str):
                self.environment_error = event["message"][:2000]
            elif kind == "setup":
                self.phase, self.deadline = "cells", None
            return
        index = event.get("index")
        if kind == "cell" and self.open_cell is None and self.position < len(self.expected) \
                and index == self.expected[self.position] and type(index) is int:
            self.open_cell = index
            self.deadline = now + self.limits.cell_timeout
        elif kind == "cell_done" and self.open_cell is not None and index == self.open_cell and type(index) is int:
            self.outcome.cells.append(_cell_result(event, index))
            # An honest notebook starts its next cell (or says "ready") at once; waiting for it is bounded
            # like a cell, so that a forged end of a cell that is still running buys no time.
            self.open_cell, self.deadline = None, now + self.limits.cell_timeout
            self.position += 1
        elif kind == "ready" and (self.open_cell is None or self.interrupted_at is not None) \
                and (self.position == len(self.expected) or self.interrupted_at is not None):
            self._start_harvest()

    def _start_harvest(self) -> None:
        self.phase, self.results = "harvest", []
        # Bounded like a cell too: if "ready" was forged while a cell still runs, nobody answers in time.
        self._ask({"op": "variables", "names": self.variable_names}, "variables",
                  min(VARIABLES_TIMEOUT, self.limits.cell_timeout))

    def _ask(self, request: dict, kind: str, timeout: float) -> None:
        token = secrets.token_hex(16)
        self.request = {"token": token, "kind": kind}
        self.deadline = time.monotonic() + timeout
        try:
            os.write(self.request_w, (json.dumps(request | {"token": token}) + "\n").encode())
        except (OSError, TypeError):
            self.deadline = time.monotonic()  # the sandbox closed its end: nothing will come back

    def _on_reply(self, reply: dict) -> None:
        if self.request["kind"] == "variables":
            values = reply.get("values")
            self.outcome.variables = values if isinstance(values, dict) else {}
        elif reply.get("defined") is False:
            self.results.append(_UNDEFINED)
        else:
            self.results.append(_call_result(reply))
        self._next_request()

    def _next_request(self) -> None:
        done = len(self.results)
        if done < len(self.calls):
            function, arguments = self.calls[done]
            self.asked_calls = True
            self._ask({"op": "call", "function": function, "arguments": arguments,
                       "timeout": self.limits.call_timeout}, "call", self.limits.call_timeout + CALL_GRACE)
        else:
            self.request, self.phase, self.deadline = None, "over", None
            self._end()  # the grader has all it asked for: the learner's time is over

    def _enforce(self, process) -> None:
        now = time.monotonic()
        if process.poll() is not None or self.killed:
            return
        if self.cgroup is None and now >= self.next_watch:
            self.next_watch = now + jail.WATCH_INTERVAL
            used = jail.private_memory(jail.descendants(process.pid))
            if used > self.limits.memory_bytes:
                self._decide(OUT_OF_MEMORY, f"the notebook's processes together used more than "
                                            f"{self.limits.memory_bytes / 2**30:g} GiB")
                self._end()
                return
        if self.phase == "setup":
            if now > self.deadline:
                self._decide(ENVIRONMENT_ERROR, f"the sandbox did not start within {SETUP_TIMEOUT:g} s")
                self._end()
            return
        if self.phase == "harvest":
            if now > self.deadline:
                self._harvest_timeout()
            return
        if self.phase != "cells":
            return
        if self.interrupted_at is not None:
            if now > self.interrupted_at + self.limits.grace:
                self._end()
            return
        if now > self.wall_deadline:
            self._decide(WALL_TIMEOUT, f"the notebook ran longer than {self.limits.wall_timeout:g} s in total")
        elif self.deadline is not None and now > self.deadline:
            self._decide(CELL_TIMEOUT, f"a cell ran longer than {self.limits.cell_timeout:g} s")
        if self.reason:
            # An interrupt first (KeyboardInterrupt in the cell): the answers given so far still come back.
            self.interrupted_at = now
            self._interrupt(process)

    def _harvest_timeout(self) -> None:
        request = self.request
        if request["kind"] == "variables":
            if self.interrupted_at is None:
                # Most likely a cell still running behind a forged "ready": interrupt it as a cell timeout,
                # and give the answers given so far `grace` seconds to come back.
                self._decide(CELL_TIMEOUT, f"a cell ran longer than {self.limits.cell_timeout:g} s")
                self.interrupted_at = time.monotonic()
                self.deadline = self.interrupted_at + self.limits.grace
                self._interrupt(self.process)
                return
            self._decide(KERNEL_DIED, "the notebook's process stopped answering the grader after its last cell")
        else:
            self._decide(CELL_TIMEOUT, f"a graded function ran longer than {self.limits.call_timeout:g} s on an "
                                       "unseen input")
            self.results.append({"error": {"type": "timeout", "message": "", "line": None}})
        self._end()

    def _interrupt(self, process) -> None:
        """SIGINT to the notebook's own process: PID 2 of the sandbox's namespace (bwrap's init is 1)."""
        if not self.isolation.jail:
            targets = [process.pid]
        else:
            targets = [pid for pid in jail.descendants(process.pid) if jail.inner_pid(pid) == 2][:1]
        for pid in targets:
            try:
                os.kill(pid, signal.SIGINT)
            except OSError:
                pass

    def _decide(self, status: str, message: str) -> None:
        self.reason = self.reason or (status, message)

    def _end(self) -> None:
        if not self.killed:
            self.killed = True
            self._close_requests()
            if self.isolation.jail:
                _kill_tree(self.process.pid)
            else:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except OSError:
                    pass

    def _close_requests(self) -> None:
        if getattr(self, "request_w", None) is not None:
            os.close(self.request_w)
            self.request_w = None

    def _remove_cgroup(self) -> None:
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None

    # --- the verdict ------------------------------------------------------------------------------

    def _status(self, returncode: int, stderr: str) -> tuple[str, str]:
        limits = self.limits
        if self.stop.is_set():
            return ENVIRONMENT_ERROR, "grading was interrupted before this notebook finished"
        if self.phase == "setup":
            if self.environment_error:
                return ENVIRONMENT_ERROR, self.environment_error
            if self.reason:
                return self.reason
            detail = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit status {returncode}"
            return ENVIRONMENT_ERROR, f"the sandbox did not start: {untrusted.clean_text(detail, 300)}"
        if self.cgroup_oom():
            return OUT_OF_MEMORY, f"the notebook used more than {limits.memory_bytes / 2**30:g} GiB"
        if self.reason:
            return self.reason
        if self.phase == "cells":
            signalled = returncode - 128 if self.isolation.jail and returncode > 128 else -returncode
            if signalled == signal.SIGKILL:
                return OUT_OF_MEMORY, "the process was killed, most likely for using too much memory"
            if signalled == signal.SIGXCPU:
                return WALL_TIMEOUT, "the notebook used up its CPU time"
            return KERNEL_DIED, "the notebook's Python process stopped before the notebook finished"
        if self.phase == "harvest":
            return KERNEL_DIED, "the notebook's process stopped while the grader was collecting its answers"
        errors = [cell["error"] for cell in self.outcome.cells if cell.get("error")]
        if any(e["type"] in MEMORY_ERRORS or any(m in e["message"].lower() for m in MEMORY_MESSAGES) for e in errors):
            return OUT_OF_MEMORY, f"a cell ran out of memory (the limit is {limits.memory_bytes / 2**30:g} GiB)"
        return GRADED, ""

    def cgroup_oom(self) -> bool:
        return self.cgroup is not None and self.cgroup.oom_killed()


def _holds_tensor(argument: dict) -> bool:
    """Whether an encoded argument (quizgen.notebooks.exercises.encode) holds a tensor anywhere."""
    if "tensor" in argument:
        return True
    if "dict" in argument:
        return any(_holds_tensor(item) for item in argument["dict"].values())
    return "list" in argument and any(_holds_tensor(item) for item in argument["list"])


def _cell_result(event: dict, index: int) -> dict:
    """A cell_done event, type-checked (its source could be the learner's code)."""
    error = event.get("error") if isinstance(event.get("error"), dict) else None
    if error is not None:
        error = {"type": untrusted.clean_text(str(error.get("type")), 100),
                 "message": untrusted.clean_text(str(error.get("message")), 500),
                 "line": error.get("line") if type(error.get("line")) is int else None}
    seconds = event.get("seconds")
    return {
        "index": index,
        "status": event.get("status") if event.get("status") in ("ok", "error", "interrupted") else "error",
        "error": error,
        "seconds": float(seconds) if type(seconds) in (int, float) and 0 <= seconds < 1e7 else 0.0,
    }


def _call_result(reply: dict) -> dict:
    """One call's reply: an output, or an error of which only the type is kept (its message could quote the
    unseen input back into the feedback)."""
    error = reply.get("error")
    if isinstance(error, dict):
        kind = error.get("type")
        return {"error": {"type": untrusted.clean_text(str(kind), 100) if kind is not None else "error",
                          "message": "", "line": None}}
    return {"output": reply.get("output")}
