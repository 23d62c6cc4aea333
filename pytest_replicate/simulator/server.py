"""The Simulator: Replicate's HTTP API on 127.0.0.1, with faults, limits and counters.

See the package docstring for the Python API other tests rely on.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from . import answers, images
from .catalogue import BUILTIN, CannedAnswer, Catalogue, ModelSpec
from .faults import (
    CREATE_KINDS,
    Fault,
    RateLimit,
    fault_reply,
    parse_duration,
    parse_prefer_wait,
    reshape,
    round_up_tenth,
    seconds_text,
)
from .files import FileStore
from .httpd import Server
from .inputs import error_detail, json_type, validate_input, with_defaults
from .lookups import LookupEndpoints
from .messages import ApiError, ReceivedRequest, Reply
from .predictions import TERMINAL, Prediction, new_id, peak_concurrency, to_json
from .resources import page
from .streaming import stream_events

# The default (strict) simulator answers as Replicate does: these are version-only. With
# strict=False it still runs them by model name, as it did before the client resolved versions.
_LENIENT_OFFICIAL = frozenset({"stability-ai/sdxl", "meta/llama-guard-3-8b"})
_INVALID_VERSION = ApiError(422, "The specified version does not exist (or perhaps you don't have "
                                 "permission to use it?)", "Invalid version or not permitted")


@dataclass(frozen=True)
class CancelRecord:
    """A prediction that ended canceled or aborted: by a client's cancel or its Cancel-After deadline."""

    id: str
    model: str
    status: str  # "canceled" or "aborted"
    by: str  # "client" or "deadline"
    at: float  # epoch seconds


