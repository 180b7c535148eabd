"""The walls around one submission: bubblewrap, a system-call filter, and cgroups or a memory watchdog.

Every submission runs under `bwrap` (Debian's bubblewrap): new user (or, as root, real-uid), mount, PID,
IPC, network, UTS and cgroup namespaces; a root file system made of read-only binds of the system and
the Python installation, a copy of the lab engine and empty in-memory /tmp and home folders, entered
with pivot_root and the old root unmounted, so there is no path back to the host's files; no
capabilities; no new privileges; a seccomp filter (below); and death with the grader.

What can be had depends on who runs the grader, and `Isolation.guarantees` says it in words at start:

- memory for the whole submission: a cgroup (v2, or v1) where the grader may make one (root); otherwise
  each process's address space is capped and a watchdog outside sums the resident memory of all the
  submission's processes every `WATCH_INTERVAL` seconds and kills the submission when it is over;
- a CPU share per submission: its own cgroup (root), or else its own scheduler autogroup (one session,
  and `setsid` refused inside, so children cannot make more);
- processes: a cgroup `pids.max` (root) and RLIMIT_NPROC for the submission's user.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

UID_BASE = 61000  # as root: one unprivileged uid per worker slot, so sandboxes cannot signal each other
WATCH_INTERVAL = 0.2
SANDBOX_HOME = "/home/learner"
SANDBOX_RUNTIME = "/opt/quizgen"


@dataclass(frozen=True)
class Isolation:
    mode: str  # "namespaces" (the grader is root), "user-namespaces" (any other user) or "none"
    detail: str
    cgroups: str = "none"  # "v2", "v1" or "none"
    seccomp: bool = False
    autogroup: bool = False
    guarantees: tuple[str, ...] = field(default=())

    @property
    def jail(self) -> bool:
        return self.mode != "none"

    def to_json(self) -> dict:
        return {"mode": self.mode, "detail": self.detail, "cgroups": self.cgroups, "seccomp": self.seccomp,
                "guarantees": list(self.guarantees)}


# --- the probe ----------------------------------------------------------------------------------------


def probe_isolation() -> Isolation:
    """The strongest isolation this machine gives, tried for real (a kernel may refuse at run time)."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return Isolation("none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    root = os.geteuid() == 0
    mode = "namespaces" if root else "user-namespaces"
    command = bwrap_command(mode, binds=system_binds(), hide=[], runtime=None, seccomp_fd=None,
                            tmp_size=2**20) + [sys.executable, "-c", "pass"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Isolation("none", f"bubblewrap failed to start: {error}")
    if result.returncode != 0:
        return Isolation("none", "bubblewrap refused: " + result.stderr.decode(errors="replace").strip()[:300])
    cgroups = Cgroups.probe() if root else None
    if cgroups:
        cgroups.close()  # the batch makes its own
    seccomp = seccomp_filter() is not None
    autogroup = _read("/proc/sys/kernel/sched_autogroup_enabled").strip() == "1"
    detail = ("bubblewrap: new " + ("" if root else "user, ") + "mount, PID, IPC, network, UTS and cgroup namespaces, "
              "pivot_root into read-only system binds, no capabilities, no new privileges")
    return Isolation(mode, detail, cgroups.version if cgroups else "none", seccomp, autogroup,
                     _guarantees(mode, cgroups, seccomp, autogroup))


def _guarantees(mode: str, cgroups: "Cgroups | None", seccomp: bool, autogroup: bool) -> tuple[str, ...]:
    lines = []
    if cgroups:
        lines.append(f"memory: capped for the whole submission by a cgroup ({cgroups.version})")
        lines.append("CPU: an equal share per submission (its own cgroup)")
        lines.append("processes: capped for the whole submission by the cgroup and by RLIMIT_NPROC")
    else:
        why = "the grader is not root" if mode == "user-namespaces" else "no writable cgroup hierarchy"
        lines.append(f"memory: no cgroup ({why}); each process's address space is capped, and a watchdog outside "
                     f"sums the resident memory of all of a submission's processes every {WATCH_INTERVAL:g} s and "
                     "kills it when over the limit, so it can overshoot briefly, by what it allocates in that time")
        if autogroup and seccomp:
            lines.append("CPU: one scheduler autogroup per submission (setsid is refused inside), so many processes "
                         "do not take more than one submission's share")
        else:
            lines.append("CPU: no per-submission share (no cgroup, no autogroup): a submission with many processes "
                         "can slow the others; grade with --workers 1 to avoid it")
        lines.append("processes: capped by RLIMIT_NPROC")
    if not seccomp:
        lines.append(f"system calls: no seccomp filter for this processor ({os.uname().machine}); setsid, SysV IPC "
                     "and the kernel keyring stay available inside")
    return tuple(lines)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


# --- the command ---------------------------------------------------------------------------------------


def system_binds() -> list[str]:
    """Read-only trees the sandbox needs: the system and the Python installation (not the grader's files)."""
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}:
        if not any(prefix == p or prefix.startswith(p + "/") for p in paths):
            paths.append(prefix)
    return [path for path in paths if os.path.lexists(path)]


