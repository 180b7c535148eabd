"""Hostile submissions for `quizgen grade`: one table, graded as root in-process (test_attacks.py) and as
`nobody` through the command line (test_unprivileged.py), with the same expectations.

The rule they test: everything produced inside the learner's process is untrusted, and every decision
(deadline, status, score) is taken outside it. Each attack is written the way a learner would write it,
in a code cell, and tries hard: it writes forged control lines to every file descriptor it has (3..255,
the ones /proc/self/fd lists and any named in sys.argv), reads the stack of whoever calls its functions,
patches whatever it can reach in its own process.

An entry is (learner, make, expect):

- ``make(folder, context)`` writes the submission's file(s) into the submissions folder;
- ``expect(record, out, context)`` asserts what a user of the grader would notice: the status, the points,
  the files in the output folder, what is left running or allocated on the machine afterwards.

``context`` (a ``Context``) carries what both sides need: host paths the attacks look for, a batch token
the attacks' leftover processes carry in their command line, the host's SysV shared-memory segments
before and after, the limits the batch ran under and, once graded, every record by learner id.
"""

from __future__ import annotations

import csv
import ctypes
import json
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import grade_helpers as subs
from paths import ROOT

LEARNER_UIDS = range(61000, 61064)  # the uids the grader gives sandboxes (one per worker slot)
SHM_SIZE = 100 * 2**20  # what the shared-memory attack asks for, three times
VALID_PREDICTIONS = {"forgets_more": "aggressive", "drifts_more": "aggressive", "random_init_learns_task": False}
# Numbers that satisfy every relation of the initialization lab, made up without running anything.
MADE_UP = {"moderate_recall": 0.9, "aggressive_recall": 0.3, "moderate_drift": 0.05, "aggressive_drift": 0.6,
           "moderate_retention": 0.95, "aggressive_retention": 0.4, "random_init_heldout_accuracy": 0.05,
           "lora_recall": 0.9}
# Printed by the jail attacks when something worked; none may appear in a log.
SUCCESS_WORDS = ("FOUND", "WROTE", "ESCAPED", "CAPS", "UNSHARED", "MOUNTED")


@dataclass
class Context:
    mode: str  # "root" (in-process) or "nobody" (the command line, unprivileged)
    folder: Path  # the submissions
    out: Path
    cache: Path
    token: str = field(default_factory=lambda: "qzleft" + secrets.token_hex(8))
    secret_paths: list[str] = field(default_factory=list)  # host paths no sandbox may read
    host_shmid: int | None = None
    shm_before: dict = field(default_factory=dict)  # shmid -> size, before the batch
    shm_after: dict = field(default_factory=dict)  # right after it
    limits: dict = field(default_factory=dict)  # as results.json states them
    records: dict = field(default_factory=dict)  # learner id -> record
    error: str = ""  # why the batch itself stopped, if it did
    seconds: float = 0.0

    def log(self, learner: str) -> str:
        path = self.out / "logs" / f"{learner}.txt"
        return path.read_bytes().decode("utf-8", "replace") if path.exists() else ""

    def feedback(self, learner: str) -> str:
        path = self.out / "feedback" / f"{learner}.md"
        assert path.exists(), f"no feedback file for {learner}"
        return path.read_bytes().decode("utf-8", "replace")

    def limit(self, name: str, default: float) -> float:
        value = self.limits.get(name)
        return float(value) if isinstance(value, (int, float)) else default


@dataclass(frozen=True)
class Attack:
    name: str
    make: Callable[[Path, Context], None]
    expect: Callable[[dict, Path, Context], None]


def notebook(builder: Callable[[Context], dict], name: str) -> Callable[[Path, Context], None]:
    """A maker that writes ``builder(context)`` as ``<name>.ipynb``."""
    def make(folder: Path, context: Context) -> None:
        subs.write(folder, name, builder(context))
    return make


# --- code the attacks share (pasted into their cells: the sandbox has nothing of ours) ---------------

FORGE = r'''
import json, os, select, sys
import json as _json, os as _os, select as _select, sys as _sys

def _every_fd():
    fds = set(range(1, 256))
    try:
        fds.update(int(name) for name in _os.listdir('/proc/self/fd'))
    except OSError:
        pass
    for argument in _sys.argv:  # the grader's settings, if it put them there
        try:
            settings = _json.loads(argument)
        except ValueError:
            continue
        if isinstance(settings, dict):
            fds.update(v for k, v in settings.items() if k.endswith('fd') and type(v) is int)
    return sorted(fd for fd in fds if 0 < fd < 4096)

FDS = _every_fd()

def forge(*lines):
    data = ''.join((line if isinstance(line, str) else _json.dumps(line)) + '\n' for line in lines).encode()
    for fd in FDS:
        try:
            if _select.select([], [fd], [], 0)[1]:
                _os.write(fd, data)
        except (OSError, ValueError):
            pass
'''

