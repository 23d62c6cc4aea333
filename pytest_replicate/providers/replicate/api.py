"""The Replicate predictions protocol over httpx: create, wait, poll, cancel, download.

Kept apart from the provider classes so the rules about retries, deadlines and
cancellation live in one place. Every request goes through the ``http`` client handed in
for the call, which is bound to that item's cassette. The guarantees, in short:

* **Never created twice.** A create is resent at once only when it certainly did not reach
  Replicate (no connection, or 429). After a 5xx or a broken connection the prediction may
  exist, so it is looked up in ``GET /v1/predictions`` (same model, same input, created
  just now) and adopted. After a 5xx that is not listed, even when listed again a moment
  (``retry_backoff``) later, nothing was made: the create is resent, with back-off (``max_retries`` times), so
  a brief outage does not fail the item. After a broken connection that is not listed, the
  prediction may still be being made, so the item fails saying it may be running. Calls
  with the same input never adopt one prediction between them (``PredictionClaims``), and
  the cassette records which one a call adopted, or that it found none, so a replay does the same.
* **One deadline for the whole call.** ``timeout`` (or the scheduler's ``deadline``, if
  sooner) bounds the create, every poll, back-off and download: each request's httpx
  timeout is cut to the time left, each answer but a create's must arrive in full by then
  (a body trickling in fails at the deadline), ``Prefer: wait`` never holds past it, and Replicate is
  told the same deadline (``Cancel-After``) in case this process dies.
* **Nothing left running.** On an interrupt or a passed deadline every prediction the call
  started is canceled. A create held by ``Prefer: wait`` runs on a helper thread so the
  call can stop at once; its prediction id is then taken from the answer if it arrives
  within a second, else found by listing recent predictions, and the helper cancels it
  anyway if its answer comes later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import queue
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from ...errors import ProviderError, ReplicateEvalError
from ...http.auth import ApiAuth, origin
from ...http.breaker import CONNECTION_FAILURES, ServerUnreachable
from ...http.extensions import DEADLINE, REPLAYED
from ...redaction import Secret, hide_tokens
from ..base import CallContext, HttpClient
from ..claims import PredictionClaims
from .messages import TERMINAL, api_error, origin_note, parse_json, read_json, read_prediction, rejected_parameters
from .settings import TOKEN_SOURCES, TOKEN_VARIABLES, ClientSettings

if TYPE_CHECKING:
    from ...cassettes.cassette import Cassette

__all__ = ["TOKEN_VARIABLES", "ClientSettings", "ModelRef", "PredictionRun", "retry_after_seconds"]

MISSING_TOKEN = (
    "no Replicate API token to call {model}: set " + TOKEN_SOURCES + " to record this item; once "
    "recorded, --record-mode=none replays it without a token"
)
# How long an interrupted call waits for a held create to answer before looking the prediction up.
CREATE_GRACE = 1.0
# Predictions created this long before our create was sent are never taken for ours.
CLOCK_SKEW = 120.0


@dataclass(frozen=True)
class ModelRef:
    kind: str  # "text", "image", "moderation" or "deployment"
    owner: str
    name: str
    version: str | None = None

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}" + (f":{self.version}" if self.version else "")


class Stopped(ProviderError):
    """The call was interrupted or ran out of time (its predictions are already canceled)."""


class _HelperStopped(Stopped):
    """Raised in a held create's helper thread; the calling thread then stops properly."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _MaybeCreated(Exception):
    """A create failed in a way that does not prove the prediction was not created.

    ``answered``: the server answered (5xx), so the create has settled there; a broken
    connection may leave one still being made, so only an answered create is ever resent.
    """

    def __init__(self, problem: str, *, answered: bool) -> None:
        super().__init__(problem)
        self.answered = answered


@dataclass(frozen=True)
class _SentCreate:
    """The last create sent: what a lookup of its prediction matches on."""

    key: str  # names its input among claims and in the cassette (see create_key)
    input: dict[str, Any]
    at: float  # wall time