def hidden_paths(binds: list[str], secrets: list[Path]) -> list[str]:
    """Grader folders that happen to lie inside a bound tree (an installed quizgen in site-packages)."""
    hidden = []
    for path in secrets:
        text = str(Path(path).resolve())
        if any(text == b or text.startswith(b.rstrip("/") + "/") for b in binds) and os.path.isdir(text):
            hidden.append(text)
    return hidden


def bwrap_command(mode: str, *, binds: list[str], hide: list[str], runtime: Path | None, seccomp_fd: int | None,
                  tmp_size: int) -> list[str]:
    command = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
               "--hostname", "sandbox", "--die-with-parent", "--new-session"]
    if mode == "namespaces":
        # As root: no user namespace, so that the notebook runs as a real unprivileged uid (boot.py drops to
        # it before the first cell, with the two capabilities kept here for that and nothing else).
        command += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        command += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    # The writable scratch folders first: a Python installation bound afterwards stays visible even when it
    # lives under /tmp (a virtual environment in a CI checkout there, say).
    command += ["--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp",
                "--perms", "1777", "--size", str(64 * 2**20), "--tmpfs", "/dev/shm",
                "--perms", "1777", "--size", str(tmp_size), "--tmpfs", SANDBOX_HOME]
    for path in binds:
        if os.path.islink(path):
            command += ["--symlink", os.readlink(path), path]
        else:
            command += ["--ro-bind", path, path]
    # bwrap makes the folders above a bind owner-only: open them, so the notebook's uid can walk through.
    for path in hide:  # e.g. an installed quizgen package inside a bound prefix
        command += ["--perms", "0555", "--size", "4096", "--tmpfs", path, "--remount-ro", path]
    targets = list(binds)
    if runtime is not None:
        command += ["--ro-bind", str(runtime), SANDBOX_RUNTIME]
        targets.append(SANDBOX_RUNTIME)
    # bwrap makes the folders above a bind owner-only: open them, so the notebook's uid can walk through.
    parents = sorted({str(parent) for path in targets for parent in Path(path).parents if str(parent) != "/"})
    for parent in parents:
        if not any(parent == b or parent.startswith(b.rstrip("/") + "/") for b in binds):
            command += ["--chmod", "0755", parent]
    command += ["--chdir", SANDBOX_HOME]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    return command + ["--"]


# --- the system-call filter -----------------------------------------------------------------------------

# Refused with EPERM: a new session (a new autogroup, i.e. another CPU share), SysV IPC and memfd_create
# (memory that no process's resident set shows, so no watchdog sees it), the kernel keyring (shared by
# every sandbox of one user), tracing, namespaces, mounts, and kernel interfaces a notebook has no use for. clone3 is refused with ENOSYS so that libc falls back to
# clone, whose flags the filter can read.
_DENIED = ("setsid", "shmget", "shmat", "shmctl", "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd",
           "msgrcv", "msgctl", "keyctl", "add_key", "request_key", "ptrace", "unshare", "setns", "mount", "umount2",
           "pivot_root", "chroot", "perf_event_open", "bpf", "userfaultfd", "io_uring_setup", "open_by_handle_at",
           "name_to_handle_at", "memfd_create")