SOLVE = r'''
def _flat(x):
    if isinstance(x, list):
        for y in x:
            yield from _flat(y)
    else:
        yield x

def _plain(argument):
    if 'tensor' in argument:
        return argument['tensor']
    if 'dict' in argument:
        return {k: _plain(v) for k, v in argument['dict'].items()}
    if 'list' in argument:
        return [_plain(v) for v in argument['list']]
    return argument.get('value')

def _drift(theta, theta_hat):
    change = sum((a - b) ** 2 for n in theta_hat for a, b in zip(_flat(theta[n]), _flat(theta_hat[n])))
    norm = sum(b * b for n in theta_hat for b in _flat(theta_hat[n]))
    return (change / norm) ** 0.5

def _retention(before, after):
    known = [i for i, hit in enumerate(before) if hit]
    return sum(bool(after[i]) for i in known) / len(known)

SOLVERS = {'relative_drift': _drift, 'knowledge_retention': _retention}

def solved_records(exercises):
    """Exercise records with the right outputs for the unseen inputs, computed from the inputs."""
    records = []
    for name, cases in exercises.items():
        results = []
        for arguments in cases:
            try:
                results.append({'output': SOLVERS[name](*[_plain(a) for a in arguments])})
            except Exception:
                results.append({'output': None})
        records.append({'record': 'exercise', 'name': name, 'defined': True, 'results': results})
    return records
'''


def _cell(*parts: str) -> str:
    return "\n".join(part.strip("\n") for part in parts) + "\n"


# --- 1. jail escape ---------------------------------------------------------------------------------


def jail_escape(context: Context) -> dict:
    name = "jail-escape"
    return subs.around_student_cells(_cell(
        "import ctypes, os, sys",
        "ANSWERS['aggressive-risk'] = 'B'",
        f"SECRETS = {context.secret_paths!r}",
        f"FOLDERS = {[str(context.out), str(context.out / 'feedback'), str(context.folder)]!r}",
        f"OTHERS = {[str(context.folder / 'victim.ipynb'), str(context.folder / 'made-up-measurements.ipynb')]!r}",
        "def say(word, what):",
        "    print(word, what, flush=True)",
        "def look_around(where):",
        "    for path in SECRETS:",
        "        try:",
        "            with open(path, 'rb') as f:",
        "                if f.read(100):",
        "                    say('FOUND', f'{path} ({where})')",
        "        except OSError:",
        "            pass",
        "    for folder in FOLDERS:",
        "        try:",
        f"            with open(os.path.join(folder, 'escape-proof-{name}.txt'), 'w') as f:",
        "                f.write('written from inside the sandbox')",
        "            say('WROTE', f'{folder} ({where})')",
        "        except OSError:",
        "            pass",
        "    for path in OTHERS:",
        "        try:",
        "            open(path, 'r+b').close()  # opened for writing (nothing written)",
        "            say('WROTE', f'{path} ({where})')",
        "        except OSError:",
        "            pass",
        "def chroot_escape(where):",
        "    before = os.stat('/')",
        "    try:",
        "        os.makedirs('/tmp/jail-escape', exist_ok=True)",
        "        os.chroot('/tmp/jail-escape')",
        "        for _ in range(50):",
        "            os.chdir('..')",
        "        os.chroot('.')",
        "    except OSError as error:",
        "        print('chroot refused', where, error.errno)",
        "        return",
        "    after = os.stat('/')",
        "    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):",
        "        say('ESCAPED', f'chroot ({where}); / now holds {sorted(os.listdir(\"/\"))[:20]}')",
        "    look_around(f'after chroot, {where}')",
        "for line in open('/proc/self/status'):",
        "    if line.startswith('CapEff:') and int(line.split()[1], 16):",
        "        say('CAPS', line.split()[1])",
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]",
        "print('PIDS', len(pids))",
        "for pid in pids:",
        "    try:",
        "        words = open(f'/proc/{pid}/cmdline', 'rb').read().decode(errors='replace').split('\\0')",
        "    except OSError:",
        "        continue",
        "    grader = ('quizgen' in words and 'grade' in words) or any('pytest' in word for word in words)",
        "    if int(pid) != os.getpid() and grader:",
        "        say('FOUND', f'the grader, pid {pid}: {\" \".join(words)[:200]}')",
        "print('ROOT', sorted(os.listdir('/')))",
        "look_around('in the jail')",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "for flags, what in ((0x10000000, 'user'), (0x10000000 | 0x00020000, 'user+mount')):",
        "    child = os.fork()",
        "    if child == 0:",
        "        try:",
        "            if libc.unshare(flags) == 0:",
        "                say('UNSHARED', what)",
        "                if libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0:",
        "                    say('MOUNTED', f'tmpfs on /tmp in a new {what} namespace')",
        "                chroot_escape(f'in a new {what} namespace')",
        "            else:",
        "                print('unshare refused', what, ctypes.get_errno())",
        "        finally:",
        "            os._exit(0)",
        "    os.waitpid(child, 0)",
        "if libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0:",
        "    say('MOUNTED', 'tmpfs on /tmp')",
        "child = os.fork()",
        "if child == 0:",
        "    try:",
        "        chroot_escape('as the notebook')",
        "    finally:",
        "        os._exit(0)",
        "os.waitpid(child, 0)",
    ), at_end=True)


