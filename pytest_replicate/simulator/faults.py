"""Failures the simulator can inject, each mirroring one a real Replicate client meets.

Faults are queued on a Simulator (``sim.add_fault(Fault(...))``) and matched in order,
one per request; ``times`` says how many requests a fault spoils. ``model`` limits a
fault to requests about that model (its creates, polls, cancels and streams).

========================  ===============================================================
kind                      what the client sees
========================  ===============================================================
``status``                an error reply with ``status`` (429 with ``Retry-After`` when
                          ``retry_after`` is set, without it otherwise); ``body`` replaces
                          the JSON error, e.g. ``"<html>502 Bad Gateway</html>"``;
                          ``headers`` are added, e.g. ``Location`` for a 3xx; on a create
                          nothing is created (``times=N``: an outage of N creates)
``created_then_status``   the prediction IS created, then the reply is ``status`` (5xx):
                          a client that resends the create makes a second prediction
``drop``                  the connection closes without a reply
``slow``                  the reply comes ``delay`` seconds late
``hang``                  no reply until the client gives up (or ``delay`` passes)
``trickle``               the reply's body comes one byte every ``delay`` seconds
``die``                   the server stops accepting connections (this request dropped)
``fail``                  the prediction is created and ends ``failed`` (creates only)
``slow_start``            the prediction stays ``starting`` ``delay`` seconds longer, so a
                          ``Cancel-After`` shorter than that ends it ``aborted`` (creates only)
``shape``                 a 2xx reply whose JSON (or HTML) is ``body`` (e.g. ``"[]"``, ``"{}"``,
                          ``"<html>busy</html>"``) or the
                          real reply without the keys in ``drop_keys`` (e.g. ``("id",)``)
========================  ===============================================================
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .messages import ApiError, Reply

FAULT_KINDS = frozenset({"status", "created_then_status", "drop", "slow", "hang", "trickle", "die", "fail",
                         "slow_start", "shape"})
# Kinds that act on a prediction being created, so only creates use them up.
CREATE_KINDS = frozenset({"fail", "slow_start", "created_then_status"})
_FAULT_DETAILS = {
    401: "You did not pass a valid authentication token",
    404: "The requested resource could not be found.",
    422: "Input validation failed (simulated)",
    500: "Internal server error (simulated)",
    502: "Bad gateway (simulated)",
    503: "Service temporarily unavailable (simulated)",
    504: "Gateway timeout (simulated)",
}
CREATE_PATH = re.compile(r"/v1/(?:(?:models|deployments)/[^/]+/[^/]+/)?predictions")


@dataclass
class Fault:
    """A failure to inject into the next matching request(s); see the module docstring."""

    kind: str
    status: int = 500
    times: int = 1
    method: str | None = None
    path_prefix: str | None = None
    retry_after: float | None = None
    detail: str | None = None
    delay: float = 0.0
    body: str | None = None
    drop_keys: tuple[str, ...] = ()
    model: str | None = None  # "owner/name"
    headers: dict[str, str] = field(default_factory=dict)  # added to a ``status`` reply

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0:
            raise ValueError("delay must be >= 0")

    def matches(self, method: str, path: str, model: str | None) -> bool:
        """Whether this fault applies to a request (create-only kinds only to creates)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return False
        if self.model is not None and self.model != model:
            return False
        if self.kind in CREATE_KINDS:
            return is_create(method, path)
        return True


@dataclass
class RateLimit:
    """A per-account limit on creates; beyond it Replicate answers 429 "throttled".

    ``concurrent``: at most this many predictions in flight (created, not terminal).
    ``per_window``: at most this many creates in any ``window`` seconds.
    ``retry_after``: the Retry-After to send (seconds); None sends the time until the
    limit frees up, rounded up to a tenth of a second. ``send_retry_after=False`` leaves
    the header out (the detail still says when the limit resets), as Replicate may.
    """

    concurrent: int | None = None
    per_window: int | None = None
    window: float = 1.0
    retry_after: float | None = None
    send_retry_after: bool = True

    def __post_init__(self) -> None:
        if self.concurrent is None and self.per_window is None:
            raise ValueError("give concurrent, per_window or both")
        for name in ("concurrent", "per_window"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")


def is_create(method: str, path: str) -> bool:
    return method.upper() == "POST" and CREATE_PATH.fullmatch(urlsplit(path).path) is not None


def seconds_text(value: float) -> str:
    """Integer seconds when whole ("2"), else as given ("1.5")."""
    return str(int(value)) if float(value).is_integer() else str(value)


def round_up_tenth(seconds: float) -> float:
    return max(0.1, math.ceil(seconds * 10) / 10)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float:
    """Seconds in a Replicate duration: ``"30"``, ``"5s"``, ``"1m30s"``, ``"1h"``, ``"250ms"``.

    Raises ValueError for anything else (the server answers 422).
    """
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not text or _DURATION_PART.sub("", text):
        raise ValueError(f"invalid duration {text!r}")
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(number) * units[unit] for number, unit in _DURATION_PART.findall(text))


def parse_prefer_wait(header: str | None) -> float | None:
    """Seconds to hold a create for ``Prefer: wait[=N]``; None without it; ValueError if N is out of 1..60."""
    for part in re.split(r"[,;]", header or ""):
        part = part.strip().lower()
        if part == "wait":
            return 60.0
        match = re.fullmatch(r"wait\s*=\s*(\S+)", part)
        if match:
            if not match[1].isdigit() or not 1 <= int(match[1]) <= 60:
                raise ValueError(f"Prefer: wait must be between 1 and 60 seconds, got {match[1]!r}")
            return float(match[1])
    return None


def fault_reply(fault: Fault) -> Reply:
    """The reply of a ``status`` or ``created_then_status`` fault."""
    if fault.body is not None:
        return Reply(fault.status, fault.body.encode(), _content_type(fault.body), dict(fault.headers))
    headers = dict(fault.headers)
    if fault.status == 429:
        wait = seconds_text(fault.retry_after) if fault.retry_after is not None else "1"
        detail = f"Request was throttled. Your rate limit resets in ~{wait}s."
        if fault.retry_after is not None:
            headers["Retry-After"] = wait
    else:
        detail = _FAULT_DETAILS.get(fault.status, "Simulated failure")
    title = {401: "Unauthenticated", 429: "Request was throttled"}.get(fault.status)
    return ApiError(fault.status, fault.detail or detail, title, headers).reply()


def reshape(reply: Reply, fault: Fault) -> Reply:
    """A ``shape`` fault: the reply's JSON replaced by ``fault.body`` or stripped of ``drop_keys``."""
    if fault.body is not None:
        return Reply(reply.status, fault.body.encode(), _content_type(fault.body), reply.headers)
    payload = json.loads(reply.body or b"null")
    if isinstance(payload, dict):
        payload = {key: value for key, value in payload.items() if key not in fault.drop_keys}
    return Reply.json(reply.status, payload, reply.headers)


def _content_type(body: str) -> str:
    """A fault's body is HTML when it looks like it (a proxy's error page), else JSON."""
    return "text/html" if body.lstrip().startswith("<") else "application/json"
