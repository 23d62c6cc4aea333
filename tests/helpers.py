"""Plain helpers for the plugin's own tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import struct
import textwrap
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Short and obviously fake: the before-stop leak check looks for long r8_ tokens.
FAKE_TOKEN = "r8_test_not_a_real_token"
# Debian's Chromium, as browser tests start it: headless, and asking nothing of the (closed) network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def png(width: int = 2, height: int = 2) -> bytes:
    """A red PNG, for image vars and inputs."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound once, then released): connection refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write(pytester: pytest.Pytester, name: str, text: str | bytes) -> None:
    """Write a file (dedented text, or bytes as they are) below the pytester directory."""
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def assert_no_traceback(result: pytest.RunResult) -> None:
    """The user sees our message, not how our code got there."""
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert "pytest_replicate/" not in output
    assert "INTERNALERROR" not in output


def interrupt_pytest_when(pytester: pytest.Pytester, ready, timeout: float = 20.0, args: tuple[str, ...] = (),
                          signal_name: str = "SIGINT"):
    """Run pytest in a subprocess and press Ctrl-C (SIGINT), or send ``signal_name``, once ``ready()`` is true."""
    import signal
    import subprocess
    import sys
    import time

    # A shell that started us in the background may ignore SIGINT, and the child would
    # inherit that; restore the default so Python turns SIGINT into KeyboardInterrupt.
    process = pytester.popen(
        [sys.executable, "-m", "pytest", "-p", "pytest_replicate.pytest.plugin", "-q", *args],
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ready(), "the run never reached the point to interrupt"
        process.send_signal(getattr(signal, signal_name))
        process.wait(timeout=timeout)
        return process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@contextlib.contextmanager
def webhook_server(answer: Callable[[dict], tuple[int, object]]) -> Iterator[tuple[str, list[dict]]]:
    """A grading webhook on 127.0.0.1: ``answer(request JSON)`` gives (status, JSON reply).

    Yields the URL and the list of request bodies received; the server stops on exit.
    """
    received: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append(body)
            status, reply = answer(body)
            data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/grade", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