def expect_jail_holds(record, out, context):
    assert record["status"] == "graded", record["message"]
    log = context.log(record["learner"])
    assert "PIDS" in log, f"the attack did not run: {log[-2000:]}"
    succeeded = [line for line in log.splitlines() if line.split(" ", 1)[0] in SUCCESS_WORDS]
    assert not succeeded, "\n".join(succeeded)
    pids = int(log.split("PIDS ")[1].split()[0])
    assert pids < 20, f"the sandbox sees {pids} processes"
    planted = [str(p) for folder in (out, context.folder) for p in folder.rglob("escape-proof-*")]
    assert not planted, planted
    assert subs.earned(record, "question:aggressive-risk") == 1


# --- 2. forged control channel ----------------------------------------------------------------------


def forged_cell_events(context: Context) -> dict:
    events = [{"event": "cell", "index": 1}, {"event": "cell_done", "index": 1, "status": "ok", "error": None,
                                              "seconds": 0.1},
              {"event": "cell", "index": 2}, {"event": "cell_done", "index": 2, "status": "ok", "error": None,
                                              "seconds": 0.1},
              {"event": "ready"}, {"record": "done"}]
    return subs.tiny(subs.FIRST_CHOICE, _cell(
        FORGE,
        "import time",
        f"EVENTS = {events!r}",
        "started = time.monotonic()",
        "while time.monotonic() - started < 30:",
        "    forge(*EVENTS)",
        "    time.sleep(0.5)",
    ), "ANSWERS['what-moderate-means'] = 'C'")


def expect_cell_timeout_despite_forged_events(record, out, context):
    assert record["status"] == "cell timeout", (record["status"], record["message"])
    bound = context.limit("cell_timeout", 8) + context.limit("grace", 5) + 15
    assert record["timings"]["sandbox_s"] < bound, record["timings"]
    assert subs.earned(record, "question:aggressive-risk") == 1
    assert subs.earned(record, "question:what-moderate-means") == 0  # the cell after never ran


def forged_environment_error(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        FORGE,
        "ANSWERS['aggressive-risk'] = 'B'",
        "forge({'event': 'environment_error', 'message': 'x'})",
        "print({'event': 'environment_error', 'message': 'x'})",
    ), at_end=True)


def _csv_row(out: Path, learner: str) -> dict | None:
    path = out / "grades.csv"
    assert path.exists(), "grades.csv was not written"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    return next((row for row in rows if row["learner"] == learner), None)


def expect_not_an_environment_error(record, out, context):
    assert record["status"] != "environment error", record["message"]
    row = _csv_row(out, record["learner"])
    assert row is not None and re.fullmatch(r"\d+(\.\d+)?", row["score"]), row
    assert subs.earned(record, "question:aggressive-risk") == 1


def frame_snooping_exercise(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        FORGE, SOLVE,
        "import re, sys, time",
        "ANSWERS['aggressive-risk'] = 'B'",
        "def relative_drift(theta, theta_hat):",
        "    markers, exercises = {'', '0' * 32}, {}",
        "    for depth in range(1, 12):",
        "        try:",
        "            frame = sys._getframe(depth)",
        "        except ValueError:",
        "            break",
        "        for value in list(frame.f_locals.values()):",
        "            if isinstance(value, str) and re.fullmatch('[0-9a-f]{16,}', value):",
        "                markers.add(value)",
        "            if isinstance(value, dict):",
        "                if isinstance(value.get('marker'), str):",
        "                    markers.add(value['marker'])",
        "                if isinstance(value.get('exercises'), dict):",
        "                    exercises.update(value['exercises'])",
        "    print('MARKERS', len(markers) - 2, 'INPUTS', sorted(exercises), flush=True)",
        "    records = solved_records(exercises) + [{'record': 'done'}]",
        "    forge(*[marker + json.dumps(r) + marker for marker in markers for r in records])",
        "    time.sleep(60)",
    ), at_end=True)


def expect_snooping_earns_nothing_and_ends_in_time(record, out, context):
    assert record["timings"]["sandbox_s"] < 60, record["timings"]
    assert subs.earned(record, "exercise:") == 0, [i for i in record["items"] if i["id"].startswith("exercise:")]


def json_encoder_rewrite(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "import json",
        f"VALID = {VALID_PREDICTIONS!r}",
        "def rewrite(obj):",
        "    if isinstance(obj, dict):",
        "        for key in ('predictions_before_training', 'PREDICTIONS', 'predictions'):",
        "            if isinstance(obj.get(key), dict):",
        "                obj[key] = dict(VALID)",
        "        for value in list(obj.values()):",
        "            rewrite(value)",
        "    elif isinstance(obj, list):",
        "        for value in obj:",
        "            rewrite(value)",
        "    return obj",
        "class Rewriter(json.JSONEncoder):",
        "    def encode(self, obj):",
        "        return super().encode(rewrite(obj))",
        "    def iterencode(self, obj, _one_shot=False):",
        "        return super().iterencode(rewrite(obj), _one_shot)",
        "json._default_encoder = Rewriter(skipkeys=False, ensure_ascii=True, check_circular=True, allow_nan=True,",
        "                                 indent=None, separators=None, default=None)",
        "_dumps = json.dumps",
        "json.dumps = lambda obj, *args, **kwargs: _dumps(rewrite(obj), *args, **kwargs)",
        "print('PREDICTIONS stays', PREDICTIONS)",
    ), at_end=True)


