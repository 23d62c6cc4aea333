"""The provider interface every model backend implements."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .claims import PredictionClaims

if TYPE_CHECKING:
    import httpx


class HttpClient(Protocol):
    """The part of ``httpx.Client`` providers use; the session hands in a cassette-bound one (``http.client.CallClient``)."""

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response: ...

    def get(self, url: str, **kwargs: Any) -> httpx.Response: ...

    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...


@dataclass(frozen=True)
class ImageOutput:
    """An image a provider produced, with the bytes fetched while the URL was still valid."""

    data: bytes
    media_type: str
    width: int | None
    height: int | None
    url: str | None = None


@dataclass
class ProviderResponse:
    output: Any = None  # text for language models; the markdown image link for image models
    error: str | None = None
    image: ImageOutput | None = None  # the first of ``images``: the item's output
    latency_ms: float = 0.0
    cost: float | None = None  # dollars, when the provider can tell (promptfoo's ``cost``)
    metadata: dict[str, Any] = field(default_factory=dict)  # prediction id, predict_time, logs...
    raw: Any = None  # the provider's final JSON response
    images: list[ImageOutput] = field(default_factory=list)  # every image of a multi-image output, in order
    # Why the model stopped, in promptfoo's normalised words (``stop``, ``length``...), when known.
    finish_reason: str | None = None


class Backpressure(Protocol):
    """Told by providers when the server throttles, so the scheduler can slow the whole run."""

    def throttled(self, retry_after: float | None) -> None:
        """A 429 arrived; ``retry_after`` is the wait the server asked for, if it said."""

    def relieved(self) -> None:
        """A request went through without being throttled."""


class Spend(Protocol):
    """Told what each call that went live cost, for the run's spend and its limit (``run/spend.py``)."""

    def charge(self, cost: float | None) -> None:
        """A call went live; ``cost`` is its price in dollars, None when it cannot be known."""


@dataclass
class CallContext:
    """Per-call inputs that are not the prompt.

    ``http`` is an httpx client-like object already bound to the item's cassette; providers
    make every request through it, which is what lets calls run concurrently and replay.
    ``cancel`` is set when the run stops (Ctrl-C, -x): calls in flight cancel their
    predictions. ``deadline`` (a ``time.monotonic()`` value) bounds the whole call.
    ``claims`` is the session's record of which predictions its calls follow, so two calls
    with the same input never follow one prediction (None: the provider keeps its own).
    ``spend`` is told the cost of every call that went live.
    """

    vars: Mapping[str, Any] = field(default_factory=dict)
    http: HttpClient | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None
    backpressure: Backpressure | None = None
    claims: PredictionClaims | None = None
    spend: Spend | None = None


class Provider(ABC):
    """A model endpoint. Construction validates config and must not need a token or network."""

    def __init__(self, id: str, label: str | None = None) -> None:
        self.id = id
        self.label = label or id

    @abstractmethod
    def call(self, prompt: str, context: CallContext) -> ProviderResponse:
        """Return the model's answer; report model-side failures in ``error``, not by raising."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


@dataclass(frozen=True)
class ModerationResult:
    flagged: dict[str, str]  # category code -> name, e.g. {"S1": "Violent Crimes"}
    raw: str  # the moderator's answer, for reports


@runtime_checkable
class Moderator(Protocol):
    """A provider that can judge an exchange (Llama Guard and the like)."""

    id: str

    def moderate(self, user_prompt: str, assistant_output: str, context: CallContext) -> ModerationResult: ...
