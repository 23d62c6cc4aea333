"""The Replicate predictions protocol over httpx: create, wait, poll, cancel, download.

Kept apart from the provider classes so the rules about retries, back-off and
cancellation live in one place. Every request goes through the ``http`` client handed
in for the call, which is bound to that item's cassette.
"""

from __future__ import annotations

import base64
import random
import re
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..errors import ProviderError, ReplicateEvalError
from ..http.extensions import MISSING_CREDENTIALS, REPLAYED
from .base import HttpClient

TERMINAL = ("succeeded", "failed", "canceled")
# Where a token may come from, in the order they are read (promptfoo reads apiKey, then
# REPLICATE_API_KEY, then REPLICATE_API_TOKEN). Every message about tokens names these.
TOKEN_VARIABLES = ("REPLICATE_API_KEY", "REPLICATE_API_TOKEN")
TOKEN_SOURCES = "REPLICATE_API_TOKEN (or REPLICATE_API_KEY, or apiKey in the provider config)"
MISSING_TOKEN = (
    "no Replicate API token to call {model}: set " + TOKEN_SOURCES + " to record this item; once "
    "recorded, --record-mode=none replays it without a token"
)


@dataclass(frozen=True)
class ClientSettings:
    base_url: str = "https://api.replicate.com"
    wait: int = 60  # Prefer: wait=N on create; 0 disables it
    timeout: float = 300.0  # overall seconds per prediction, then it is canceled
    poll_interval: float = 0.5  # first poll delay, growing 1.5x up to poll_interval_max
    poll_interval_max: float = 5.0
    max_retries: int = 3
    retry_backoff: float = 1.0  # base of the exponential back-off
    retry_backoff_max: float = 30.0


@dataclass(frozen=True)
class ModelRef:
    kind: str  # "text", "image", "moderation" or "deployment"
    owner: str
    name: str
    version: str | None = None

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}" + (f":{self.version}" if self.version else "")


def _api_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase, response.text[:200]
    if not isinstance(body, dict):
        return response.reason_phrase, str(body)[:200]
    return str(body.get("title") or response.reason_phrase), str(body.get("detail") or "")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """How long a 429 asks us to wait: the header, else the hint in the detail."""
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    match = re.search(r"~?(\d+(?:\.\d+)?)\s*s", _api_error(response)[1])
    return float(match.group(1)) if match else None