def expect_no_prediction_points(record, out, context):
    predictions = [item for item in record["items"] if item["id"].startswith("prediction:")]
    assert predictions and all(item["earned"] == 0 for item in predictions), predictions


def steals_request(context: Context) -> dict:
    """Says "ready" itself, then reads the grader's request (marker, unseen inputs) from whatever fd it is on."""
    forged_variables = {"record": "variables", "values": {"ANSWERS": subs.correct_answers(), "PREDICTIONS":
                                                          VALID_PREDICTIONS},
                        "predictions_before_training": VALID_PREDICTIONS}
    return subs.around_student_cells(_cell(
        FORGE, SOLVE,
        "import select, time",
        f"FORGED = {forged_variables!r}",
        "forge({'event': 'ready'})",
        "request, buffers, deadline = None, {}, time.monotonic() + 6",
        "while request is None and time.monotonic() < deadline:",
        "    for fd in [0] + FDS:",
        "        try:",
        "            if not select.select([fd], [], [], 0)[0]:",
        "                continue",
        "            chunk = os.read(fd, 1 << 20)",
        "        except (OSError, ValueError):",
        "            continue",
        "        buffers[fd] = buffers.get(fd, b'') + chunk",
        "        for line in buffers[fd].split(b'\\n'):",
        "            try:",
        "                message = json.loads(line)",
        "            except ValueError:",
        "                continue",
        "            if isinstance(message, dict) and isinstance(message.get('marker'), str):",
        "                request = message",
        "    time.sleep(0.1)",
        "print('REQUEST', 'stolen' if request else 'not found', flush=True)",
        "if request:",
        "    marker = request['marker']",
        "    records = [FORGED, *solved_records(request.get('exercises', {})), {'record': 'done'}]",
        "    forge(*[marker + json.dumps(r) + marker for r in records])",
    ), at_end=True)


def expect_nothing_earned(record, out, context):
    earned = [(item["id"], item["earned"]) for item in record["items"] if item["earned"]]
    assert record["score"] == 0 and not earned, earned


def expect_only_its_own_answers(record, out, context):
    """Quiz answers are the learner's own data: a patch that rewrites them on their way out can only send
    what the learner could have written (it knows RIGHT, so it could set ANSWERS = RIGHT); what it must not
    reach is anything the grader decides: predictions (read from the notebook's text) and exercises
    (computed outside from the function's outputs)."""
    assert subs.earned(record, "prediction:") == 0
    assert subs.earned(record, "exercise:") == 0
    assert subs.earned(record, "measured") == 0
    assert record["status"] == "graded", record["message"]


def patches_grader(context: Context) -> dict:
    """Rewrites the answers on their way out, by patching whatever of the grader lives in its process."""
    return subs.around_student_cells(_cell(
        "import gc, sys",
        f"RIGHT = {subs.correct_answers()!r}",
        f"VALID = {VALID_PREDICTIONS!r}",
        "def doctor(payload):",
        "    if isinstance(payload, dict):",
        "        values = payload.get('values')",
        "        if isinstance(values, dict):",
        "            values['ANSWERS'] = dict(RIGHT)",
        "            values['PREDICTIONS'] = dict(VALID)",
        "        if 'predictions_before_training' in payload:",
        "            payload['predictions_before_training'] = dict(VALID)",
        "    return payload",
        "patched = []",
        "for module_name, module in list(sys.modules.items()):",
        "    if module is None or module_name.startswith(('_', 'encodings')):",
        "        continue",
        "    for attribute in ('plain_or_marker', 'to_plain'):",
        "        original = getattr(module, attribute, None)",
        "        if callable(original) and getattr(original, '__module__', '') == getattr(module, '__name__', None):",
        "            def forged(value, *args, _original=original, **kwargs):",
        "                plain = _original(value, *args, **kwargs)",
        "                if isinstance(plain, dict) and 'aggressive-risk' in plain:",
        "                    plain.update(RIGHT)",
        "                if isinstance(plain, dict) and 'forgets_more' in plain:",
        "                    plain.update(VALID)",
        "                return plain",
        "            setattr(module, attribute, forged)",
        "            patched.append(f'{module_name}.{attribute}')",
        "for obj in gc.get_objects():",
        "    try:",
        "        send = getattr(type(obj), 'send', None)",
        "        if callable(send) and type(obj).__module__ == '__main__' and not isinstance(obj, type):",
        "            obj.send = lambda payload, *args, _send=obj.send, **kw: _send(doctor(payload), *args, **kw)",
        "            patched.append(type(obj).__name__ + '.send')",
        "    except Exception:",
        "        pass",
        "print('PATCHED', patched)",
    ), at_end=True)


# --- 3. timeouts the learner cancels ------------------------------------------------------------------


