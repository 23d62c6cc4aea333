"""A local HTTP server that speaks Replicate's predictions API.

Tests, the example-suite recorder and benchmarks point their Replicate base URL here
instead of api.replicate.com: it is real HTTP (so the client code under test runs
unchanged), deterministic, quick, and can inject the failures a real service shows
(throttling, 5xx, dropped connections, slow replies, failed predictions).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import string
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import models
from .models import DEPLOYMENTS, MODELS, ModelSpec

FAULT_KINDS = frozenset({"status", "drop", "slow", "fail"})
FAIL_ERROR = "CUDA out of memory (simulated)"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_MODEL_CREATE = re.compile(r"/v1/models/([^/]+)/([^/]+)/predictions")
_DEPLOYMENT_CREATE = re.compile(r"/v1/deployments/([^/]+)/([^/]+)/predictions")
_CREATE_PATH = re.compile(r"/v1/(?:(?:models|deployments)/[^/]+/[^/]+/)?predictions")
_FAULT_DETAILS = {
    401: "You did not pass a valid authentication token",
    404: "The requested resource could not be found.",
    422: "Input validation failed (simulated)",
    500: "Internal server error (simulated)",
    502: "Bad gateway (simulated)",
    503: "Service temporarily unavailable (simulated)",
    504: "Gateway timeout (simulated)",
}


@dataclass
class Fault:
    """A failure to inject into the next matching request(s), as seen from a real service.

    kind: "status" answers with ``status``; "drop" closes the connection without a reply;
    "slow" waits ``delay`` seconds then answers normally; "fail" lets a prediction
    creation succeed but the prediction ends "failed" (only creations consume it).
    """

    kind: str
    status: int = 500
    times: int = 1
    method: str | None = None
    path_prefix: str | None = None
    retry_after: float | None = None
    detail: str | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if self.times < 1:
            raise ValueError("times must be at least 1")

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (a "fail" only to creations)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_prefix is not None and not path.startswith(self.path_prefix):
            return False
        if self.kind == "fail":
            return method.upper() == "POST" and _CREATE_PATH.fullmatch(urlsplit(path).path) is not None
        return True


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
    """An error reply in Replicate's shape: JSON {"title", "detail", "status"}."""

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


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
        return cls(status, json.dumps(payload).encode(), headers=headers or {})