_SYSCALLS = {
    "x86_64": (0xC000003E, {
        "setsid": 112, "shmget": 29, "shmat": 30, "shmctl": 31, "semget": 64, "semop": 65, "semctl": 66,
        "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "keyctl": 250, "add_key": 248,
        "request_key": 249, "ptrace": 101, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
        "pivot_root": 155, "chroot": 161, "perf_event_open": 298, "bpf": 321, "userfaultfd": 323,
        "io_uring_setup": 425, "open_by_handle_at": 304, "name_to_handle_at": 303, "memfd_create": 319,
        "clone": 56, "clone3": 435}),
    "aarch64": (0xC00000B7, {
        "setsid": 157, "shmget": 194, "shmat": 196, "shmctl": 195, "semget": 190, "semop": 193, "semctl": 191,
        "semtimedop": 192, "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187, "keyctl": 219, "add_key": 217,
        "request_key": 218, "ptrace": 117, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39,
        "pivot_root": 41, "chroot": 51, "perf_event_open": 241, "bpf": 280, "userfaultfd": 282,
        "io_uring_setup": 425, "open_by_handle_at": 265, "name_to_handle_at": 264, "memfd_create": 279,
        "clone": 220, "clone3": 435}),
}
_NAMESPACE_FLAGS = 0x7E020080  # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
_EPERM, _ENOSYS = 1, 38


def seccomp_filter() -> bytes | None:
    """A classic-BPF seccomp program (the array of `struct sock_filter` bwrap reads), or None on a
    processor we have no system-call table for."""
    table = _SYSCALLS.get(os.uname().machine)
    if table is None:
        return None
    arch, numbers = table
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | _EPERM, 0x00050000 | _ENOSYS
    load, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    program = [(load, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, enosys), (load, 0, 0, 0)]
    if arch == 0xC000003E:  # the x32 ABI shares the architecture number: refuse it
        program += [(jge, 0, 1, 0x40000000), (ret, 0, 0, enosys)]
    for name in _DENIED:
        program += [(jeq, 0, 1, numbers[name]), (ret, 0, 0, eperm)]
    program += [(jeq, 0, 1, numbers["clone3"]), (ret, 0, 0, enosys)]
    program += [(jeq, 0, 3, numbers["clone"]), (load, 0, 0, 16), (jset, 0, 1, _NAMESPACE_FLAGS), (ret, 0, 0, eperm),
                (ret, 0, 0, allow)]
    return b"".join(struct.pack("<HBBI", *instruction) for instruction in program)


# --- cgroups (root) ---------------------------------------------------------------------------------------