def cancels_call_timer(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "ANSWERS['aggressive-risk'] = 'B'",
        "def relative_drift(theta, theta_hat):",
        "    import signal, time",
        "    signal.setitimer(signal.ITIMER_REAL, 0)",
        "    signal.signal(signal.SIGALRM, signal.SIG_IGN)",
        "    for name in ('SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGXCPU'):",
        "        try:",
        "            signal.signal(getattr(signal, name), signal.SIG_IGN)",
        "        except (OSError, ValueError):",
        "            pass",
        "    end = time.monotonic() + 60",
        "    while time.monotonic() < end:",
        "        try:",
        "            time.sleep(0.05)",
        "        except BaseException:",
        "            pass",
        "    return 0.0",
    ), at_end=True)


def expect_timer_cancelled_in_vain(record, out, context):
    # The grader, not the function, decides when a call is over: one call's time limit, the grace, and
    # 15 s for starting the sandbox and the calls before.
    bound = context.limit("call_timeout", 10) + context.limit("grace", 5) + 15
    assert record["timings"]["sandbox_s"] < bound, record["timings"]
    assert subs.earned(record, "exercise:relative_drift") == 0
    assert subs.earned(record, "question:aggressive-risk") == 1, record["message"]


# --- 4. limits ----------------------------------------------------------------------------------------


def memory_in_children(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "import os, time",
        "ANSWERS['aggressive-risk'] = 'B'",
        "children, started = [], time.monotonic()",
        "for _ in range(3):",
        "    child = os.fork()",
        "    if child == 0:",
        "        try:",
        "            block = bytearray(600 * 2**20)",
        "            block[::4096] = b'\\x01' * len(range(0, len(block), 4096))",
        "            print(f'TOUCHED 600 MiB after {time.monotonic() - started:.1f} s', flush=True)",
        "            time.sleep(1.5)  # all three hold their memory at once",
        "        finally:",
        "            os._exit(0)",
        "    children.append(child)",
        "for child in children:",
        "    print('child', os.waitpid(child, 0))",
    ), at_end=True)


def expect_out_of_memory(record, out, context):
    log = context.log(record["learner"])
    assert record["status"] == "out of memory", (record["status"], record["message"], log[-500:])


def memfd_hoard(context: Context) -> dict:
    """Memory no process's resident set shows: anonymous files written, never mapped (1.5 GiB, 1 GiB allowed)."""
    return subs.around_student_cells(_cell(
        "import os",
        "ANSWERS['aggressive-risk'] = 'B'",
        "chunk, files, written = b'x' * 2**24, [], 0",
        "try:",
        "    for number in range(12):",
        "        fd = os.memfd_create(f'hoard-{number}')",
        "        files.append(fd)",
        "        for _ in range(8):",
        "            os.write(fd, chunk)",
        "            written += len(chunk)",
        "    print('MEMFD wrote', written // 2**20, 'MiB', flush=True)",
        "except OSError as error:",
        "    print('MEMFD refused', type(error).__name__, written // 2**20, flush=True)",
    ), at_end=True)


def expect_memfd_refused_or_capped(record, out, context):
    log = context.log(record["learner"])
    assert "MEMFD wrote" not in log, log[-500:]
    assert "MEMFD refused" in log or record["status"] == "out of memory", (record["status"], log[-500:])
    assert subs.earned(record, "question:aggressive-risk") == 1


def sysv_shm(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "import ctypes",
        "ANSWERS['aggressive-risk'] = 'B'",
        f"HOST = {context.host_shmid!r}",
        "try:",
        "    rows = open('/proc/sysvipc/shm').read().splitlines()",
        "except OSError:",
        "    rows = []",
        "print('SHMLINES', len(rows))",
        "for row in rows[1:]:",
        "    fields = row.split()",
        "    if len(fields) > 3 and fields[1] == str(HOST) and fields[3] == '4096':",
        "        print('HOSTSHM visible', row)",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "libc.shmat.restype = ctypes.c_void_p",
        f"SIZE = {SHM_SIZE}",
        "for _ in range(3):",
        "    shmid = libc.shmget(0, ctypes.c_size_t(SIZE), 0o1000 | 0o600)",
        "    if shmid < 0:",
        "        print('shmget refused', ctypes.get_errno())",
        "        continue",
        "    print('SHM', shmid, flush=True)",
        "    address = libc.shmat(shmid, None, 0)",
        "    if address not in (None, ctypes.c_void_p(-1).value):",
        "        ctypes.memset(address, 1, SIZE)  # memory that outlives the notebook, unless removed",
    ), at_end=True)


def expect_no_shared_memory_across(record, out, context):
    log = context.log(record["learner"])
    assert "SHMLINES" in log, f"the attack did not run: {log[-2000:]}"
    assert "HOSTSHM visible" not in log, [line for line in log.splitlines() if "HOSTSHM" in line]
    left = {shmid: size for shmid, size in context.shm_after.items() if shmid not in context.shm_before}
    assert not left, f"SysV shared memory left on the machine after grading: {left}"


# A program that ignores every signal it can and never ends (its command line carries the batch token).
LINGER = ("import signal, time\n"
          "for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n    signal.signal(number, signal.SIG_IGN)\n"
          "while True:\n    time.sleep(0.05)\n")