@dataclass
class _Prediction:
    """Server-side state; the status is derived from elapsed time, never stored."""

    id: str
    model: ModelSpec
    version: str
    input: dict[str, Any]
    latency: float
    fail: bool
    created_mono: float
    created_wall: float
    output: Any = None  # text and moderation output, computed at creation
    canceled_mono: float | None = None
    images: list[bytes] | None = None

    def status(self, now: float) -> str:
        if self.canceled_mono is not None:
            return "canceled"
        elapsed = now - self.created_mono
        if elapsed >= self.latency:
            return "failed" if self.fail else "succeeded"
        return "processing" if elapsed >= self.latency / 2 else "starting"

    def terminal(self, now: float) -> bool:
        return self.status(now) in ("succeeded", "failed", "canceled")

    @property
    def image_count(self) -> int:
        return self.input.get("num_outputs", 1) if self.model.kind == "image" else 0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds_text(value: float) -> str:
    """Integer seconds when whole ("2"), else as given ("1.5")."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _parse_prefer_wait(header: str | None) -> float | None:
    """Seconds to hold a create request for ``Prefer: wait[=N]``, None without it."""
    for part in re.split(r"[,;]", header or ""):
        part = part.strip().lower()
        if part == "wait":
            return 60.0
        match = re.fullmatch(r"wait\s*=\s*(\S+)", part)
        if match:
            if not match[1].isdigit() or not 1 <= int(match[1]) <= 60:
                raise ApiError(422, f"Prefer: wait must be between 1 and 60 seconds, got {match[1]!r}")
            return float(match[1])
    return None


class Simulator:
    """A Replicate predictions API on 127.0.0.1, started and stopped around tests.

    ``latency`` is how long a prediction takes from creation to a terminal status;
    ``tokens=None`` accepts any ``r8_`` token; ``file_output`` chooses whether image
    outputs are URLs on this server ("url") or ``data:`` URIs ("data").
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, latency: float = 0.0,
                 tokens: Iterable[str] | None = None, file_output: str = "url") -> None:
        if latency < 0:
            raise ValueError("latency must be >= 0")
        if file_output not in ("url", "data"):
            raise ValueError("file_output must be 'url' or 'data'")
        self.host = host
        self.port = port
        self.latency = latency
        self.file_output = file_output
        self._tokens = frozenset(tokens) if tokens is not None else None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified on cancel and stop
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None
        self._faults: list[Fault] = []
        self._predictions: dict[str, _Prediction] = {}
        self._created: list[dict[str, Any]] = []
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
        server = _Server((self.host, self.port), self)
        self._url = f"http://{self.host}:{server.server_address[1]}"
        self._server = server
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"replicate-simulator-{server.server_address[1]}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port. Idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._stopping.set()
            self._changed.notify_all()  # release requests held by Prefer: wait
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
            return list(self._created)

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault; faults are matched in the order added, one per request."""
        with self._lock:
            self._faults.append(fault)

    def reset(self) -> None:
        """Forget requests, faults and predictions, so one server can serve many tests."""
        with self._lock:
            self.requests.clear()
            self.canceled.clear()
            self._faults.clear()
            self._predictions.clear()
            self._created.clear()

    # --- request handling (called from handler threads) ---------------------------------

    def _receive(self, request: ReceivedRequest) -> Fault | None:
        """Record a request and pick its fault; "fail" faults are only used up on creation."""
        with self._lock:
            self.requests.append(request)
            for fault in self._faults:
                if fault.matches(request.method, request.path):
                    if fault.kind != "fail":
                        self._use_fault(fault)
                    return fault
        return None

    def _use_fault(self, fault: Fault) -> bool:
        """Consume one use of ``fault`` (lock held); False if it was already used up."""
        if fault.times <= 0 or fault not in self._faults:
            return False
        fault.times -= 1
        if fault.times == 0:
            self._faults.remove(fault)
        return True

    def _pause(self, seconds: float) -> None:
        """Sleep that ends early when the server stops, so stop() never waits on it."""
        self._stopping.wait(seconds)

    def _handle(self, request: ReceivedRequest, fault: Fault | None) -> _Reply:
        if fault is not None and fault.kind == "status":
            return self._fault_reply(fault)
        if fault is not None and fault.kind == "slow":
            self._pause(fault.delay)
        try:
            return self._route(request, fault if fault and fault.kind == "fail" else None)
        except ApiError as error:
            return _Reply.json(error.status, error.payload(), error.headers)

    def _fault_reply(self, fault: Fault) -> _Reply:
        headers: dict[str, str] = {}
        if fault.status == 429:
            wait = _seconds_text(fault.retry_after) if fault.retry_after is not None else "1"
            detail = f"Request was throttled. Your rate limit resets in ~{wait}s."
            if fault.retry_after is not None:
                headers["Retry-After"] = wait
        else:
            detail = _FAULT_DETAILS.get(fault.status, "Simulated failure")
        error = ApiError(fault.status, fault.detail or detail,
                         "Unauthenticated" if fault.status == 401 else None, headers)
        return _Reply.json(error.status, error.payload(), error.headers)

    def _route(self, request: ReceivedRequest, fail: Fault | None) -> _Reply:
        path = urlsplit(request.path).path
        if path.startswith("/v1/"):
            self._authenticate(request.headers)
        path_known = False
        for method, pattern, handler, creates in self._routes():
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_known = True
            if method == request.method:
                return handler(request, fail, *match.groups()) if creates else handler(*match.groups())
        if path_known:
            raise ApiError(405, f"Method {request.method} not allowed for {path}")
        raise ApiError(404, "The requested resource could not be found.", "Not found")

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., _Reply], bool]]:
        """(method, path pattern, handler, whether it creates a prediction)."""
        return [
            ("POST", _MODEL_CREATE, self._create_official, True),
            ("POST", re.compile(r"/v1/predictions"), self._create_version, True),
            ("POST", _DEPLOYMENT_CREATE, self._create_deployment, True),
            ("GET", re.compile(r"/v1/predictions/([^/]+)"), self._get, False),
            ("POST", re.compile(r"/v1/predictions/([^/]+)/cancel"), self._cancel, False),
            ("GET", re.compile(r"/v1/predictions/([^/]+)/stream"), self._stream, False),
            ("GET", re.compile(r"/files/([^/]+)/out-(\d+)\.png"), self._file, False),
        ]

    def _authenticate(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        token = token.strip()
        valid = scheme.lower() in ("bearer", "token") and bool(token) and (
            token.startswith("r8_") if self._tokens is None else token in self._tokens)
        if not valid:
            raise ApiError(401, "You did not pass a valid authentication token", "Unauthenticated")

    # --- endpoints --------------------------------------------------------------------

    def _create_official(self, request: ReceivedRequest, fail: Fault | None, owner: str, name: str) -> _Reply:
        ref = f"{owner}/{name}"
        spec = MODELS.get(ref)
        if spec is None:
            raise ApiError(404, f"Model not found: {ref}", "Not found")
        if not spec.official:
            raise ApiError(404, f"Model {ref} has no official-model endpoint: a version is required. "
                                f"Use POST /v1/predictions with {{\"version\": \"{ref}:{spec.latest_version}\"}}.",
                           "Not found")
        body, inp = self._parse_create(request)
        return self._create(request, fail, spec, spec.latest_version, body, inp)

    def _create_version(self, request: ReceivedRequest, fail: Fault | None) -> _Reply:
        body, inp = self._parse_create(request)
        version = body.get("version")
        if not isinstance(version, str):
            raise ApiError(422, f"version: Expected string, got {models.json_type(version)}",
                           "Input validation failed")
        found = models.find_version(version)
        if found is None:
            raise ApiError(404, f"Version not found: {version}", "Not found")
        spec, digest = found
        return self._create(request, fail, spec, digest, body, inp)

    def _create_deployment(self, request: ReceivedRequest, fail: Fault | None, owner: str, name: str) -> _Reply:
        ref = f"{owner}/{name}"
        if ref not in DEPLOYMENTS:
            raise ApiError(404, f"Deployment not found: {ref}", "Not found")
        spec = MODELS[DEPLOYMENTS[ref]]
        body, inp = self._parse_create(request)
        return self._create(request, fail, spec, spec.latest_version, body, inp)

    @staticmethod
    def _parse_create(request: ReceivedRequest) -> tuple[dict[str, Any], dict[str, Any]]:
        try:
            body = request.json()
        except ValueError:
            raise ApiError(422, "Request body is not valid JSON", "Invalid request body") from None
        if not isinstance(body, dict):
            raise ApiError(422, f"Request body must be a JSON object, got {models.json_type(body)}",
                           "Invalid request body")
        inp = body.get("input")
        if not isinstance(inp, dict):
            problem = "Missing required field" if inp is None else f"Expected object, got {models.json_type(inp)}"
            raise ApiError(422, f"input: {problem}", "Input validation failed")
        return body, inp

    def _create(self, request: ReceivedRequest, fail: Fault | None, spec: ModelSpec, version: str,
                body: dict[str, Any], inp: dict[str, Any]) -> _Reply:
        wait = _parse_prefer_wait(request.headers.get("prefer"))
        errors = models.validate_input(spec, inp)
        if errors:
            raise ApiError(422, "\n".join(f"{name}: {text}" for name, text in errors),
                           "Input validation failed",
                           invalid_fields=[{"field": name, "description": text} for name, text in errors])
        output: Any = None
        if spec.kind == "text":
            output = models.tokenize(models.generate_text(inp))
        elif spec.kind == "moderation":
            output = models.moderate(inp)
        with self._lock:
            prediction = _Prediction(
                id=self._new_id(), model=spec, version=version, input=inp, latency=self.latency,
                fail=fail is not None and self._use_fault(fail), created_mono=time.monotonic(),
                created_wall=time.time(), output=output)
            self._predictions[prediction.id] = prediction
            self._created.append(body)
        if wait is not None:
            self._wait_terminal(prediction, wait)
        return _Reply.json(201, self._serialize(prediction))

    def _new_id(self) -> str:
        """A unique random id shaped like Replicate's (lock held)."""
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))
            if candidate not in self._predictions:
                return candidate

    def _wait_terminal(self, prediction: _Prediction, timeout: float) -> None:
        """Block until the prediction is terminal, ``timeout`` passes, or the server stops."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._stopping.is_set():
                now = time.monotonic()
                if prediction.terminal(now) or now >= deadline:
                    return
                self._changed.wait(min(deadline, prediction.created_mono + prediction.latency) - now)

    def _lookup(self, prediction_id: str) -> _Prediction:
        with self._lock:
            prediction = self._predictions.get(prediction_id)
        if prediction is None:
            raise ApiError(404, f"Prediction not found: {prediction_id}", "Not found")
        return prediction

    def _get(self, prediction_id: str) -> _Reply:
        return _Reply.json(200, self._serialize(self._lookup(prediction_id)))

    def _cancel(self, prediction_id: str) -> _Reply:
        prediction = self._lookup(prediction_id)
        with self._changed:
            now = time.monotonic()
            if not prediction.terminal(now):
                prediction.canceled_mono = now
            self.canceled.append(prediction_id)
            self._changed.notify_all()
        return _Reply.json(200, self._serialize(prediction))

    def _stream(self, prediction_id: str) -> _Reply:
        """Server-sent events for a language model, sent in one go once it is terminal."""
        prediction = self._lookup(prediction_id)
        if prediction.model.kind == "image":
            raise ApiError(404, f"Prediction {prediction_id} does not support streaming", "Not found")
        self._wait_terminal(prediction, 60.0)
        state = self._serialize(prediction)
        events: list[tuple[str, str]] = []
        if state["status"] == "succeeded":
            output = state["output"]
            events += [("output", token) for token in (output if isinstance(output, list) else [output])]
        elif state["status"] == "failed":
            events.append(("error", json.dumps({"detail": state["error"]})))
        events.append(("done", "{}" if state["status"] != "canceled" else '{"reason": "canceled"}'))
        text = "".join(
            f"event: {name}\nid: {i}\n" + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"
            for i, (name, data) in enumerate(events))
        return _Reply(200, text.encode(), "text/event-stream")

    def _file(self, prediction_id: str, index: str) -> _Reply:
        prediction = self._lookup(prediction_id)
        if (prediction.status(time.monotonic()) != "succeeded"
                or int(index) >= prediction.image_count):
            raise ApiError(404, f"File not found: {prediction_id}/out-{index}.png", "Not found")
        return _Reply(200, self._images(prediction)[int(index)], "image/png")

    # --- prediction objects -------------------------------------------------------------

    def _images(self, prediction: _Prediction) -> list[bytes]:
        """PNG bytes of an image prediction, rendered once and cached."""
        if prediction.images is None:
            width, height = models.image_size(prediction.model, prediction.input)
            images = [models.render_png(width, height, models.image_key(prediction.input, i))
                      for i in range(prediction.image_count)]
            with self._lock:
                if prediction.images is None:
                    prediction.images = images
        return prediction.images

    def _image_output(self, prediction: _Prediction) -> list[str]:
        if self.file_output == "data":
            return ["data:image/png;base64," + base64.b64encode(png).decode()
                    for png in self._images(prediction)]
        return [f"{self.url}/files/{prediction.id}/out-{i}.png" for i in range(prediction.image_count)]

    def _log_lines(self, prediction: _Prediction) -> list[str]:
        lines = [f"Loaded model {prediction.model.ref} (version {prediction.version[:12]})",
                 f"Running prediction {prediction.id}"]
        if prediction.fail:
            return lines + ["Traceback (most recent call last):",
                            '  File "/src/predict.py", line 42, in predict',
                            f"RuntimeError: {FAIL_ERROR}"]
        if prediction.model.kind == "image":
            width, height = models.image_size(prediction.model, prediction.input)
            steps = prediction.input.get("num_inference_steps", 4 if prediction.model.default_size == 1024 else 25)
            return lines + [f"Generating {prediction.image_count} image(s) of {width}x{height}",
                            f"{steps}/{steps} inference steps done"]
        prompt_words = len(str(prediction.input.get("prompt", "")).split())
        return lines + [f"Prompt: {prompt_words} words",
                        f"Generated {self._output_words(prediction)} tokens"]

    @staticmethod
    def _output_words(prediction: _Prediction) -> int:
        output = prediction.output
        return len(output) if isinstance(output, list) else len(str(output).split())

    def _serialize(self, prediction: _Prediction) -> dict[str, Any]:
        """The prediction object as Replicate returns it, at this instant."""
        with self._lock:
            now = time.monotonic()
            status = prediction.status(now)
            canceled_after = (prediction.canceled_mono - prediction.created_mono
                              if prediction.canceled_mono is not None else None)
        start_offset = prediction.latency / 2
        started = status != "starting" and (canceled_after is None or canceled_after >= start_offset)
        end_offset = canceled_after if canceled_after is not None else prediction.latency
        terminal = status in ("succeeded", "failed", "canceled")
        lines = self._log_lines(prediction)
        logs = "\n".join(lines) if status in ("succeeded", "failed") else (lines[0] if started else "")
        metrics: dict[str, Any] = {}
        if terminal and started:
            metrics["predict_time"] = round(end_offset - start_offset, 6)
        if status == "succeeded" and prediction.model.kind != "image":
            metrics["input_token_count"] = len(str(prediction.input.get("prompt", "")).split())
            metrics["output_token_count"] = self._output_words(prediction)
        output: Any = None
        if status == "succeeded":
            output = self._image_output(prediction) if prediction.model.kind == "image" else prediction.output
        base = f"{self.url}/v1/predictions/{prediction.id}"
        urls = {"get": base, "cancel": f"{base}/cancel"}
        if prediction.model.kind != "image":
            urls["stream"] = f"{base}/stream"
        return {
            "id": prediction.id,
            "model": prediction.model.ref,
            "version": prediction.version,
            "input": prediction.input,
            "output": output,
            "logs": logs,
            "error": FAIL_ERROR if status == "failed" else None,
            "status": status,
            "source": "api",
            "data_removed": False,
            "created_at": _iso(prediction.created_wall),
            "started_at": _iso(prediction.created_wall + start_offset) if started else None,
            "completed_at": _iso(prediction.created_wall + end_offset) if terminal else None,
            "urls": urls,
            "metrics": metrics,
        }


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its Simulator and can drop its open connections."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def shutdown_now(self) -> None:
        """shutdown() returns only at serve_forever's next poll; a throwaway connection
        wakes the poll at once, so stopping takes milliseconds instead of a poll interval."""
        waiter = threading.Thread(target=self.shutdown, daemon=True)
        waiter.start()
        while waiter.is_alive():
            try:
                host, port = self.server_address[:2]
                socket.create_connection((str(host), int(port)), timeout=0.1).close()
            except OSError:
                pass
            waiter.join(0.01)

    def close_connections(self) -> None:
        """Shut idle keep-alive sockets so their handler threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (or stop() cutting them off) is normal, not worth a traceback."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, hands it to the Simulator, writes its reply (keep-alive)."""

    protocol_version = "HTTP/1.1"  # keep-alive, so httpx can reuse connections
    server_version = "replicate-simulator"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: per-request lines on stderr would drown test output."""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._write(_Reply.json(400, ApiError(400, "Malformed request body framing").payload()))
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        simulator = self.server.simulator
        request = ReceivedRequest(self.command, self.path, headers, body)
        fault = simulator._receive(request)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True  # no reply at all: the client sees a disconnect
            return
        try:
            reply = simulator._handle(request, fault)
        except Exception as exc:  # a simulator bug must not look like a dropped connection
            reply = _Reply.json(500, ApiError(500, f"Simulator error: {exc!r}").payload())
        self._write(reply)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _write(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)
