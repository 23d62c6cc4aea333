"""Binary response bodies (generated images) live beside their cassette, not inside its YAML.

A body that is not text is written to ``<cassette stem>.<sha256[:16]><extension>`` next to the
cassette, and the YAML holds ``body: {file: <that name>, sha256: <its full digest>}``. Names
follow the content, so re-recording the same image leaves the file alone; loading checks the
digest, so an edited or missing file is an error naming it rather than a wrong replay.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from pathlib import Path
from typing import Any

from ..atomic import write_atomically
from ..errors import CassetteError, display_path

# Text bodies stay in the YAML; anything else of these kinds goes beside it.
_BINARY_TYPES = ("image/", "audio/", "video/", "application/octet-stream")
# A sidecar's name after ``<cassette stem>.``, and a whole one.
_DIGEST_AND_EXTENSION = re.compile(r"[0-9a-f]{16}\.[A-Za-z0-9]+")
_SIDECAR = re.compile(r".+\.[0-9a-f]{16}\.[A-Za-z0-9]+")


def externalise(cassette: Path, responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``responses`` with their binary bodies written beside ``cassette`` and referred to
    (before the cassette that refers to them is written)."""
    kept = []
    for response in responses:
        body = (response.get("body") or {}).get("string")
        if not isinstance(body, bytes) or not _is_binary(body, response.get("headers") or {}):
            kept.append(response)
            continue
        digest = hashlib.sha256(body).hexdigest()
        sidecar = cassette.parent / f"{cassette.stem}.{digest[:16]}{_extension(response.get('headers') or {})}"
        if not (sidecar.is_file() and hashlib.sha256(sidecar.read_bytes()).hexdigest() == digest):
            write_atomically(sidecar, body)
        kept.append({**response, "body": {"file": sidecar.name, "sha256": digest}})
    return kept


def remove_stale(cassette: Path, responses: list[dict[str, Any]]) -> None:
    """Delete this cassette's sidecars that ``responses`` (as saved) do not refer to."""
    used = {(response.get("body") or {}).get("file") for response in responses}
    prefix = f"{cassette.stem}."
    try:
        names = os.listdir(cassette.parent)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return
    for name in names:
        if name.startswith(prefix) and _DIGEST_AND_EXTENSION.fullmatch(name, len(prefix)) and name not in used:
            (cassette.parent / name).unlink(missing_ok=True)


def is_sidecar_name(name: str) -> bool:
    """Whether a file named ``name`` could be some cassette's sidecar."""
    return _SIDECAR.fullmatch(name) is not None


def refers_to_sidecars(responses: list[dict[str, Any]]) -> bool:
    """Whether ``responses`` (as saved) keep a body beside their cassette."""
    return any("file" in (response.get("body") or {}) for response in responses)


def internalise(cassette: Path, responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``responses`` with the bodies kept beside ``cassette`` read back (a :class:`CassetteError`
    if one is missing or does not match its digest)."""
    for response in responses:
        body = response.get("body")
        if not (isinstance(body, dict) and "file" in body):
            continue
        name, digest = str(body["file"]), str(body.get("sha256", ""))
        sidecar = cassette.parent / name
        if Path(name).name != name or not sidecar.is_file():
            raise CassetteError(f"cassette {display_path(cassette)} refers to {display_path(sidecar)}, which is "
                                "missing; restore it or re-record the cassette with --record-mode=rewrite")
        content = sidecar.read_bytes()
        if hashlib.sha256(content).hexdigest() != digest:
            raise CassetteError(f"{display_path(sidecar)} does not match the sha256 its cassette "
                                f"{display_path(cassette)} recorded; restore it or re-record the cassette "
                                "with --record-mode=rewrite")
        response["body"] = {"string": content}
    return responses


def _header(headers: dict[str, Any], name: str) -> str:
    values = next((value for key, value in headers.items() if key.lower() == name), None)
    return str(values[0] if isinstance(values, list) and values else values or "")


def _is_binary(body: bytes, headers: dict[str, Any]) -> bool:
    if _header(headers, "content-type").lower().startswith(_BINARY_TYPES):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _extension(headers: dict[str, Any]) -> str:
    media_type = _header(headers, "content-type").split(";")[0].strip().lower()
    return {"image/jpeg": ".jpg"}.get(media_type) or mimetypes.guess_extension(media_type) or ".bin"
