"""Files are written whole or not at all: a reader (replay, CI, a browser, the next run's
baseline) never sees half a cassette or report, even when the run is interrupted mid-write."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (its folder made if need be), flush it
    to disk, then rename it over ``path``.

    The temporary name is our own rather than ``mkstemp``'s, so the file gets the usual
    permissions (the umask's) instead of 0600: reports are read by others, in CI artifacts.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with temporary.open("xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# What write_atomically leaves behind when the process is killed mid-write (kill -9, a power cut):
# ``.<name>.<pid>.<hex>.part``; earlier versions left ``.<name>.<random>.tmp``, and the folder
# probe ``.<name>.<random>.check``. Always a leading dot, so ``ls`` and most tools pass them by.
_PART = re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]+\.part$")
_UNOWNED = re.compile(r"^\..+\.yaml\.[^.]+\.(tmp|check)$")
UNOWNED_STALE_AFTER = 10 * 60  # seconds: a write takes well under one
LIVE_STALE_AFTER = 60 * 60  # a live pid's file this old belongs to an earlier process of that pid


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (unknown counts as alive)."""
    if pid == os.getpid():
        return True
    if os.name == "nt" or pid <= 0:  # os.kill(pid, 0) would stop the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def sweep_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files interrupted writes left in ``folder``; the ones deleted.

    A ``.part`` file goes when the process named in it is gone (or it is an hour old, the pid
    since reused); one a running process may still be writing stays. Files of older versions,
    which name no process, go once ten minutes old.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        part = _PART.match(entry.name)
        if part is None and not _UNOWNED.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if part is not None:
                stale = not _alive(int(part["pid"])) or age > LIVE_STALE_AFTER
            else:
                stale = age > UNOWNED_STALE_AFTER
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already (another process swept it), or not ours to delete
            continue
    return removed