def setsid_children(context: Context) -> dict:
    token = f"{context.token}-setsid"
    return subs.around_student_cells(_cell(
        "import os, sys, time",
        "ANSWERS['aggressive-risk'] = 'B'",
        "for _ in range(24):",
        "    try:",
        "        child = os.fork()",
        "    except OSError as error:",
        "        print('fork refused', error)",
        "        break",
        "    if child == 0:",
        "        try:",
        "            os.setsid()",
        "            print('SETSID ok', flush=True)",
        "        except PermissionError:",
        "            print('SETSID refused', flush=True)",
        "        except OSError as error:",
        "            print('SETSID failed', error.errno, flush=True)",
        "        try:",
        f"            os.execv(sys.executable, [sys.executable, '-c', {LINGER!r}, {token!r}])",
        "        finally:",
        "            os._exit(0)",
        "time.sleep(2)",
    ), at_end=True)


def leftover_processes(context: Context) -> list[str]:
    """Processes of this batch's sandboxes still running on the machine: ones carrying the batch token,
    and sandbox processes (a boot.py command line, or a sandbox uid) that name one of our notebooks."""
    notebooks = [f"{attack.name}.ipynb" for attack in ATTACKS if "-" in attack.name]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
            uid = next(int(line.split()[1]) for line in (entry / "status").read_text().splitlines()
                       if line.startswith("Uid:"))
        except (OSError, StopIteration, ValueError):
            continue
        sandboxed = "boot.py" in cmdline or uid in LEARNER_UIDS
        if context.token in cmdline or (sandboxed and any(name in cmdline for name in notebooks)):
            found.append(f"pid {entry.name} uid {uid}: {cmdline[:300]}")
    return found


def expect_setsid_refused_and_nothing_left(record, out, context):
    log = context.log(record["learner"])
    assert "SETSID refused" in log and "SETSID ok" not in log, log[-1500:]
    assert wait_for(lambda: not leftover_processes(context), 3), leftover_processes(context)


# --- 5. one submission must not stop or confuse the batch ----------------------------------------------


def lone_surrogate(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "import os",
        "ANSWERS['aggressive-risk'] = 'B'",
        "def relative_drift(theta, theta_hat):",
        "    raise ValueError('\\ud800 lone surrogate')",
        "os.write(1, '\\ud800 raw\\n'.encode('utf-8', 'surrogatepass'))",
        "try:",
        "    print('\\ud800 printed')",
        "except UnicodeError as error:",
        "    print('print refused', type(error).__name__)",
        "raise ValueError('\\ud800 lone surrogate')",
    ), at_end=True)


def expect_batch_unharmed(record, out, context):
    assert record["status"] == "graded", (record["status"], record["message"])
    row = _csv_row(out, record["learner"])
    assert row is not None, f"grades.csv has no row for {record['learner']}"
    assert row["status"] == "graded"
    context.feedback(record["learner"])  # written, and UTF-8
    assert subs.earned(record, "question:aggressive-risk") == 1


def source_null(folder: Path, context: Context) -> None:
    notebook = subs.tiny("x = 1")
    notebook["cells"][0]["source"] = None
    (folder / "source-null.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


def expect_not_a_notebook(record, out, context):
    assert record["status"] == "not a notebook", (record["status"], record["message"])


def deep_json(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        FORGE,
        "ANSWERS['aggressive-risk'] = 'B'",
        "forge('[' * 100000 + ']' * 100000, '{\"event\": ' * 50000 + '1' + '}' * 50000)",
    ), at_end=True)


def expect_not_environment_error(record, out, context):
    assert record["status"] != "environment error", record["message"]
    assert subs.earned(record, "question:aggressive-risk") == 1


def event_flood(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        FORGE,
        "ANSWERS['aggressive-risk'] = 'B'",
        "lines = [json.dumps({'event': 'cell_done', 'index': i, 'status': 'error', 'seconds': 1.0,",
        "                     'error': {'type': 'X' * 100, 'message': 'y' * 500, 'line': i}}) for i in range(40000)]",
        "for start in range(0, len(lines), 1000):",
        "    forge(*lines[start:start + 1000])",
    ), at_end=True)


def expect_flood_contained(record, out, context):
    size = (out / "results.json").stat().st_size
    assert size < 2 * 2**20, f"results.json is {size / 2**20:.1f} MiB"
    notebook_file = context.folder / f"{record['learner']}.ipynb"
    code_cells = sum(cell["cell_type"] == "code" for cell in json.loads(notebook_file.read_text())["cells"])
    assert len(record["cells"]) <= code_cells, (len(record["cells"]), code_cells)


# --- 6. identity ----------------------------------------------------------------------------------------


def victims(folder: Path, context: Context) -> None:
    answers = subs.correct_answers("victim")  # its own variants of the generated questions
    subs.write(folder, "victim", subs.around_student_cells(f"ANSWERS.update({answers!r})", at_end=True))
    subs.write(folder, "victim!", subs.around_student_cells("pass", at_end=True))


