"""What a ``file://`` var's file becomes, by its extension, as promptfoo 0.123.1's renderPrompt reads it.

- ``.js``/``.cjs``/``.mjs``: the module's function is called per case, in the embedded
  JavaScript engine; ``.py``: ``get_var`` is (see ``loader.py``; TypeScript is refused, as we
  cannot compile it); ``.yaml``/``.yml``: JSON text;
- ``.pdf``: promptfoo extracts its text, which we do not do, so it is refused too (with
  ``PROMPTFOO_DISABLE_PDF_AS_TEXT`` set it is read as text, as promptfoo then does);
- images become ``data:`` URIs (the MIME type from the extension unless the file's first
  bytes say otherwise), video and audio become plain base64, unless
  ``PROMPTFOO_DISABLE_MULTIMEDIA_AS_BASE64`` is set;
- anything else is UTF-8 text, trimmed.

The two ``PROMPTFOO_*`` switches are read from the process environment, with promptfoo's
truthy values (promptfoo also reads them from the config's ``env:`` and a ``.env`` file; we
do not).
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError

JAVASCRIPT_EXTENSIONS = frozenset({"js", "cjs", "mjs", "ts", "cts", "mts"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "heic", "heif", "avif", "tif", "tiff"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mpeg", "mpg", "webm", "ogg", "mov", "avi", "flv", "wmv", "mkv", "m4v", "3gp",
                              "3gpp"})
AUDIO_EXTENSIONS = frozenset({"wav", "mp3", "ogg", "aac", "m4a", "flac", "wma", "aif", "aiff", "aifc", "opus"})
_IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "bmp": "image/bmp",
                "webp": "image/webp", "svg": "image/svg+xml", "tif": "image/tiff", "tiff": "image/tiff",
                "ico": "image/x-icon", "avif": "image/avif", "heic": "image/heic", "heif": "image/heif"}
# promptfoo trusts a file's first bytes over its extension; it compares base64 prefixes.
_IMAGE_SIGNATURES = (("/9j/", "image/jpeg"), ("iVBORw0KGgo", "image/png"), ("R0lGODlh", "image/gif"),
                     ("R0lGODdh", "image/gif"), ("UklGR", "image/webp"), ("Qk0", "image/bmp"), ("Qk1", "image/bmp"),
                     ("SUkq", "image/tiff"), ("TU0A", "image/tiff"), ("AAABAA", "image/x-icon"))
_TRUTHY = ("1", "true", "yes", "yup", "yeppers")
PDF_AS_TEXT_OFF = "PROMPTFOO_DISABLE_PDF_AS_TEXT"
MEDIA_AS_BASE64_OFF = "PROMPTFOO_DISABLE_MULTIMEDIA_AS_BASE64"


def extension(file: Path) -> str:
    """The extension as promptfoo takes it: after the last dot of the whole path."""
    return str(file).rsplit(".", 1)[-1] if "." in str(file) else ""


def kind(file: Path) -> str:
    """``javascript``, ``python``, ``yaml``, ``pdf``, ``image``, ``video``, ``audio`` or ``text``, in promptfoo's order."""
    suffix = extension(file)
    lowered = suffix.lower()
    if lowered in JAVASCRIPT_EXTENSIONS:
        return "javascript"
    if suffix == "py":
        return "python"
    if suffix in ("yaml", "yml"):
        return "yaml"
    if suffix == "pdf" and not _switched_on(PDF_AS_TEXT_OFF):
        return "pdf"
    if not _switched_on(MEDIA_AS_BASE64_OFF):
        for name, extensions in (("image", IMAGE_EXTENSIONS), ("video", VIDEO_EXTENSIONS), ("audio", AUDIO_EXTENSIONS)):
            if lowered in extensions:
                return name
    return "text"


def media_text(file: Path, media: str) -> str:
    """An image as a ``data:`` URI, video or audio as base64 (read once however many tests name it)."""
    return _encoded(file, media, file.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _encoded(file: Path, media: str, mtime_ns: int) -> str:
    try:
        data = base64.b64encode(file.read_bytes()).decode("ascii")
    except OSError as error:
        raise ConfigError(f"cannot read {media} file: {error.strerror}", file=file) from None
    if media != "image":
        return data
    mime = next((found for prefix, found in _IMAGE_SIGNATURES if data.startswith(prefix)), None)
    return f"data:{mime or _IMAGE_TYPES.get(file.suffix.lower().lstrip('.'), 'image/jpeg')};base64,{data}"


def _switched_on(name: str) -> bool:
    return os.environ.get(name, "").lower() in _TRUTHY
