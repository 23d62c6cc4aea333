"""What the server receives and answers, as plain values: the simulator's logic deals only in these."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class ReceivedRequest:
    """One request as the server saw it, so tests can assert on what a client sent."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


class ApiError(Exception):
    """An error reply in Replicate's shape: JSON {"title", "detail", "status"} (+ extra keys)."""

    def __init__(self, status: int, detail: str, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers or {}
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        return {"title": self.title, "detail": self.detail, "status": self.status, **self.extra}

    def reply(self) -> Reply:
        return Reply.json(self.status, self.payload(), self.headers)


@dataclass
class Reply:
    """A response to write; ``stream`` replaces ``body`` for server-sent events."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload).encode(), headers=headers or {})
