"""Uploaded files (``POST /v1/files``), so a file URL or data URI can be a model input."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .inputs import check_data_uri
from .predictions import iso, new_id

FILE_LIFETIME = 24 * 3600.0  # Replicate keeps uploads for a day


@dataclass(frozen=True)
class StoredFile:
    id: str
    name: str
    content_type: str
    content: bytes
    metadata: dict[str, Any]
    created_wall: float

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": len(self.content),
            "etag": hashlib.md5(self.content).hexdigest(),
            "checksums": {"sha256": hashlib.sha256(self.content).hexdigest(),
                          "md5": hashlib.md5(self.content).hexdigest()},
            "metadata": self.metadata,
            "created_at": iso(self.created_wall),
            "expires_at": iso(self.created_wall + FILE_LIFETIME),
            "urls": {"get": f"{base_url}/v1/files/{self.id}"},
        }


def parse_upload(content_type: str, body: bytes) -> tuple[str, str, bytes, dict[str, Any]]:
    """(filename, content type, bytes, metadata) of a multipart upload with a ``content`` part.

    Raises ValueError with a message fit for a 400/422 detail.
    """
    if not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("Expected a multipart/form-data body with a 'content' part")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body)
    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
    part = parts.get("content")
    if part is None:
        raise ValueError("Missing required multipart field 'content'")
    metadata: Any = {}
    if "metadata" in parts:
        try:
            metadata = json.loads(_payload(parts["metadata"]) or b"{}")
        except ValueError:
            raise ValueError("metadata must be a JSON object") from None
    return (part.get_filename() or "file", part.get_content_type(), _payload(part),
            metadata if isinstance(metadata, dict) else {})


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


class FileStore:
    """Uploaded files by id; thread-safe."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._lock = threading.Lock()

    def add(self, name: str, content_type: str, content: bytes, metadata: dict[str, Any]) -> StoredFile:
        with self._lock:
            file_id = new_id()
            stored = StoredFile(file_id, name, content_type, content, metadata, time.time())
            self._files[file_id] = stored
            return stored

    def get(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    def delete(self, file_id: str) -> bool:
        with self._lock:
            return self._files.pop(file_id, None) is not None

    def all(self) -> list[StoredFile]:
        with self._lock:
            return sorted(self._files.values(), key=lambda f: f.created_wall, reverse=True)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()

    def check_input(self, value: str, base_url: str) -> str | None:
        """None if a file input can be read: a data URI, an uploaded file's URL or any http(s) URL."""
        if value.startswith("data:"):
            return check_data_uri(value)
        own = f"{base_url}/v1/files/"
        if value.startswith(own):
            file_id = value[len(own):].split("/")[0]
            return None if self.get(file_id) else f"File not found: {value}"
        if value.startswith(("http://", "https://")):
            return None  # Replicate would fetch it; the simulator trusts it
        return "Does not match format 'uri'"
