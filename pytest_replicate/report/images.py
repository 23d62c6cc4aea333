"""Generated images as files beside the reports, so a report can show what a model drew after
the model's own URL has expired. Named by content, so xdist workers writing the same folder
at once never collide and an image repeated across cases is written once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..atomic import write_atomically

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}


def save_image(data: bytes, media_type: str, folder: Path) -> Path:
    """Write ``data`` into ``folder`` (made if need be) and return the file's path."""
    path = folder / (hashlib.sha256(data).hexdigest()[:20] + _EXTENSIONS.get(media_type, ".bin"))
    if path.exists():
        return path
    write_atomically(path, data)
    return path
