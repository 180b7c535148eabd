"""Sandbox slots, one machine-wide: each running sandbox holds a slot, and as root its notebook runs as the
uid of that slot (jail.UID_BASE + slot), so that no two sandboxes on a machine share a uid and can signal
each other — not two threads of one grader, not two Dask workers, not two `quizgen grade` runs.

A slot is an exclusive `flock` on a file in a folder only this user can write; the kernel releases it
when its holder closes it or dies, so a killed worker leaves no slot taken.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SLOTS = 64  # uids UID_BASE .. UID_BASE + 63
WAIT = 0.1  # seconds between two tries when every slot is taken


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"quizgen-grade-slots-{os.getuid()}"
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise OSError(errno.EPERM, f"{folder} is not a folder that only this user can write")
    return folder


@contextmanager
def lease() -> Iterator[int]:
    """Hold a free slot (waiting for one when all are taken) for the duration of the block."""
    folder = _folder()
    while True:
        for slot in range(SLOTS):
            fd = os.open(folder / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield slot
            finally:
                os.close(fd)
            return
        time.sleep(WAIT)
