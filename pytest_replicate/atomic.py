"""Files are written whole or not at all: a reader (replay, CI, a browser, the next run's
baseline) never sees half a cassette or report, even when the run is interrupted mid-write."""

from __future__ import annotations

import os
import secrets
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
