"""Server-sent events for ``urls.stream``, produced while the prediction runs.

Replicate's stream sends ``event: output`` per token (or per file URL for image models),
then ``event: done`` (``data: {}``, or ``{"reason": "canceled"}`` / ``{"reason": "error"}``),
preceded by ``event: error`` when the prediction failed. Each event carries an ``id``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from .predictions import FAIL_ERROR, Prediction


def sse(event: str, data: str, event_id: int) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event}\nid: {event_id}\n{lines}\n".encode()


def _as_data(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def stream_events(prediction: Prediction, final_output: Callable[[], Any], is_file_output: bool,
                  wait: Callable[[float], bool]) -> Iterator[bytes]:
    """Yield SSE frames as tokens become due; ``wait(seconds)`` returns False when the server stops."""
    tokens = prediction.output if isinstance(prediction.output, list) and not is_file_output else None
    sent = 0
    while True:
        now = time.monotonic()
        status = prediction.status(now)
        if tokens is not None:
            done = prediction.tokens_done(now)
            for index in range(sent, done):
                yield sse("output", tokens[index], index)
            sent = max(sent, done)
        if status in ("succeeded", "failed", "canceled", "aborted"):
            count = sent
            if status == "succeeded" and tokens is None:
                output = final_output()
                for item in output if isinstance(output, list) and is_file_output else [output]:
                    yield sse("output", _as_data(item), count)
                    count += 1
            if status == "failed":
                yield sse("error", json.dumps({"detail": FAIL_ERROR}), count)
                count += 1
            reason = {"succeeded": {}, "failed": {"reason": "error"}}.get(status, {"reason": "canceled"})
            yield sse("done", json.dumps(reason), count)
            return
        pause = prediction.next_change(now)
        if tokens is not None and sent < len(tokens):
            pause = min(pause, max(prediction.token_due(sent) - now, 0.0))
        if not wait(max(pause, 0.001)):
            return