def expect_victim_keeps_name_and_points(record, out, context):
    assert Path(record["file"]).name == "victim.ipynb", record["file"]
    quiz = [item for item in record["items"] if item["id"].startswith("question:") and item["points"]]
    assert quiz and all(item["earned"] == item["points"] for item in quiz), quiz
    other = [r for r in context.records.values() if Path(r["file"]).name == "victim!.ipynb"]
    assert len(other) == 1 and other[0]["learner"] != "victim", [(r["learner"], r["file"]) for r in other]


def linker(folder: Path, context: Context) -> None:
    (folder / "linker.ipynb").symlink_to(folder / "victim.ipynb")


def expect_symlink_refused(record, out, context):
    assert record["status"] == "not a notebook", (record["status"], record["message"])
    assert "symbolic link" in record["message"] or "symlink" in record["message"], record["message"]


def sparse(folder: Path, context: Context) -> None:
    with open(folder / "sparse.ipynb", "wb") as file:
        file.truncate(2 * 2**30)


def expect_too_large(record, out, context):
    assert record["status"] == "not a notebook", (record["status"], record["message"])
    assert re.search(r"larger|too large|too big|size|MiB|GiB|bytes", record["message"]), record["message"]
    assert record["timings"].get("grading_s", 0) < 10, record["timings"]


# --- 7. made-up measurements ------------------------------------------------------------------------------


def made_up_measurements(context: Context) -> dict:
    """The lab's configuration cell with one setting changed (so the relations decide), and MEASURED made
    up to satisfy every relation, with nothing run."""
    config = next(c for c in subs.student_notebook(subs.plan())["cells"] if subs._role(c) == "config")
    assert "WARMUP_STEPS = 10" in config["source"]
    notebook = subs.around_student_cells(_cell(
        "ANSWERS['aggressive-risk'] = 'B'",
        f"MEASURED.update({MADE_UP!r})",
    ), at_end=True)
    changed = dict(config, source=config["source"].replace("WARMUP_STEPS = 10", "WARMUP_STEPS = 5"))
    notebook["cells"].insert(1, changed)
    return notebook


def expect_made_up_measurements_earn_nothing(record, out, context):
    assert all(relation.holds(MADE_UP) for relation in subs.plan().relations)  # the numbers do satisfy them
    measured = [item for item in record["items"] if item["id"] == "measured"]
    assert measured and measured[0]["earned"] == 0, measured


# --- 8. smaller ------------------------------------------------------------------------------------------


def hidden_training_call(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "try:",
        "    import quizgen.lab.runner as runner",
        "    lab = runner.LabContext(seed=0, device='cpu', model_dir=None)",
        "    getattr(lab, 'fine' + 'tune')(None, desc='sneaky', lr=1e-4, steps=1)",
        "except Exception as error:",
        "    print('training call failed:', type(error).__name__)",
        f"PREDICTIONS.update({VALID_PREDICTIONS!r})",
    ), at_end=True)


def echoes_arguments(context: Context) -> dict:
    return subs.around_student_cells(_cell(
        "def relative_drift(theta, theta_hat):",
        "    raise ValueError(repr((theta, theta_hat)))",
        "def knowledge_retention(before, after):",
        "    raise ValueError(repr((before, after)))",
    ), at_end=True)


def _exercise_rows(feedback: str) -> dict[str, str]:
    rows = {}
    for name in ("relative_drift", "knowledge_retention"):
        row = next((line for line in feedback.splitlines() if f"`{name}`" in line and line.startswith("|")), None)
        assert row is not None, f"no feedback row for {name}:\n{feedback}"
        rows[name] = row
    return rows


def expect_no_arguments_echoed(record, out, context):
    for name, row in _exercise_rows(context.feedback(record["learner"])).items():
        assert "raised ValueError" in row, row
        for leak in ("tensor", "[[", "True,", "False,", "[True", "[False"):
            assert leak not in row, (name, leak, row)
        assert not re.search(r"\d\.\d{3,}", row), row


def markup_in_errors(context: Context) -> dict:
    message = "\x1b[2J\x1b[31m <img src=x onerror=alert(1)> \x1b]0;owned\x07"
    return subs.around_student_cells(_cell(
        "import os",
        "ANSWERS['aggressive-risk'] = 'B'",
        f"MESSAGE = {message!r}",
        "Markup = type('<script>', (Exception,), {})",
        "def relative_drift(theta, theta_hat):",
        "    raise Markup(MESSAGE)",
        "print(MESSAGE, flush=True)",
        "os.write(2, MESSAGE.encode())",
        "raise Markup(MESSAGE)",
    ), at_end=True)


def expect_markup_neutralised(record, out, context):
    feedback = context.feedback(record["learner"])
    for raw in ("\x1b", "\x07", "<img", "<script>"):
        assert raw not in feedback, (raw, [line for line in feedback.splitlines() if raw in line])
    log = context.log(record["learner"])
    assert "\x1b" not in log and "\x07" not in log, repr(log[-500:])


# --- the table ------------------------------------------------------------------------------------------

