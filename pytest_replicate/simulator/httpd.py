"""HTTP plumbing: a threaded server whose handler hands each request to the simulator.

Kept apart from the API logic so the simulator deals in ``ReceivedRequest`` and ``Reply``
values only (``messages``); socket-level faults (drop, hang, trickle, die) are carried out here.
"""

from __future__ import annotations

import select
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import Fault
from .messages import ApiError, ReceivedRequest, Reply

# What the server asks of the simulator: the fault planned for a request (if any), then its reply.
Receive = Callable[[ReceivedRequest], Fault | None]
Handle = Callable[[ReceivedRequest, Fault | None], Reply]


class Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that hands requests to the simulator's callables and can drop its open connections."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # socketserver's default backlog of 5 drops connections when a suite opens its first
    # burst of them at once; a dropped handshake stalls that client for a retransmit.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], *, receive: Receive, handle: Handle, stop: Callable[[], None],
                 stopping: threading.Event) -> None:
        self.receive = receive
        self.handle = handle
        self.stop = stop
        self.stopping = stopping  # set while the simulator stops: held requests let go
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
        host, port = self.server_address[:2]
        while waiter.is_alive():
            try:
                socket.create_connection((str(host), int(port)), timeout=0.1).close()
            except OSError:
                pass
            waiter.join(0.01)

    def close_connections(self) -> None:
        """Shut open sockets so their handler threads end with the server."""
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
    """Reads a request, hands it to the simulator, writes its reply (keep-alive)."""

    protocol_version = "HTTP/1.1"  # keep-alive, so httpx can reuse connections
    server_version = "replicate-simulator"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: Server

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
            self._write(ApiError(400, "Malformed request body framing").reply())
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        server = self.server
        request = ReceivedRequest(self.command, self.path, headers, body)
        fault = server.receive(request)
        kind = fault.kind if fault is not None else None
        if kind == "hang" and not self._hang(fault.delay):  # type: ignore[union-attr]
            self.close_connection = True  # the client gave up, or the server stopped
            return
        if kind in ("drop", "die"):
            self.close_connection = True  # no reply at all: the client sees a disconnect
            if kind == "die":
                threading.Thread(target=server.stop, daemon=True).start()
            return
        try:
            reply = server.handle(request, fault)
        except Exception as exc:  # a simulator bug must not look like a dropped connection
            reply = ApiError(500, f"Simulator error: {exc!r}").reply()
        self._write(reply, trickle=fault.delay if fault is not None and kind == "trickle" else None)

    def _hang(self, limit: float) -> bool:
        """Hold the request: False once the client hangs up or the server stops, True after ``limit`` s (if > 0)."""
        deadline = time.monotonic() + limit if limit > 0 else None
        stopping = self.server.stopping
        while not stopping.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return True
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return False
                except OSError:
                    return False
                time.sleep(0.05)  # a pipelined request is waiting: it does not end the hang
        return False

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

    def _write(self, reply: Reply, trickle: float | None = None) -> None:
        """Send ``reply``; with ``trickle``, its body one byte every ``trickle`` seconds."""
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        if reply.stream is not None:
            self.close_connection = True  # the end of the stream is the end of the connection
        else:
            self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if reply.stream is None and trickle is not None:
            for index in range(len(reply.body)):
                if self.server.stopping.wait(trickle):
                    return
                self.wfile.write(reply.body[index:index + 1])
                self.wfile.flush()
            return
        if reply.stream is None:
            self.wfile.write(reply.body)
            return
        for chunk in reply.stream:
            self.wfile.write(chunk)
            self.wfile.flush()
