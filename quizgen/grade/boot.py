"""The sandbox side of `quizgen grade`: runs one learner's notebook and hands back plain JSON.

The grader starts it as `python -s -P boot.py SETTINGS` under `unshare --mount --net --pid --fork`
(where the machine allows namespaces), so it is PID 1 of a fresh PID namespace with no network. It then

1. builds a new root from read-only binds of the system, the Python installation and a copy of the lab
   engine, with empty tmpfs folders for /tmp and the learner's home (which gets the notebook), and
   chroots into it; the grader's files (hidden tests, reference results, other submissions, the course)
   are simply not in that tree;
2. drops to an unprivileged uid with no new privileges, applies the resource limits and scrubs stdio;
3. runs the code cells in order in one namespace, announcing each cell so that the grader can time it
   out, and records PREDICTIONS as they stood before the first training cell;
4. says "ready", and only then reads (from a pipe) a random marker and the unseen exercise inputs,
   converts the answer variables and the exercise outputs to plain JSON and writes them behind the
   marker.

The learner's code runs in this process, so nothing here is secret from it: the marker does not exist
until the learner's cells have finished, and every number the grader trusts is computed outside.
Standard library only, and nothing from quizgen: this file runs before (and apart from) the engine.
"""

import builtins
import ctypes
import importlib.util
import json
import os
import random
import re
import resource
import signal
import sys
import time
import traceback

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
MAX_TEXT = 20_000
MAX_ITEMS = 200_000
MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$")


class Unsupported(Exception):
    pass


class CallTimeout(BaseException):
    """Raised by the alarm inside a learner's function; a BaseException so `except Exception` cannot keep it."""


# --- talking to the grader ----------------------------------------------------------------------


class Channel:
    def __init__(self, fd: int):
        self.fd = fd
        self._write, self._dumps = os.write, json.dumps  # bound now, before any learner code runs

    def send(self, payload: dict, marker: str = "") -> None:
        data = (marker + self._dumps(payload) + marker + "\n").encode("utf-8", "replace")
        while data:
            data = data[self._write(self.fd, data):]


# --- the jail -----------------------------------------------------------------------------------


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def mount(libc, source, target, fstype, flags, data=None) -> None:
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    if libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source or fstype} on {target}: {os.strerror(error)}")


def bind(libc, root: str, source: str, target: str | None = None, writable: bool = False) -> None:
    inside = root + (target or source)
    if os.path.islink(source) and target is None:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        if not os.path.lexists(inside):
            os.symlink(os.readlink(source), inside)
        return
    if os.path.isdir(source):
        os.makedirs(inside, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(inside), exist_ok=True)
        if not os.path.exists(inside):
            open(inside, "w").close()
    mount(libc, source, inside, None, MS_BIND | MS_REC)
    if not writable:
        device_flags = 0 if source.startswith("/dev/") else MS_NODEV
        mount(libc, None, inside, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | device_flags)


