"""Generated images as files beside the reports, so a report can show what a model drew after
the model's own URL has expired. Named by content, so xdist workers writing the same folder
at once never collide and an image repeated across cases is written once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def save_image(data: bytes, media_type: str, folder: Path) -> Path:
    """Write ``data`` into ``folder`` (made if need be) and return the file's path."""
    path = folder / (hashlib.sha256(data).hexdigest()[:20] + _EXTENSIONS.get(media_type, ".bin"))
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)  # whole or not at all
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