ATTACKS = [
    Attack("jail-escape", notebook(jail_escape, "jail-escape"), expect_jail_holds),
    Attack("forged-cell-events", notebook(forged_cell_events, "forged-cell-events"),
           expect_cell_timeout_despite_forged_events),
    Attack("forged-environment-error", notebook(forged_environment_error, "forged-environment-error"),
           expect_not_an_environment_error),
    Attack("frame-snooping", notebook(frame_snooping_exercise, "frame-snooping"),
           expect_snooping_earns_nothing_and_ends_in_time),
    Attack("json-encoder-rewrite", notebook(json_encoder_rewrite, "json-encoder-rewrite"), expect_no_prediction_points),
    Attack("steals-request", notebook(steals_request, "steals-request"), expect_nothing_earned),
    Attack("patches-grader", notebook(patches_grader, "patches-grader"), expect_only_its_own_answers),
    Attack("cancels-call-timer", notebook(cancels_call_timer, "cancels-call-timer"), expect_timer_cancelled_in_vain),
    Attack("memory-in-children", notebook(memory_in_children, "memory-in-children"), expect_out_of_memory),
    Attack("memfd-hoard", notebook(memfd_hoard, "memfd-hoard"), expect_memfd_refused_or_capped),
    Attack("sysv-shm", notebook(sysv_shm, "sysv-shm"), expect_no_shared_memory_across),
    Attack("setsid-children", notebook(setsid_children, "setsid-children"), expect_setsid_refused_and_nothing_left),
    Attack("lone-surrogate", notebook(lone_surrogate, "lone-surrogate"), expect_batch_unharmed),
    Attack("source-null", source_null, expect_not_a_notebook),
    Attack("deep-json", notebook(deep_json, "deep-json"), expect_not_environment_error),
    Attack("event-flood", notebook(event_flood, "event-flood"), expect_flood_contained),
    Attack("victim", victims, expect_victim_keeps_name_and_points),
    Attack("linker", linker, expect_symlink_refused),
    Attack("sparse", sparse, expect_too_large),
    Attack("made-up-measurements", notebook(made_up_measurements, "made-up-measurements"),
           expect_made_up_measurements_earn_nothing),
    Attack("hidden-training-call", notebook(hidden_training_call, "hidden-training-call"), expect_no_prediction_points),
    Attack("echoes-arguments", notebook(echoes_arguments, "echoes-arguments"), expect_no_arguments_echoed),
    Attack("markup-in-errors", notebook(markup_in_errors, "markup-in-errors"), expect_markup_neutralised),
]
NAMES = [attack.name for attack in ATTACKS]
BY_NAME = {attack.name: attack for attack in ATTACKS}


# --- both modes: before, after, and checking ------------------------------------------------------------


def prepare(context: Context, names: list[str] | None = None) -> None:
    """Write the attacks (all, or those named) into context.folder; note the host's shared memory first."""
    context.secret_paths = [
        *map(str, (ROOT / "labs").glob("*/exercises.py")),
        *map(str, context.cache.rglob("results.json")), str(context.out / "results.json"),
        str(context.out / "grades.csv"), str(context.folder / "victim.ipynb"),
        str(context.folder / "made-up-measurements.ipynb"),
    ]
    context.host_shmid = create_host_segment()
    context.shm_before = shm_segments()
    chosen = [BY_NAME[name] for name in names] if names else list(ATTACKS)
    if any(attack.name == "linker" for attack in chosen) and not any(a.name == "victim" for a in chosen):
        chosen.append(BY_NAME["victim"])
    for attack in chosen:
        attack.make(context.folder, context)


def finish(context: Context, records: dict, header: dict, error: str = "", seconds: float = 0.0) -> None:
    context.shm_after = shm_segments()
    context.records = records
    context.limits = header.get("limits", {}) if isinstance(header, dict) else {}
    context.error = error
    context.seconds = seconds


def check(context: Context, name: str) -> None:
    record = context.records.get(name)
    assert record is not None, (f"no record for {name!r} (graded: {sorted(context.records)})"
                                + (f"; the batch stopped: {context.error}" if context.error else ""))
    BY_NAME[name].expect(record, context.out, context)


def cleanup(context: Context) -> None:
    """Remove what the batch may have left on the machine: our host segment, segments the shared-memory
    attack made (its size, created during the batch), processes carrying the batch token."""
    libc = ctypes.CDLL(None, use_errno=True)
    leaked = [shmid for shmid, size in shm_segments().items() if shmid not in context.shm_before and size == SHM_SIZE]
    for shmid in [context.host_shmid, *leaked]:
        if shmid is not None:
            libc.shmctl(shmid, 0, None)  # IPC_RMID
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if context.token.encode() in (entry / "cmdline").read_bytes():
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                continue


def shm_segments() -> dict[int, int]:
    """The machine's SysV shared-memory segments: shmid -> size."""
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return {}
    return {int(row.split()[1]): int(row.split()[3]) for row in rows if len(row.split()) > 3}


def create_host_segment() -> int | None:
    libc = ctypes.CDLL(None, use_errno=True)
    shmid = libc.shmget(0, ctypes.c_size_t(4096), 0o1000 | 0o600)  # IPC_PRIVATE, IPC_CREAT
    return shmid if shmid >= 0 else None


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()