def enter_jail(settings: dict, notebook: bytes) -> None:
    libc = _libc()
    root, uid = settings["root"], settings["uid"]
    mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    # The writable scratch folders first: a Python installation bound afterwards stays visible even
    # when it lives under /tmp (a virtual environment in a CI checkout there, say).
    for folder, size in (("/dev/shm", "64m"), ("/tmp", settings["tmp_size"]), ("/home/learner", settings["tmp_size"])):
        os.makedirs(root + folder, exist_ok=True)
        mount(libc, "tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for path in settings["binds"]:
        if os.path.lexists(path):
            bind(libc, root, path)
    bind(libc, root, settings["runtime"], "/opt/quizgen")
    for path in settings["hide"]:  # e.g. an installed quizgen package inside a bound prefix
        if os.path.isdir(root + path):
            mount(libc, "tmpfs", root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
    for device in ("null", "zero", "full", "random", "urandom"):
        bind(libc, root, f"/dev/{device}", writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV)
    home_notebook = root + "/home/learner/" + settings["notebook_name"]
    with open(home_notebook, "wb") as file:
        file.write(notebook)
    if settings["drop_to_uid"]:
        os.chown(root + "/home/learner", uid, uid)
        os.chown(home_notebook, uid, uid)
        os.chmod(root + "/home/learner", 0o700)
    os.chdir(root)
    os.chroot(".")
    os.chdir("/home/learner")
    if settings["drop_to_uid"]:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        # Changing credentials clears the parent-death signal that `unshare --kill-child` set: set it again,
        # so that this namespace dies with the grader even if nobody kills it.
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def set_limits(limits: dict) -> None:
    for name, value in (("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_FSIZE", limits["file_bytes"]),
                        ("RLIMIT_NOFILE", limits["open_files"]), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))


def check_environment(modules: list[str], files: list[str]) -> str | None:
    """What the notebook needs from our setup; None when all is there."""
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return f"the grading environment cannot import {module}"
        except Exception as error:  # noqa: BLE001 - a broken package is an environment problem
            return f"the grading environment cannot import {module}: {type(error).__name__}: {error}"
    for path in files:
        if not os.path.exists(path):
            return f"the grading environment lacks {path}"
    return None


# --- plain values out, learner inputs in ---------------------------------------------------------


def to_plain(value, depth: int = 0, budget: list | None = None):
    """A learner's value as JSON-able data made of exact builtin types.

    Unbound builtin methods (float.__float__, dict.items, …) read the stored data, so a subclass that
    overrides comparison, conversion or iteration cannot change what comes out.
    """
    budget = budget if budget is not None else [MAX_ITEMS]
    budget[0] -= 1
    if depth > 32 or budget[0] < 0:
        raise Unsupported("too large or too deeply nested")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, bool):
        return bool(int.__int__(value))
    if isinstance(value, int):
        number = int.__int__(value)
        return number if abs(number) < 2**63 else float(number)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)[:MAX_TEXT]
    if isinstance(value, (list, tuple)):
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        return [to_plain(item, depth + 1, budget) for item in items]
    if isinstance(value, dict):
        plain = {}
        for key, item in dict.items(value):
            if not isinstance(key, str):
                raise Unsupported(f"a dict key of type {type(key).__name__}")
            plain[str.__str__(key)] = to_plain(item, depth + 1, budget)
        return plain
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if torch.Tensor.numel(value) > MAX_ITEMS:
            raise Unsupported("a tensor too large to grade")
        if torch.Tensor.dim(value) == 0:
            return to_plain(torch.Tensor.item(value), depth + 1, budget)
        return to_plain(torch.Tensor.tolist(value), depth + 1, budget)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.generic, numpy.ndarray)):
        return to_plain(value.tolist(), depth + 1, budget)
    raise Unsupported(f"a value of type {type(value).__name__}")


def plain_or_marker(value):
    try:
        return to_plain(value)
    except Unsupported as error:
        return {"__unsupported__": str(error)}
    except BaseException as error:  # noqa: BLE001 - a learner object that breaks while being read
        return {"__unsupported__": f"reading it raised {type(error).__name__}"}


def decode(argument):
    """An exercise argument as the grader encoded it: a tensor, a dict or list of them, or a value."""
    if "tensor" in argument:
        import torch

        return torch.tensor(argument["tensor"], dtype=getattr(torch, argument["dtype"]))
    if "dict" in argument:
        return {name: decode(item) for name, item in argument["dict"].items()}
    if "list" in argument:
        return [decode(item) for item in argument["list"]]
    return argument["value"]


# --- running the cells --------------------------------------------------------------------------


def code_cells(notebook: dict) -> list[tuple[int, str]]:
    """(index in the notebook, source) of every code cell; the grader has already checked the shape."""
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append((index, source if isinstance(source, str) else "".join(source)))
    return cells


def describe(error: BaseException, cell_name: str) -> dict:
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == cell_name:
            line = frame.lineno
    try:
        message = str(error)[:500]
    except BaseException:  # noqa: BLE001 - a learner exception whose __str__ fails
        message = ""
    return {"type": type(error).__name__, "message": message, "line": line}


def without_magics(source: str) -> str:
    """IPython magics and shell escapes (`%…`, `!…`) have no meaning here; they become comments."""
    return "\n".join(MAGIC_LINE.sub(r"\1# \2", line) for line in source.split("\n"))


