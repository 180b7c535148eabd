"""The sandbox side of `quizgen grade`: runs one learner's notebook and answers the grader's requests.

The grader starts it as `python -s -P boot.py SETTINGS` inside bubblewrap (jail.py builds the walls:
namespaces, read-only system binds, no capabilities, a system-call filter), with the notebook's code
cells on standard input. It then

1. (as root only) drops to the worker slot's unprivileged uid, applies the resource limits, checks the
   environment and says "setup" — nothing of the learner's has run yet, so this is the only moment an
   "environment error" can be reported;
2. runs the code cells in order in one namespace, announcing each cell and its end;
3. says "ready", and from then on answers one request at a time: the answer variables as plain JSON,
   then one call of a learner's function on one unseen input per request.

The learner's code runs in this process, so nothing here is trusted by the grader: every message is
checked against what the grader asked for, every deadline is kept outside, and the grader decides
statuses and scores from what it observes. This file only makes honest notebooks work well: an alarm
that stops a slow function on one input so the next one can run, plain values read from exact builtin
types. Standard library only, and nothing from quizgen: this file runs before (and apart from) the engine.
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

PR_SET_PDEATHSIG = 1
MAX_TEXT = 20_000
MAX_ITEMS = 200_000
MAGIC_LINE = re.compile(r"^(\s*)([%!].*)$")


class Unsupported(Exception):
    pass


class CallTimeout(BaseException):
    """Raised by the alarm inside a learner's function; a BaseException so `except Exception` cannot keep it."""


class Channel:
    def __init__(self, fd: int):
        self.fd = fd
        self._write, self._dumps = os.write, json.dumps  # bound now, before any learner code runs

    def send(self, payload: dict) -> None:
        data = (self._dumps(payload) + "\n").encode("utf-8", "replace")
        while data:
            data = data[self._write(self.fd, data):]


def drop_privileges(uid: int) -> None:
    """As root (no user namespace): become the slot's uid. Changing uid clears every capability and the
    parent-death signal; set that again so the notebook dies with the sandbox."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def set_limits(limits: dict) -> None:
    for name, value in (("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_FSIZE", limits["file_bytes"]),
                        ("RLIMIT_NOFILE", limits["open_files"]), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))


def check_environment(modules: list, files: list):
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


def run_cells(cells: list, channel: Channel, namespace: dict) -> None:
    try:
        for index, source in cells:
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
            if status == "interrupted":
                return
    except KeyboardInterrupt:  # between two cells
        return


def serve(requests, namespace: dict, channel: Channel) -> None:
    """Answer the grader's requests, one line each, until it has what it needs (then it ends us)."""
    def on_alarm(signum, frame):
        raise CallTimeout()

    for line in requests:
        request = json.loads(line)
        token = request["token"]
        if request["op"] == "variables":
            values = {name: plain_or_marker(namespace[name]) for name in request["names"] if name in namespace}
            channel.send({"token": token, "values": values})
            continue
        function = namespace.get(request["function"])
        if not callable(function):
            channel.send({"token": token, "defined": False})
            continue
        try:
            arguments = [decode(argument) for argument in request["arguments"]]
        except BaseException as exception:  # noqa: BLE001
            channel.send({"token": token, "defined": True, "error": describe(exception, "")})
            continue
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, request["timeout"])
        try:
            output = function(*arguments)
            signal.setitimer(signal.ITIMER_REAL, 0)
            reply = {"token": token, "defined": True, "output": plain_or_marker(output)}
        except CallTimeout:
            reply = {"token": token, "defined": True, "error": {"type": "timeout", "message": "", "line": None}}
        except BaseException as exception:  # noqa: BLE001
            signal.setitimer(signal.ITIMER_REAL, 0)
            reply = {"token": token, "defined": True, "error": describe(exception, "")}
        channel.send(reply)


def main() -> None:
    settings = json.loads(sys.argv[1])
    channel = Channel(settings["report_fd"])
    try:
        cells = [(int(index), str(source)) for index, source in json.load(sys.stdin)]
        if settings["drop_to_uid"] is not None:
            drop_privileges(settings["drop_to_uid"])
        sys.path.insert(0, settings["runtime"])
        problem = check_environment(settings["modules"], settings["files"])
        if problem:
            raise RuntimeError(problem)
        set_limits(settings["limits"])
    except BaseException as error:  # noqa: BLE001 - anything here is our setup failing, not the learner
        channel.send({"event": "environment_error", "message": f"{type(error).__name__}: {error}"})
        os._exit(3)
    channel.send({"event": "setup"})

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
    run_cells(cells, channel, namespace)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the learner's time is over
    if settings["needs_torch"]:
        import torch  # noqa: F401 - the unseen inputs are tensors: not the learner's time

    channel.send({"event": "ready"})
    with os.fdopen(settings["request_fd"], "r") as requests:
        serve(requests, namespace, channel)
    os._exit(0)  # skip interpreter teardown: learner objects' finalizers have nothing left to say


if __name__ == "__main__":
    main()
