"""A tiny scripted HTTP server on 127.0.0.1 for client tests the simulator cannot (yet) stage.

Each test gives a ``handle(request) -> Reply`` function; the server records every request.
``closed_port()`` gives a port where nothing listens (connection refused).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    hold: float = 0.0  # seconds to wait before answering (ends early when the server stops)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        self.headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode()


class StandIn:
    def __init__(self, handle: Callable[[Seen], Reply]) -> None:
        self.handle = handle
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                            self.rfile.read(length) if length else b"")
                stand_in.requests.append(seen)
                reply = stand_in.handle(seen)
                if reply.hold:
                    stand_in.stopping.wait(reply.hold)
                body = reply.payload()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def posts(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prediction(pid: str = "p1", status: str = "succeeded", output: Any = "Paris", base: str = "",
               **extra: Any) -> dict[str, Any]:
    """A prediction object as Replicate returns it."""
    return {"id": pid, "status": status, "output": output, "model": "meta/llama-2-7b-chat", "version": "v" * 64,
            "input": {}, "logs": "", "error": None, "created_at": "2030-01-01T00:00:00Z",
            "urls": {"get": f"{base}/v1/predictions/{pid}", "cancel": f"{base}/v1/predictions/{pid}/cancel"},
            "metrics": {}, **extra}