def run_cells(cells: list, train_from: int, channel: Channel, namespace: dict) -> dict | None:
    """Run every cell; returns PREDICTIONS as it stood before the first training cell (None if unset)."""
    predictions = None
    try:
        for position, (index, source) in enumerate(cells):
            channel.send({"event": "cell", "index": index})
            started, status, error = time.perf_counter(), "ok", None
            cell_name = f"<cell {index}>"
            try:
                exec(compile(without_magics(source), cell_name, "exec"), namespace)  # noqa: S102 - the sandbox's purpose
            except KeyboardInterrupt:
                status = "interrupted"
            except BaseException as exception:  # noqa: BLE001 - SystemExit and all: a learner's error is feedback
                status, error = "error", describe(exception, cell_name)
            channel.send({"event": "cell_done", "index": index, "status": status, "error": error,
                          "seconds": time.perf_counter() - started})
            if position < train_from and "PREDICTIONS" in namespace:
                predictions = plain_or_marker(namespace["PREDICTIONS"])
            if status == "interrupted":
                break
    except KeyboardInterrupt:
        channel.send({"event": "cell_done", "index": -1, "status": "interrupted", "error": None, "seconds": 0.0})
    return predictions


def harvest(request: dict, namespace: dict, predictions, channel: Channel) -> None:
    marker = request["marker"]
    values = {name: plain_or_marker(namespace[name]) for name in request["variables"] if name in namespace}
    channel.send({"record": "variables", "values": values, "predictions_before_training": predictions}, marker)

    def on_alarm(signum, frame):
        raise CallTimeout()

    for name, cases in request["exercises"].items():
        function = namespace.get(name)
        if not callable(function):
            channel.send({"record": "exercise", "name": name, "defined": False, "results": []}, marker)
            continue
        results = []
        for arguments in cases:
            try:
                decoded = [decode(argument) for argument in arguments]  # may import torch: not the learner's time
            except BaseException as exception:  # noqa: BLE001
                results.append({"error": describe(exception, "")})
                continue
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, request["call_timeout"])
            try:
                output = function(*decoded)
                signal.setitimer(signal.ITIMER_REAL, 0)
                results.append({"output": plain_or_marker(output)})
            except CallTimeout:
                results.append({"error": {"type": "timeout", "message": "", "line": None}})
            except BaseException as exception:  # noqa: BLE001
                signal.setitimer(signal.ITIMER_REAL, 0)
                results.append({"error": describe(exception, "")})
        channel.send({"record": "exercise", "name": name, "defined": True, "results": results}, marker)
    channel.send({"record": "done"}, marker)


def main() -> None:
    settings = json.loads(sys.argv[1])
    channel = Channel(settings["report_fd"])
    try:
        with open(settings["notebook"], "rb") as file:
            notebook = file.read()
        if settings["jail"]:
            enter_jail(settings, notebook)
        else:
            os.chdir(os.path.dirname(settings["notebook"]))
        sys.path.insert(0, "/opt/quizgen" if settings["jail"] else settings["runtime"])
        problem = check_environment(settings["modules"], settings["files"] if settings["jail"] else [])
        if problem:
            raise RuntimeError(problem)
        cells = code_cells(json.loads(notebook))
        set_limits(settings["limits"])
    except BaseException as error:  # noqa: BLE001 - anything here is our setup failing, not the learner
        channel.send({"event": "environment_error", "message": f"{type(error).__name__}: {error}"})
        os._exit(3)

    # The learner's stdin is empty, their stdout and stderr go to the grader's log pipe.
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(settings["output_fd"], 1)
    os.dup2(settings["output_fd"], 2)
    for fd in (null, settings["output_fd"]):
        os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    random.seed(settings["seed"])
    signal.signal(signal.SIGINT, signal.default_int_handler)

    namespace = {"__name__": "__main__", "__builtins__": builtins, "display": print}
    predictions = run_cells(cells, settings["train_from"], channel, namespace)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the learner's time is over; the harvest must finish
    channel.send({"event": "ready"})
    with os.fdopen(settings["request_fd"], "r") as requests:
        line = requests.readline()
    try:
        request = json.loads(line)
    except ValueError:
        os._exit(4)
    harvest(request, namespace, predictions, channel)
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: learner objects' finalizers have nothing left to say


if __name__ == "__main__":
    main()