class PredictionRun:
    """One prediction from creation to a terminal status, for one item's call."""

    def __init__(self, http: HttpClient, settings: ClientSettings, token: str | None, ref: ModelRef,
                 cancel: threading.Event) -> None:
        self.http = http
        self.settings = settings
        self.token = token
        self.ref = ref
        self.cancel_event = cancel
        self.prediction: dict[str, Any] | None = None
        self._cancel_sent = False
        self.replaying = False  # the last response came from a cassette: never sleep

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless replaying; True when the run was interrupted meanwhile.

        Waiting on the cancel event wakes up at once when the run is interrupted.
        """
        return False if self.replaying else self.cancel_event.wait(seconds)

    # -- requests -------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _extensions(self) -> dict[str, str]:
        return {MISSING_CREDENTIALS: MISSING_TOKEN.format(model=self.ref.slug)}

    def _request(self, method: str, url: str, *, idempotent: bool, headers: dict[str, str] | None = None,
                 **kwargs: Any) -> httpx.Response:
        """Send with retries: 429 and 5xx always; transport errors only when it is safe.

        A create (POST) that may have reached the server is never resent, since that could
        start (and bill) a second prediction.
        """
        headers = {**self._headers(), **(headers or {})}
        for attempt in range(self.settings.max_retries + 1):
            response = None
            try:
                response = self.http.request(method, url, headers=headers, extensions=self._extensions(),
                                             **kwargs)
                self.replaying = bool(response.extensions.get(REPLAYED))
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                problem = f"could not connect to {self.settings.base_url} ({type(error).__name__}: {error})"
            except httpx.TransportError as error:
                if not idempotent:
                    raise ProviderError(
                        f"the connection to Replicate failed after the prediction request for {self.ref.slug} "
                        f"was sent ({type(error).__name__}); not retried, because the prediction may have been "
                        "created. Re-run the test to try again."
                    ) from None
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = f"HTTP {response.status_code} {_api_error(response)[1]}".strip()
            if attempt == self.settings.max_retries:
                if response is not None:
                    return response  # the caller turns the status into a specific message
                raise ProviderError(f"{method} {url} failed after {attempt + 1} attempts: {problem}")
            if self._sleep(self._backoff(attempt, response)):
                raise ProviderError(f"interrupted while retrying a request for {self.ref.slug}")
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and response.status_code == 429:
            hinted = retry_after_seconds(response)
            if hinted is not None:
                return min(hinted, self.settings.retry_backoff_max)
        ceiling = min(self.settings.retry_backoff_max, self.settings.retry_backoff * 2**attempt)
        return ceiling * random.uniform(0.5, 1.0)

    # -- the prediction lifecycle ---------------------------------------------------------

    def create(self, model_input: dict[str, Any]) -> dict[str, Any]:
        base = self.settings.base_url.rstrip("/")
        ref = self.ref
        body: dict[str, Any] = {"input": model_input}
        if ref.kind == "deployment":
            url = f"{base}/v1/deployments/{ref.owner}/{ref.name}/predictions"
        elif ref.version:
            url, body = f"{base}/v1/predictions", {"version": ref.version, **body}
        else:
            url = f"{base}/v1/models/{ref.owner}/{ref.name}/predictions"
        prefer = {"Prefer": f"wait={self.settings.wait}"} if self.settings.wait else {}
        timeout = httpx.Timeout(30.0, connect=5.0, read=self.settings.wait + 15.0)
        response = self._request("POST", url, idempotent=False, headers=prefer, json=body, timeout=timeout)
        self._raise_for_status(response)
        self.prediction = response.json()
        return self.prediction

    def wait(self) -> dict[str, Any]:
        """Poll until terminal; cancel on timeout or interruption."""
        assert self.prediction is not None
        started = time.monotonic()
        interval = self.settings.poll_interval
        while self.prediction.get("status") not in TERMINAL:
            if self.cancel_event.is_set():
                self.cancel()
                raise ProviderError(f"interrupted: prediction {self.prediction.get('id')} was canceled")
            if time.monotonic() - started > self.settings.timeout:
                self.cancel()
                raise ProviderError(
                    f"prediction {self.prediction.get('id')} for {self.ref.slug} did not finish within "
                    f"{self.settings.timeout:g}s and was canceled; raise 'timeout' in the provider config "
                    "or the replicate_timeout ini key"
                )
            if self._sleep(interval):
                continue  # woken by cancellation: loop round to cancel
            interval = min(interval * 1.5, self.settings.poll_interval_max)
            response = self._request("GET", self._url("get"), idempotent=True)
            self._raise_for_status(response)
            self.prediction = response.json()
        return self.prediction

    def cancel(self) -> None:
        """Best effort: ask Replicate to stop the prediction so it stops costing money."""
        if not self.prediction or self.prediction.get("status") in TERMINAL or self._cancel_sent or self.replaying:
            return  # nothing running: done, already asked, or only a recording
        self._cancel_sent = True
        try:
            self.http.post(self._url("cancel"), headers=self._headers(), extensions=self._extensions(),
                           timeout=5.0)
        except (httpx.HTTPError, ReplicateEvalError):
            pass  # nothing more to do: the prediction ends on its own or by its timeout

    def _url(self, name: str) -> str:
        assert self.prediction is not None
        urls = self.prediction.get("urls") or {}
        if name in urls:
            return urls[name]
        base = self.settings.base_url.rstrip("/")
        suffix = "/cancel" if name == "cancel" else ""
        return f"{base}/v1/predictions/{self.prediction['id']}{suffix}"

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        title, detail = _api_error(response)
        status = response.status_code
        what = f"replicate:{self.ref.slug}" if self.ref.kind != "deployment" else f"deployment {self.ref.owner}/{self.ref.name}"
        if status == 401:
            message = f"Replicate rejected the API token (401 {title}) for {what}: check {TOKEN_SOURCES}"
        elif status == 404:
            message = f"Replicate has no {what} (404 {title}: {detail})"
            if self.ref.kind != "deployment" and not self.ref.version:
                message += "; some models can only be run by version: use replicate:owner/model:VERSION"
        elif status == 422:
            message = f"Replicate rejected the input for {what} (422): {detail}"
        elif status == 429:
            message = f"Replicate kept rate-limiting requests for {what} (429: {detail}); retries exhausted"
        else:
            message = f"Replicate answered {status} {title} for {what}: {detail}"
        raise ProviderError(message)

    # -- outputs --------------------------------------------------------------------------

    def download(self, url: str) -> tuple[bytes, str | None]:
        """Fetch a file output while its URL is still valid; ``data:`` URIs decode locally."""
        if url.startswith("data:"):
            header, _, payload = url.partition(",")
            media_type = header[5:].split(";")[0] or None
            data = base64.b64decode(payload) if ";base64" in header else payload.encode()
            return data, media_type
        # Delivery hosts need no token: never send it outside the API.
        response = self.http.get(url, timeout=60.0)
        if response.status_code >= 400:
            raise ProviderError(f"downloading the output of {self.ref.slug} failed: HTTP {response.status_code} for {url}")
        return response.content, response.headers.get("Content-Type")