class Cgroups:
    """Per-submission cgroups under one folder per grader process; v2 where mounted with its controllers,
    else the v1 memory, pids and cpu hierarchies."""

    _counter = itertools.count()

    def __init__(self, version: str, bases: dict[str, Path]):
        self.version = version
        self.bases = bases  # controller ("unified" for v2) -> this grader's folder

    @classmethod
    def probe(cls, sandboxes: int = 1) -> "Cgroups | None":
        """This grader's folder of cgroups, weighted for the ``sandboxes`` it runs at once: each sandbox then
        weighs like one ordinary process against the machine's other work (an unweighted folder would
        give a whole batch the CPU share of one process)."""
        if os.geteuid() != 0:
            return None
        for make in (cls._v2, cls._v1):
            try:
                cgroups = make()
            except OSError:
                continue
            if cgroups is not None:
                cgroups._weigh(max(1, sandboxes))
                return cgroups
        return None

    def _weigh(self, sandboxes: int) -> None:
        if self.version == "v2":
            _write_if_there(self.bases["unified"] / "cpu.weight", str(min(10_000, 100 * sandboxes)))
        elif "cpu" in self.bases:
            _write_if_there(self.bases["cpu"] / "cpu.shares", str(1024 * sandboxes))

    @classmethod
    def _v2(cls) -> "Cgroups | None":
        top = Path("/sys/fs/cgroup")
        if not {"memory", "pids", "cpu"} <= set(_read(str(top / "cgroup.controllers")).split()):
            return None
        base = top / f"quizgen-{os.getpid()}"
        base.mkdir(exist_ok=True)
        try:
            (top / "cgroup.subtree_control").write_text("+memory +pids +cpu")
            (base / "cgroup.subtree_control").write_text("+memory +pids +cpu")
        except OSError:
            base.rmdir()
            raise
        return cls("v2", {"unified": base})

    @classmethod
    def _v1(cls) -> "Cgroups | None":
        own = {}
        for line in _read("/proc/self/cgroup").splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(","):
                own[controller] = path
        bases = {}
        for controller in ("memory", "pids", "cpu"):
            mount = Path("/sys/fs/cgroup") / controller
            if controller not in own or not (mount / "cgroup.procs").exists():
                return None
            bases[controller] = mount / own[controller].lstrip("/") / f"quizgen-{os.getpid()}"
        for base in bases.values():
            base.mkdir(exist_ok=True)
        return cls("v1", bases)

    def make(self, memory_bytes: int, processes: int) -> "Cgroup":
        name = f"sandbox-{next(self._counter)}"
        folders = {controller: base / name for controller, base in self.bases.items()}
        for folder in folders.values():
            folder.mkdir()
        cgroup = Cgroup(self.version, folders)
        try:
            if self.version == "v2":
                folder = folders["unified"]
                (folder / "memory.max").write_text(str(memory_bytes))
                _write_if_there(folder / "memory.swap.max", "0")
                (folder / "pids.max").write_text(str(processes))
            else:
                (folders["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
                _write_if_there(folders["memory"] / "memory.memsw.limit_in_bytes", str(memory_bytes))
                (folders["pids"] / "pids.max").write_text(str(processes))
        except OSError:
            cgroup.remove()
            raise
        return cgroup

    def close(self) -> None:
        for base in self.bases.values():
            try:
                base.rmdir()
            except OSError:
                pass


def _write_if_there(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError:
        pass


class Cgroup:
    def __init__(self, version: str, folders: dict[str, Path]):
        self.version = version
        self.folders = folders

    def procs_files(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders.values()]

    def trampoline(self) -> list[str]:
        """A prefix that moves the starting process into the cgroups before it runs anything else."""
        script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *self.procs_files(), "--"]

    def oom_killed(self) -> bool:
        folder = self.folders.get("unified") or self.folders["memory"]
        text = _read(str(folder / ("memory.events" if self.version == "v2" else "memory.oom_control")))
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def pids(self) -> set[int]:
        pids = set()
        for path in self.procs_files():
            pids |= {int(pid) for pid in _read(path).split() if pid.isdigit()}
        return pids

    def remove(self) -> None:
        """Kill whatever is left in it, then remove it."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        for folder in self.folders.values():
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


# --- watching from outside ---------------------------------------------------------------------------------


def descendants(root_pid: int) -> list[int]:
    """Every live process below `root_pid`, from the parent links in /proc (readable by anyone). Orphans of
    a sandbox are re-parented to its PID namespace's init, which is below root_pid, so none is missed."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        text = _read(f"/proc/{entry.name}/stat")
        # The command name is in parentheses and may hold anything: the fields after the last ')' are safe.
        fields = text[text.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root_pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def private_memory(pids: list[int]) -> int:
    """Anonymous and shared-memory resident pages (RssAnon + RssShmem of /proc/PID/status, readable by
    anyone), summed; file-backed pages (the libraries every process maps) are left out. Pages a fork still
    shares count once per process: the watchdog errs on the strict side."""
    total = 0
    for pid in pids:
        for line in _read(f"/proc/{pid}/status").splitlines():
            if line.startswith(("RssAnon:", "RssShmem:")):
                fields = line.split()
                if len(fields) > 1 and fields[1].isdigit():
                    total += int(fields[1]) * 1024
    return total


def inner_pid(pid: int) -> int | None:
    """A process's pid in its innermost PID namespace (the last field of NSpid)."""
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("NSpid:"):
            fields = line.split()[1:]
            return int(fields[-1]) if fields and fields[-1].isdigit() else None
    return None