class Simulator(LookupEndpoints):
    """A Replicate API on 127.0.0.1, started and stopped around tests.

    ``latency``: seconds from creation to a terminal status (half "starting", half
    "processing"), unless a catalogue model sets its own. ``tokens=None`` accepts any
    ``r8_`` token. ``file_output``: image outputs as URLs on this server ("url") or
    ``data:`` URIs ("data"). ``catalogue``: models and deployments (default: built-in).
    ``rate_limit``: a :class:`RateLimit` on creates. ``strict`` (the default) answers exactly
    as Replicate does: version-only models 404 on the official endpoint and an unknown version
    is 422; ``strict=False`` is lenient there (see ``_LENIENT_OFFICIAL``).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0,
                 tokens: Iterable[str] | None = None, file_output: str = "url",
                 catalogue: Catalogue | None = None, rate_limit: RateLimit | None = None,
                 strict: bool = True, page_size: int = 100) -> None:
        if latency < 0:
            raise ValueError("latency must be >= 0")
        if file_output not in ("url", "data"):
            raise ValueError("file_output must be 'url' or 'data'")
        self.host = host
        self.port = port
        self.latency = latency
        self.file_output = file_output
        self.catalogue = catalogue if catalogue is not None else BUILTIN
        self.rate_limit = rate_limit
        self.strict = strict
        self.page_size = page_size
        self.files = FileStore()
        self._tokens = frozenset(tokens) if tokens is not None else None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified on cancel and stop
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._faults: list[Fault] = []
        self._predictions: dict[str, Prediction] = {}
        self._images: dict[str, list[bytes]] = {}
        self._created: list[tuple[str, dict[str, Any]]] = []  # (model "owner/name", create body)
        self._create_times: list[float] = []
        self._creates: Counter[str] = Counter()
        self._turns: Counter[tuple[str, str]] = Counter()  # (model, prompt) -> valid creates so far
        self._throttled = 0
        self.requests: list[ReceivedRequest] = []
        self.canceled: list[str] = []

    # --- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (valid once started)."""
        if self._url is None:
            raise RuntimeError("Simulator not started")
        return self._url

    def start(self) -> Simulator:
        """Bind and serve on a daemon thread; returns self so it can be chained."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = Server((self.host, self.port), receive=self._receive, handle=self._handle, stop=self.stop,
                        stopping=self._stopping)
        self._url = f"http://{self.host}:{server.server_address[1]}"
        self._server = server
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"replicate-simulator-{server.server_address[1]}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port. Idempotent.

        Also what the ``die`` fault does mid-run: afterwards nothing listens on the port.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._stopping.set()
            self._changed.notify_all()  # release requests held by Prefer: wait and streams
        if server is None or thread is None:
            return
        if thread.is_alive():
            server.shutdown_now()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- inspection and control -------------------------------------------------------

    def predictions_created(self) -> list[dict[str, Any]]:
        """JSON bodies of the create requests that produced a prediction, in order."""
        with self._lock:
            return [body for _, body in self._created]

    def inputs_by_model(self) -> list[tuple[str, dict[str, Any]]]:
        """(model "owner/name", input) of each prediction created, in order: who was asked what."""
        with self._lock:
            return [(model, body["input"]) for model, body in self._created]

    def creates_per_model(self) -> dict[str, int]:
        """Predictions created per model ("owner/name"): proves a create was not resent."""
        with self._lock:
            return dict(self._creates)

    def peak_running(self) -> int:
        """The most predictions in flight (created, not yet terminal) at any one instant."""
        with self._lock:
            return peak_concurrency(self._predictions.values(), time.monotonic())

    def running(self) -> int:
        """Predictions in flight right now."""
        with self._lock:
            now = time.monotonic()
            return sum(not p.terminal(now) for p in self._predictions.values())

    def cancel_log(self) -> list[CancelRecord]:
        """Predictions that ended canceled or aborted so far, in the order they ended."""
        with self._lock:
            now = time.monotonic()
            records = []
            for prediction in self._predictions.values():
                end, status, cause = prediction.ending()
                if status in ("canceled", "aborted") and end <= now:
                    wall = prediction.created_wall + end - prediction.created_mono
                    records.append(CancelRecord(prediction.id, prediction.model.ref, status,
                                                "client" if cause == "client" else "deadline", wall))
        return sorted(records, key=lambda record: record.at)

    def throttled(self) -> int:
        """How many creates the rate limit turned away with 429."""
        with self._lock:
            return self._throttled

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; faults are matched in the order added, one per request."""
        with self._lock:
            self._faults.append(fault)

    def change_answer(self, model: str, when: str, output: Any) -> None:
        """From now on ``model`` ("owner/name") answers prompts containing ``when`` with ``output``,
        before its other answers: a model that changed between runs, for drift tests."""
        spec = self.catalogue.models[model]
        changed = replace(spec, answers=(CannedAnswer(when, output), *spec.answers))
        with self._lock:  # a new catalogue, never the shared built-in one changed in place
            self.catalogue = self.catalogue.merged(Catalogue().add([changed]))

    def reset(self) -> None:
        """Forget requests, faults, predictions, files and counters, so one server can serve many tests."""
        with self._lock:
            self.requests.clear()
            self.canceled.clear()
            self._faults.clear()
            self._predictions.clear()
            self._images.clear()
            self._created.clear()
            self._create_times.clear()
            self._creates.clear()
            self._turns.clear()
            self._throttled = 0
        self.files.clear()

    # --- request handling (called from handler threads) ---------------------------------

    def _receive(self, request: ReceivedRequest) -> Fault | None:
        """Record a request and pick its fault; create-only faults are used up on creation."""
        with self._lock:
            self.requests.append(request)
            wants_model = any(fault.model is not None for fault in self._faults)
        model = self._model_of(request) if wants_model else None
        with self._lock:
            for fault in self._faults:
                if fault.matches(request.method, request.path, model):
                    if fault.kind not in CREATE_KINDS:
                        self._use_fault(fault)
                    return fault
        return None

    def _model_of(self, request: ReceivedRequest) -> str | None:
        """The "owner/name" a request is about, for faults limited to one model."""
        path = urlsplit(request.path).path
        if match := re.match(r"/v1/models/([^/]+/[^/]+)", path):
            return match[1]
        if match := re.match(r"/v1/deployments/([^/]+/[^/]+)", path):
            deployment = self.catalogue.deployments.get(match[1])
            return deployment.model if deployment else None
        if match := re.match(r"/v1/predictions/([^/]+)", path):
            with self._lock:
                prediction = self._predictions.get(match[1])
            return prediction.model.ref if prediction else None
        if path == "/v1/predictions" and request.method == "POST":
            try:
                found = self.catalogue.find_version(str(request.json().get("version")))
            except (ValueError, AttributeError):
                return None
            return found[0].ref if found else None
        return None

    def _use_fault(self, fault: Fault) -> bool:
        """Consume one use of ``fault`` (lock held); False if it was already used up."""
        if fault.times <= 0 or fault not in self._faults:
            return False
        fault.times -= 1
        if fault.times == 0:
            self._faults.remove(fault)
        return True

    def _handle(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        if fault is not None and fault.kind == "status":
            return fault_reply(fault)
        if fault is not None and fault.kind == "slow":
            self._stopping.wait(fault.delay)
        try:
            reply = self._route(request, fault if fault and fault.kind in CREATE_KINDS else None)
        except ApiError as error:
            reply = error.reply()
        if fault is not None and fault.kind == "shape":
            reply = reshape(reply, fault)
        return reply

    def _route(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        path = urlsplit(request.path).path
        if path.startswith("/v1/"):
            self._authenticate(request.headers)
        path_known = False
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if method == request.method:
                return handler(request, fault, *match.groups())
        if path_known:
            raise ApiError(405, f"Method {request.method} not allowed for {path}")
        raise ApiError(404, "The requested resource could not be found.", "Not found")

    @cached_property
    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply]]]:
        return [
            ("POST", re.compile(r"/v1/models/([^/]+/[^/]+)/predictions"), self._create_official),
            ("POST", re.compile(r"/v1/predictions"), self._create_version),
            ("POST", re.compile(r"/v1/deployments/([^/]+/[^/]+)/predictions"), self._create_deployment),
            ("GET", re.compile(r"/v1/predictions"), self._list_predictions),
            ("GET", re.compile(r"/v1/predictions/([^/]+)"), self._get),
            ("POST", re.compile(r"/v1/predictions/([^/]+)/cancel"), self._cancel),
            ("GET", re.compile(r"/v1/predictions/([^/]+)/stream"), self._stream),
            ("GET", re.compile(r"/v1/models"), self._list_models),
            ("GET", re.compile(r"/v1/models/([^/]+/[^/]+)"), self._get_model),
            ("GET", re.compile(r"/v1/models/([^/]+/[^/]+)/versions"), self._list_versions),
            ("GET", re.compile(r"/v1/models/([^/]+/[^/]+)/versions/([^/]+)"), self._get_version),
            ("GET", re.compile(r"/v1/deployments"), self._list_deployments),
            ("GET", re.compile(r"/v1/deployments/([^/]+/[^/]+)"), self._get_deployment),
            ("POST", re.compile(r"/v1/files"), self._upload),
            ("GET", re.compile(r"/v1/files"), self._list_files),
            ("GET", re.compile(r"/v1/files/([^/]+)"), self._get_file),
            ("DELETE", re.compile(r"/v1/files/([^/]+)"), self._delete_file),
            ("GET", re.compile(r"/v1/files/([^/]+)/download"), self._download_file),
            ("GET", re.compile(r"/v1/account"), self._account),
            ("GET", re.compile(r"/files/([^/]+)/out-(\d+)\.png"), self._output_file),
        ]

    def _authenticate(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        valid = scheme.lower() in ("bearer", "token") and bool(token) and (
            token.startswith("r8_") if self._tokens is None else token in self._tokens)
        if not valid:
            raise ApiError(401, "You did not pass a valid authentication token", "Unauthenticated")

    # --- creating predictions -----------------------------------------------------------

    def _create_official(self, request: ReceivedRequest, fault: Fault | None, ref: str) -> Reply:
        spec = self._model(ref)
        if not spec.official and (self.strict or ref not in _LENIENT_OFFICIAL):
            raise ApiError(404, f"Model {ref} has no official-model endpoint: a version is required. "
                                f"Use POST /v1/predictions with {{\"version\": \"{ref}:{spec.latest_version}\"}}.",
                           "Not found")
        return self._create(request, fault, spec, spec.latest_version)

    def _create_version(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        body = _json_body(request)
        version = body.get("version")
        if not isinstance(version, str):
            raise ApiError(422, f"version: Invalid type. Expected: string, given: {json_type(version)}",
                           "Input validation failed")
        found = self.catalogue.find_version(version)
        if found is None:
            if self.strict:
                raise _INVALID_VERSION
            raise ApiError(404, f"Version not found: {version}", "Not found")
        spec, digest = found
        return self._create(request, fault, spec, digest)

    def _create_deployment(self, request: ReceivedRequest, fault: Fault | None, ref: str) -> Reply:
        deployment = self.catalogue.deployments.get(ref)
        if deployment is None:
            raise ApiError(404, f"Deployment not found: {ref}", "Not found")
        spec = self._model(deployment.model)
        return self._create(request, fault, spec, deployment.version or spec.latest_version, deployment=ref)

    def _check_file(self, value: str) -> str | None:
        return self.files.check_input(value, self.url)

    def _create(self, request: ReceivedRequest, fault: Fault | None, spec: ModelSpec, version: str,
                deployment: str | None = None) -> Reply:
        body = _json_body(request)
        inp = body.get("input")
        if not isinstance(inp, dict):
            problem = "input is required" if inp is None else f"Invalid type. Expected: object, given: {json_type(inp)}"
            raise ApiError(422, f"input: {problem}", "Input validation failed")
        try:
            wait = parse_prefer_wait(request.headers.get("prefer"))
            cancel_after = request.headers.get("cancel-after")
            deadline = parse_duration(cancel_after) if cancel_after is not None else None
        except ValueError as error:
            raise ApiError(422, str(error), "Invalid header") from None
        problems = validate_input(spec, inp, self._check_file)
        if problems:
            raise ApiError(422, error_detail(problems), "Input validation failed",
                           invalid_fields=[p.as_json() for p in problems])
        effective = with_defaults(spec, inp)
        key = (spec.ref, answers.prompt_text(effective))
        with self._lock:  # each create of one prompt takes its own turn, also under concurrency
            turn = self._turns[key]
            self._turns[key] += 1
        output = answers.model_output(spec, effective, turn)
        latency = spec.latency if spec.latency is not None else self.latency
        with self._lock:
            self._throttle()  # with the insert under one lock, so the limit holds under concurrency
            acting = fault if fault is not None and self._use_fault(fault) else None
            kind = acting.kind if acting is not None else None
            now = time.monotonic()
            prediction = Prediction(
                id=self._new_id(), model=spec, version=version, input=inp, effective_input=effective,
                created_mono=now, created_wall=time.time(),
                queue_time=latency / 2 + (acting.delay if acting is not None and kind == "slow_start" else 0.0),
                run_time=latency / 2, fail=kind == "fail",
                output=None if kind == "fail" else output,  # it fails before producing any token
                deployment=deployment, deadline_mono=now + deadline if deadline is not None else None)
            self._predictions[prediction.id] = prediction
            self._created.append((spec.ref, body))
            self._create_times.append(now)
            self._creates[spec.ref] += 1
        if acting is not None and kind == "created_then_status":
            return fault_reply(acting)
        if wait is not None:
            self._wait_terminal(prediction, wait)
        body = self._serialize(prediction)
        if wait is not None and body["status"] not in TERMINAL:
            # Replicate answers an expired hold with "starting", even for a running model, and
            # the official client's run() polls only then: "processing" would end its wait.
            body["status"] = "starting"
        return Reply.json(201, body)

    def _throttle(self) -> None:
        """429 when the account's rate limit is reached (lock held; a create counts once accepted)."""
        limit = self.rate_limit
        if limit is None:
            return
        now = time.monotonic()
        waits = []
        in_flight = [p.ending()[0] for p in self._predictions.values() if not p.terminal(now)]
        if limit.concurrent is not None and len(in_flight) >= limit.concurrent:
            waits.append(min(in_flight) - now)
        recent = [t for t in self._create_times if t > now - limit.window]
        if limit.per_window is not None and len(recent) >= limit.per_window:
            waits.append(recent[-limit.per_window] + limit.window - now)
        if not waits:
            return
        self._throttled += 1
        retry = limit.retry_after if limit.retry_after is not None else round_up_tenth(max(waits))
        text = seconds_text(retry)
        raise ApiError(429, f"Request was throttled. Your rate limit resets in ~{text}s.",
                       "Request was throttled", {"Retry-After": text} if limit.send_retry_after else {})

    def _new_id(self) -> str:
        """A unique random id shaped like Replicate's (lock held)."""
        while True:
            candidate = new_id()
            if candidate not in self._predictions:
                return candidate

    def _wait_changed(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until a cancel or stop; False once the server is stopping."""
        with self._changed:
            if not self._stopping.is_set():
                self._changed.wait(seconds)
        return not self._stopping.is_set()

    def _wait_terminal(self, prediction: Prediction, timeout: float) -> None:
        """Block until the prediction is terminal, ``timeout`` passes, or the server stops."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if prediction.terminal(now) or now >= deadline:
                return
            if not self._wait_changed(min(deadline - now, prediction.next_change(now))):
                return

    # --- predictions ------------------------------------------------------------------

    def _lookup(self, prediction_id: str) -> Prediction:
        with self._lock:
            prediction = self._predictions.get(prediction_id)
        if prediction is None:
            raise ApiError(404, f"Prediction not found: {prediction_id}", "Not found")
        return prediction

    def _get(self, request: ReceivedRequest, fault: Fault | None, prediction_id: str) -> Reply:
        return Reply.json(200, self._serialize(self._lookup(prediction_id)))

    def _list_predictions(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        with self._lock:
            newest_first = sorted(self._predictions.values(), key=lambda p: p.created_mono, reverse=True)
        return Reply.json(200, page(newest_first, request.path, self.url, self.page_size, self._serialize))

    def _cancel(self, request: ReceivedRequest, fault: Fault | None, prediction_id: str) -> Reply:
        prediction = self._lookup(prediction_id)
        with self._changed:
            now = time.monotonic()
            if not prediction.terminal(now):
                prediction.canceled_mono = now
            self.canceled.append(prediction_id)
            self._changed.notify_all()
        return Reply.json(200, self._serialize(prediction))

    def _stream(self, request: ReceivedRequest, fault: Fault | None, prediction_id: str) -> Reply:
        prediction = self._lookup(prediction_id)
        events = stream_events(prediction, lambda: self._final_output(prediction),
                               prediction.model.kind == "image", self._wait_changed)
        return Reply(200, content_type="text/event-stream", headers={"Cache-Control": "no-store"},
                     stream=events)

    def _output_file(self, request: ReceivedRequest, fault: Fault | None, prediction_id: str, index: str) -> Reply:
        prediction = self._lookup(prediction_id)
        files = self._render_images(prediction) if prediction.status(time.monotonic()) == "succeeded" else []
        if int(index) >= len(files):
            raise ApiError(404, f"File not found: {prediction_id}/out-{index}.png", "Not found")
        return Reply(200, files[int(index)], "image/png")

    def _render_images(self, prediction: Prediction) -> list[bytes]:
        """PNG bytes of an image prediction, rendered once and cached."""
        with self._lock:
            cached = self._images.get(prediction.id)
        if cached is not None:
            return cached
        width, height = images.image_size(prediction.model, prediction.effective_input)
        count = int(prediction.effective_input.get("num_outputs", 1))
        rendered = [images.render_png(width, height, images.image_key(prediction.input, i)) for i in range(count)]
        with self._lock:
            return self._images.setdefault(prediction.id, rendered)

    def _final_output(self, prediction: Prediction) -> Any:
        if prediction.model.kind != "image":
            return prediction.output
        pngs = self._render_images(prediction)
        if self.file_output == "data":
            return ["data:image/png;base64," + base64.b64encode(png).decode() for png in pngs]
        return [f"{self.url}/files/{prediction.id}/out-{i}.png" for i in range(len(pngs))]

    def _serialize(self, prediction: Prediction) -> dict[str, Any]:
        image_size = (images.image_size(prediction.model, prediction.effective_input)
                      if prediction.model.kind == "image" else None)
        return to_json(prediction, time.monotonic(), self.url, lambda: self._final_output(prediction), image_size)


def _json_body(request: ReceivedRequest) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise ApiError(422, "Request body is not valid JSON", "Invalid request body") from None
    if not isinstance(body, dict):
        raise ApiError(422, f"Request body must be a JSON object, given: {json_type(body)}", "Invalid request body")
    return body