def create_key(url: str, body: dict[str, Any]) -> str:
    """A short name for a create's input: its path and body, hashed.

    The host is left out: it differs between recording (Replicate, or a simulator on some port)
    and replay, and the name must not.
    """
    text = json.dumps([urlsplit(url).path, body], sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


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
    match = re.search(r"~?(\d+(?:\.\d+)?)\s*s", api_error(response)[1])
    return float(match.group(1)) if match else None


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class _Budget:
    """The call's deadline: ``timeout`` from now, or the scheduler's deadline if sooner."""

    def __init__(self, timeout: float, deadline: float | None) -> None:
        self.started = time.monotonic()
        own = self.started + timeout
        self.deadline = own if deadline is None else min(own, deadline)
        self.limit = f"{timeout:g}s" if deadline is None or own <= deadline else "the run's deadline"

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def spent(self) -> float:
        return time.monotonic() - self.started


class PredictionRun:
    """One prediction from creation to a final status, for one item's call."""

    def __init__(self, http: HttpClient, settings: ClientSettings, token: Secret | None, ref: ModelRef,
                 context: CallContext, secrets: Sequence[Secret] = (), *, claims: PredictionClaims) -> None:
        self.http = http
        self.claims = claims  # the session's (the provider's, without one): see PredictionClaims
        self.settings = settings
        self.auth = ApiAuth(token, settings.base_url, MISSING_TOKEN.format(model=ref.slug))
        self.ref = ref
        self.cancel_event = context.cancel
        self.backpressure = context.backpressure
        self.budget = _Budget(settings.timeout, context.deadline)
        self.secrets = list(secrets)
        self.prediction: dict[str, Any] | None = None
        self.resolved_version: str | None = None  # the latest version, for a model without an official endpoint
        self.replaying = False  # the last response came from a cassette: never sleep, never cancel
        self.created_live = False  # a create reached Replicate (it may bill), rather than a cassette
        self._owner = threading.current_thread()
        self._lock = threading.Lock()
        self._sent: _SentCreate | None = None
        self._answered: tuple[httpx.Response, dict[str, Any]] | None = None  # a create's answer, read as it was claimed
        self._maybe_created = False  # a create failed without proving it made no prediction (see _MaybeCreated)
        # Where the helper sending a held create puts its outcome, while it is out.
        self._pending: queue.SimpleQueue[tuple[httpx.Response | None, BaseException | None]] | None = None
        self._stopping = False  # the call gave up: a create that answers later is canceled
        self._canceled: list[str] = []  # ids Replicate accepted a cancel for
        self._cancel_sent: set[Any] = set()

    # -- requests -------------------------------------------------------------------------

    def _hide(self, text: str) -> str:
        return hide_tokens(text, self.secrets)

    def _timeout(self, read: float | None = None) -> httpx.Timeout:
        """Per-request timeouts cut to the time left, so no single request outlives the call."""
        left = max(self.budget.left(), 0.05)
        return httpx.Timeout(min(30.0, left), connect=min(5.0, left), read=read if read is not None else min(30.0, left))

    def _api(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request to the API, authenticated inside httpx, at the API's origin only (see :class:`ApiAuth`)."""
        return self.http.request(method, url, auth=self.auth, **kwargs)

    def _request(self, method: str, url: str, *, create: bool = False, api: bool = True,
                 read: float | None = None, **kwargs: Any) -> httpx.Response:
        """Send with retries; transport failures become a short :class:`ProviderError`.

        Retried: 429 always (it was refused, nothing ran), connection failures always (nothing
        arrived), and for anything but a create, 5xx and broken connections too. A create
        that may have arrived raises :class:`_MaybeCreated` instead: resending could start,
        and bill, a second prediction.
        """
        # The whole answer by the deadline, not just each read; a held create is left to its helper
        # thread (see _held), which the call stops waiting for at the deadline anyway.
        extensions = {} if create else {DEADLINE: self.budget.deadline}
        for attempt in range(self.settings.max_retries + 1):
            self._check_stop()
            response: httpx.Response | None = None
            try:
                if api:
                    response = self._api(method, url, timeout=self._timeout(read), extensions=extensions, **kwargs)
                else:  # output files: the token never leaves the API
                    response = self.http.request(method, url, timeout=self._timeout(read), extensions=extensions,
                                                 **kwargs)
            except ServerUnreachable:
                raise
            except CONNECTION_FAILURES as error:
                problem = f"could not connect ({type(error).__name__})"
            except httpx.TooManyRedirects:
                raise ProviderError(self._hide(f"{method} {url} was redirected too many times (a redirect loop?); "
                                               "check base_url")) from None
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
                raise ProviderError(self._hide(f"cannot send {method} {url}: {error}")) from None
            except httpx.HTTPError as error:  # timeouts, resets, malformed answers
                self._check_stop()
                problem = f"the connection broke ({type(error).__name__})"
                if create:
                    self.created_live = True  # it may have arrived: a cassette never breaks a connection
                    raise _MaybeCreated(problem, answered=False) from None
            else:
                self.replaying = bool(response.extensions.get(REPLAYED))
                status = response.status_code
                # A refused create (4xx: bad input, 429) made no prediction; a 5xx one may have.
                billable = create and not self.replaying and not 400 <= status < 500
                self.created_live = self.created_live or billable
                if status == 429:
                    if self.backpressure is not None:
                        self.backpressure.throttled(retry_after_seconds(response))
                    problem = "HTTP 429"
                elif status >= 500:
                    problem = f"HTTP {status} {api_error(response)[1]}".strip()
                    if create:
                        raise _MaybeCreated(self._hide(problem), answered=True)
                else:
                    if self.backpressure is not None and status < 400:
                        self.backpressure.relieved()
                    return response
            if attempt == self.settings.max_retries:
                if response is not None:
                    return response  # the caller turns the status into a specific message
                raise ProviderError(self._hide(f"{method} {url} failed after {attempt + 1} attempts: {problem}"))
            delay = self._backoff(attempt, response)
            if not self.replaying and delay >= self.budget.left():
                raise self._stop("deadline")  # the retry would start after the deadline
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and response.status_code == 429:
            hinted = retry_after_seconds(response)
            if hinted is not None:
                return min(hinted, self.settings.retry_backoff_max)
        ceiling = min(self.settings.retry_backoff_max, self.settings.retry_backoff * 2**attempt)
        return ceiling * random.uniform(0.5, 1.0)

    def _sleep(self, seconds: float) -> None:
        """Wait, unless replaying; waking at once when the run is interrupted."""
        if not self.replaying:
            self.cancel_event.wait(max(0.0, min(seconds, self.budget.left())))

    def _check_stop(self) -> None:
        if self.cancel_event.is_set():
            raise self._stop("interrupted")
        if self.budget.left() <= 0 and not self.replaying:
            raise self._stop("deadline")

    def _stop(self, reason: str) -> Stopped:
        """Cancel what runs (from the calling thread only) and say why the call stopped."""
        if threading.current_thread() is not self._owner:
            return _HelperStopped(reason)  # a held create's helper: the calling thread does the rest
        canceled = self.cancel()
        spent = self.budget.spent()
        what = f"prediction {', '.join(canceled)} of {self.ref.slug}" if canceled else self.ref.slug
        ending = " and was canceled" if canceled else ""
        if reason == "interrupted":
            return Stopped(f"interrupted after {spent:.1f}s: {what}" + (" was canceled" if canceled else ""))
        return Stopped(f"{what} did not finish within {self.budget.limit}{ending} (gave up after {spent:.1f}s); "
                       "raise 'timeout' in the provider config or the replicate_timeout ini key")

    # -- creating -------------------------------------------------------------------------

    def _base(self) -> str:
        return self.settings.base_url.rstrip("/")

    def _endpoint(self, model_input: dict[str, Any], version: str | None) -> tuple[str, dict[str, Any]]:
        ref, base = self.ref, self._base()
        if ref.kind == "deployment":
            return f"{base}/v1/deployments/{ref.owner}/{ref.name}/predictions", {"input": model_input}
        if version:
            return f"{base}/v1/predictions", {"version": version, "input": model_input}
        return f"{base}/v1/models/{ref.owner}/{ref.name}/predictions", {"input": model_input}

    def create(self, model_input: dict[str, Any]) -> dict[str, Any]:
        """Create the prediction; a model without an official endpoint runs its latest version.

        A create answered 5xx is looked up among recent predictions and adopted; when it is not
        there, even a moment later, nothing was made and the create is sent again (up to
        ``max_retries`` times, with back-off), so a brief outage does not fail the item.
        """
        official = self.ref.kind != "deployment" and not self.ref.version
        for attempt in range(self.settings.max_retries + 1):
            try:
                response = self._create(*self._endpoint(model_input, self.ref.version or self.resolved_version))
                if official and not self.resolved_version and response.status_code == 404:
                    self.resolved_version = self._latest_version(response)
                    response = self._create(*self._endpoint(model_input, self.resolved_version))
            except _MaybeCreated as problem:
                self._maybe_created = True
                found = self._adopt()
                if found is not None:
                    self.prediction = found
                    return found
                if not problem.answered or attempt == self.settings.max_retries:
                    raise self._not_created(problem, attempt + 1) from None
                self._sleep(self._backoff(attempt, None))
                continue
            self._raise_for_status(response, creating=True)
            answered, self._answered = self._answered, None
            # Claimed as it came (see _create), so already read and checked, unless it was not a prediction.
            self.prediction = answered[1] if answered is not None and answered[0] is response else (
                read_prediction(response, self.secrets))
            return self.prediction
        raise AssertionError("unreachable")

    @property
    def _cassette(self) -> Cassette | None:
        """The cassette the call's client records into, if it has one (an ``http.client.CallClient``)."""
        return getattr(self.http, "cassette", None)

    def _create(self, url: str, body: dict[str, Any]) -> httpx.Response:
        left = self.budget.left()
        wait = min(self.settings.wait, math.floor(left))  # never held past the deadline
        headers = {"Prefer": f"wait={wait}"} if wait >= 1 else {}
        # Replicate's own deadline, for when this process dies: Go-style seconds, 5 s at least.
        cancel_after = self.settings.cancel_after or max(5.0, left)
        headers["Cancel-After"] = f"{math.ceil(cancel_after)}s"
        sent = self._sent = _SentCreate(create_key(url, body), body["input"], time.time())

        def send() -> httpx.Response:
            # Settles only once its answer's prediction is claimed: an adoption waits for that.
            with self.claims.creating(sent.key, self._check_stop):
                response = self._request("POST", url, create=True, read=wait + 10.0, json=body, headers=headers)
                self._claim_answer(response)
                return response

        cassette = self._cassette
        if cassette is not None and cassette.replay_only:
            return send()  # nothing can be held by a server: no helper thread needed
        return self._held(send)

    def _claim_answer(self, response: httpx.Response) -> None:
        """Claim the prediction a create answered with, if it is one (``create`` explains any other answer)."""
        if response.status_code < 300:
            try:
                prediction = read_prediction(response)
            except ReplicateEvalError:  # create reads it again, to say what is wrong with it
                return
            self._answered = (response, prediction)
            self.claims.claim(prediction["id"])

    def _held(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Run a create on a helper thread, so an interrupt or the deadline is noticed at once.

        The outcome comes back through a queue: unlike ``Thread.join``, whose bookkeeping a
        KeyboardInterrupt can corrupt (the thread then looks finished), a queue stays truthful,
        and unlike an event it is not one of the delays the plugin chooses (tests count those).
        """
        outcome: queue.SimpleQueue[tuple[httpx.Response | None, BaseException | None]] = queue.SimpleQueue()

        def work() -> None:
            try:
                result: tuple[httpx.Response | None, BaseException | None] = (send(), None)
            except BaseException as error:  # handed to the calling thread
                result = (None, error)
            outcome.put(result)
            with self._lock:
                late = self._stopping
            if late and result[0] is not None:
                self._cancel_answer(result[0])  # the call gave up before this answer came

        self._pending = outcome
        threading.Thread(target=work, name=f"replicate-create-{self.ref.name}", daemon=True).start()
        while True:
            try:
                response, error = outcome.get(timeout=0.05)
                break
            except queue.Empty:
                self._check_stop()
        self._pending = None
        if isinstance(error, _HelperStopped):
            raise self._stop(error.reason) from None
        if error is not None:
            raise error
        assert response is not None
        return response

    def _latest_version(self, not_found: httpx.Response) -> str:
        """``latest_version.id`` of the model, after its official-model endpoint answered 404."""
        url = f"{self._base()}/v1/models/{self.ref.owner}/{self.ref.name}"
        response = self._request("GET", url)
        if response.status_code == 404:
            self._raise_for_status(not_found, creating=True)
        self._raise_for_status(response)
        model = read_json(response, "a model object (JSON with latest_version)", self.secrets)
        latest = model.get("latest_version") if isinstance(model, dict) else None
        version = latest.get("id") if isinstance(latest, dict) else None
        if not isinstance(version, str) or not version:
            raise ProviderError(f"replicate:{self.ref.slug} has no official endpoint and no version to run "
                                f"(GET {url} gave no latest_version){origin_note(response)}")
        return version

    def _adopt(self) -> dict[str, Any] | None:
        """After a create that may have arrived: our prediction, if Replicate lists it now or
        ``retry_backoff`` seconds later (a listing may lag a moment behind a create); else None.

        Live, the choice is made alone for this input (see ``PredictionClaims``); a replay takes
        the choices its cassette recorded, so it agrees without the timing that made them.
        """
        assert self._sent is not None
        for look in range(2):
            if look:
                self._sleep(self.settings.retry_backoff)
                self._check_stop()
            if self.replaying:
                found = self._choose(frozenset())
            else:
                found = self.claims.adopt(self._sent.key, self._choose, self._check_stop)
            if found:
                return found
        return None

    def _not_created(self, problem: _MaybeCreated, creates: int) -> ProviderError:
        """Why the call gives up creating: Replicate kept failing, or the last create may still be running."""
        if problem.answered:
            times = "once, with" if creates == 1 else f"{creates} times, the last with"
            return ProviderError(
                f"creating a prediction of {self.ref.slug} failed {times} {problem}; no prediction was made (none is "
                "listed among your recent predictions). Replicate may be down: re-run the test later, or raise "
                "max_retries in the provider config")
        again = f" (after {creates - 1} create(s) answered 5xx that made none)" if creates > 1 else ""
        return ProviderError(
            f"creating a prediction failed with {problem}{again} (model {self.ref.slug}); not retried, because the "
            "prediction may have been created, and none was found among your recent predictions. If it shows up on "
            "https://replicate.com/predictions it stops by its Cancel-After deadline. Re-run the test to try again."
        )

    def _choose(self, claimed: frozenset[str]) -> dict[str, Any] | None:
        """The listed prediction to adopt: the newest match no call follows (``claimed``).

        The choice is recorded in the cassette, and a replayed listing takes the recorded one
        (the newest match, for a cassette recorded without it): which ids the other calls
        followed when it was recorded is not known now.
        """
        assert self._sent is not None
        found, replayed = self._listed()
        unclaimed = [prediction for prediction in found if prediction["id"] not in claimed]
        chosen = unclaimed[0]["id"] if unclaimed else ""  # "": none, recorded too (see below)
        cassette = self._cassette
        if cassette is not None:
            # A replayed listing takes every match of the input for recent (its times are old), so a
            # recording that found none must say so, or its replay would adopt an older prediction.
            recorded = cassette.choice(f"adopted after create {self._sent.key}", chosen)
            if replayed:
                chosen = recorded
        return next((prediction for prediction in found if prediction["id"] == chosen), None)

    def _listed(self) -> tuple[list[dict[str, Any]], bool]:
        """Predictions our last create may have made, newest first, from ``GET /v1/predictions``;
        and whether that listing was replayed.

        Matched on the model (or version), the exact input and, live, a creation time no
        earlier than the create was sent (a replayed listing's times are old: it holds what
        matched when it was recorded).
        """
        if self._sent is None:
            return [], False
        try:
            response = self._api("GET", f"{self._base()}/v1/predictions", timeout=5.0)
            page = parse_json(response) if response.status_code == 200 else {}
        except (httpx.HTTPError, ValueError, ReplicateEvalError):
            return [], False  # best effort: the listing is a safety net, not a requirement
        results = page.get("results") if isinstance(page, dict) else None
        replayed = bool(response.extensions.get(REPLAYED))
        version = self.ref.version or self.resolved_version
        found = []
        for prediction in results if isinstance(results, list) else []:
            if not isinstance(prediction, dict) or not prediction.get("id"):
                continue
            created = _epoch(prediction.get("created_at"))
            recent = replayed or (created is not None and created >= self._sent.at - CLOCK_SKEW)
            if prediction.get("input") != self._sent.input or not recent:
                continue
            if version and prediction.get("version") not in (version, None):
                continue
            if self.ref.kind != "deployment" and prediction.get("model") not in (f"{self.ref.owner}/{self.ref.name}", None):
                continue
            found.append(prediction)
        return found, replayed

    # -- waiting --------------------------------------------------------------------------

    def wait(self) -> dict[str, Any]:
        """Poll until a final status; the deadline and interrupts cancel the prediction."""
        assert self.prediction is not None
        interval = self.settings.poll_interval
        while self.prediction.get("status") not in TERMINAL:
            self._check_stop()
            self._sleep(interval)
            self._check_stop()
            interval = min(interval * 1.5, self.settings.poll_interval_max)
            url = self._url(self.prediction, "get")
            response = self._request("GET", url)
            if response.status_code == 404:
                raise ProviderError(
                    f"prediction {self.prediction['id']} of {self.ref.slug} vanished: GET {url} answered 404 "
                    f"(deleted, or made with another token?){origin_note(response)}")
            self._raise_for_status(response)
            self.prediction = read_prediction(response, self.secrets)
        return self.prediction

    # -- canceling ------------------------------------------------------------------------

    def cancel(self) -> list[str]:
        """Cancel every prediction this call started and that may still run; their ids.

        Safe to call more than once and from any failure path. A create still held by
        ``Prefer: wait`` gets :data:`CREATE_GRACE` to answer; after that its prediction is
        looked up in the list of recent predictions, and the helper thread cancels it
        anyway if its answer comes later. A create that failed after it may have made one, and
        was not adopted, is looked up the same way.
        """
        with self._lock:
            if self._stopping:
                return list(self._canceled)
            self._stopping = True
        if self.replaying:
            return []
        pending = self._pending
        if self.prediction is not None:
            self._post_cancel(self.prediction)
        elif pending is not None:
            try:
                answer, _ = pending.get(timeout=CREATE_GRACE)
            except queue.Empty:
                self._cancel_listed(own_creates=1)  # the helper's create is still out
            else:
                if answer is not None:
                    self._cancel_answer(answer)
        elif self._maybe_created:
            self._cancel_listed(own_creates=0)  # a create that may have made one, not adopted
        return list(self._canceled)

    def _cancel_listed(self, own_creates: int) -> None:
        """Cancel the prediction a create may have made without the call learning its id, found by listing.

        When the whole run stops, every unclaimed listed prediction of this input belongs to a
        call that is stopping too: all are canceled. When only this call stops (its deadline),
        ours can be told apart only while no other call's create of this input is out; if one
        is, nothing is canceled here (the helper cancels a late answer, and Replicate's
        Cancel-After ends the prediction anyway).
        """
        if self.cancel_event.is_set():
            for prediction in self._listed()[0]:
                if self.claims.claim(prediction["id"]):
                    self._post_cancel(prediction)
        elif self._sent is not None:
            found = self.claims.adopt(self._sent.key, self._choose, None, own_creates=own_creates)
            if found is not None:
                self._post_cancel(found)

    def _cancel_answer(self, response: httpx.Response) -> None:
        try:
            self._post_cancel(read_prediction(response))
        except ReplicateEvalError:
            pass  # not a prediction (an error answer): nothing was created

    def _post_cancel(self, prediction: dict[str, Any]) -> None:
        """Best effort: ask Replicate to stop ``prediction`` so it stops costing money."""
        with self._lock:  # the calling thread and a held create's helper may both get here
            if prediction.get("status") in TERMINAL or prediction.get("id") in self._cancel_sent:
                return
            self._cancel_sent.add(prediction.get("id"))
        try:
            self._api("POST", self._url(prediction, "cancel"), timeout=5.0)
            self._canceled.append(str(prediction["id"]))
            self.claims.canceled(str(prediction["id"]))
        except (httpx.HTTPError, ReplicateEvalError, KeyError):
            pass  # nothing more to do: it ends on its own, or by its Cancel-After deadline

    def _url(self, prediction: dict[str, Any], name: str) -> str:
        """The prediction's ``urls[name]`` when it is on the API's origin, else the same path on the base URL.

        A proxy in front of Replicate may answer with Replicate's own URLs: those would not get
        the token (see :class:`ApiAuth`), and the base URL is the server meant to be asked.
        """
        urls = prediction.get("urls") or {}
        given = urls.get(name) if isinstance(urls, dict) else None
        if isinstance(given, str):
            try:
                if origin(given) == self.auth.origin:
                    return given
            except (httpx.InvalidURL, TypeError):
                pass
        suffix = "/cancel" if name == "cancel" else ""
        return f"{self._base()}/v1/predictions/{prediction['id']}{suffix}"

    # -- errors ---------------------------------------------------------------------------

    def _raise_for_status(self, response: httpx.Response, creating: bool = False) -> None:
        if response.status_code < 400:
            return
        title, detail, body = api_error(response)
        status = response.status_code
        ref = self.ref
        what = f"deployment {ref.owner}/{ref.name}" if ref.kind == "deployment" else f"replicate:{ref.slug}"
        version = ref.version or self.resolved_version
        if status == 401:
            message = f"Replicate rejected the API token (401 {title}) for {what}: check {TOKEN_SOURCES}"
        elif status == 404:
            message = f"Replicate has no {what} (404 {title}: {detail})"
            if creating and ref.kind != "deployment" and not ref.version:
                message += "; some models can only be run by version: use replicate:owner/model:VERSION"
        elif status == 422 and creating and version and "version" in detail.lower():
            message = (f"Replicate does not know version {version} of {ref.owner}/{ref.name}, or your token may not "
                       f"run it (422 {title}: {detail})")
        elif status == 422:
            rejected = rejected_parameters(body, detail)
            if rejected:
                reasons = "; ".join(f"parameter `{name}`: {reason}" for name, reason in rejected)
                message = f"Replicate rejected the input for {what} (422): {reasons}"
            else:
                message = f"Replicate rejected the input for {what} (422): {detail}"
        elif status == 429:
            message = f"Replicate kept rate-limiting requests for {what} (429: {detail}); retries exhausted"
        else:
            message = f"Replicate answered {status} {title} for {what}: {detail}"
        raise ProviderError(self._hide(message + origin_note(response)))

    # -- outputs --------------------------------------------------------------------------

    def download(self, url: str) -> tuple[bytes, str | None]:
        """Fetch a file output while its URL is still valid; ``data:`` URIs decode locally."""
        if url.startswith("data:"):
            header, _, payload = url.partition(",")
            media_type = header[5:].split(";")[0] or None
            try:
                data = base64.b64decode(payload, validate=True) if ";base64" in header else payload.encode()
            except (binascii.Error, ValueError):
                raise ProviderError(f"{self.ref.slug} returned a data: URI that is not valid base64") from None
            return data, media_type
        response = self._request("GET", url, api=False)
        if response.status_code >= 400:
            raise ProviderError(self._hide(f"downloading the output of {self.ref.slug} failed: HTTP "
                                           f"{response.status_code} for {url}{origin_note(response)}"))
        return response.content, response.headers.get("Content-Type")
