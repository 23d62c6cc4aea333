"""The size limit on answers: by Content-Length, by counting when there is none, after decoding."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from pytest_replicate.http.client import LiveTransport, ResponseTooLarge
from pytest_replicate.http.limits import parse_size, size_text


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: the body ends when the connection closes, so Content-Length may be left out."""

    def do_GET(self) -> None:
        body, headers = self.server.answers[self.path]  # type: ignore[attr-defined]
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    big = b"x" * 5000
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.answers = {  # type: ignore[attr-defined]
        "/declared": (big, {"Content-Length": str(len(big))}),
        "/undeclared": (big, {}),
        "/gzip-bomb": (gzip.compress(big), {"Content-Encoding": "gzip"}),
        "/small": (gzip.compress(b"y" * 900), {"Content-Encoding": "gzip"}),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.mark.parametrize(("path", "how"), [("/declared", "it declares 5 KB"),
                                           ("/undeclared", "more than 1 KB had arrived"),
                                           ("/gzip-bomb", "more than 1 KB had arrived")])
def test_an_answer_past_the_limit_fails_naming_the_limit_and_the_option(server, path, how):
    with httpx.Client(transport=LiveTransport(max_response_size=1000)) as client, \
            pytest.raises(ResponseTooLarge) as raised:
        client.get(server + path)
    message = str(raised.value)
    assert f"the answer to GET {server}{path} is larger than the 1 KB limit ({how}" in message
    assert "--replicate-max-response-size or the replicate_max_response_size ini key" in message


def test_an_answer_within_the_limit_arrives_decoded(server):
    with httpx.Client(transport=LiveTransport(max_response_size=1000)) as client:
        response = client.get(server + "/small")
    assert response.content == b"y" * 900 and "content-encoding" not in response.headers


@pytest.mark.parametrize(("text", "size"), [("20MB", 20_000_000), ("20 mb", 20_000_000), ("1.5GB", 1_500_000_000),
                                            ("512KiB", 524_288), ("1000", 1000), ("2 bytes", 2), ("3m", 3_000_000)])
def test_sizes_read_as_people_write_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "-5MB", "0", "0.1", "twenty", "20 TB", "nan", "inf"])
def test_what_is_not_a_size(text):
    assert parse_size(text) is None


def test_sizes_print_in_the_units_they_are_given_in():
    assert [size_text(n) for n in (20_000_000, 1_500_000_000, 1000, 999)] == ["20 MB", "1.5 GB", "1 KB", "999 bytes"]
