"""A prediction's timeline and its JSON shape at any instant.

Nothing is driven by timers: a prediction knows when it was created, how long it queues
("starting") and runs ("processing"), and when a client cancel or a ``Cancel-After``
deadline ends it. Its status, partial output, logs and metrics are derived from those
instants, so concurrent predictions each take their own latency without a worker thread.
"""

from __future__ import annotations

import math
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .catalogue import ModelSpec

FAIL_ERROR = "CUDA out of memory (simulated)"
_ID_ALPHABET = string.ascii_lowercase + string.digits
TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})


@dataclass
class Prediction:
    """Server-side state of one prediction; the status is derived, never stored."""

    id: str
    model: ModelSpec
    version: str
    input: dict[str, Any]  # as the client sent it (Replicate echoes that, not the defaults)
    effective_input: dict[str, Any]  # with the model's defaults, what the model ran on
    created_mono: float
    created_wall: float
    queue_time: float  # seconds in "starting"
    run_time: float  # seconds in "processing"
    fail: bool
    output: Any  # the final output (file outputs are rendered by the server)
    deployment: str | None = None
    deadline_mono: float | None = None  # from a Cancel-After header
    canceled_mono: float | None = None  # from POST .../cancel

    @property
    def latency(self) -> float:
        """Seconds from creation to the natural end (tests/e2e/test_concurrency.py reads it;
        Simulator.peak_running() is the supported way to measure overlap)."""
        return self.queue_time + self.run_time

    @property
    def start_mono(self) -> float:
        return self.created_mono + self.queue_time

    def ending(self) -> tuple[float, str, str]:
        """(instant, terminal status, cause) of the earliest of finishing, a cancel and the deadline."""
        endings = [(self.start_mono + self.run_time, "failed" if self.fail else "succeeded", "finished")]
        if self.canceled_mono is not None:
            endings.append((self.canceled_mono, "canceled", "client"))
        if self.deadline_mono is not None:
            aborted = self.deadline_mono < self.start_mono
            endings.append((self.deadline_mono, "aborted" if aborted else "canceled", "deadline"))
        return min(endings, key=lambda ending: ending[0])

    def status(self, now: float) -> str:
        end, terminal, _ = self.ending()
        if now >= end:
            return terminal
        return "processing" if now >= self.start_mono else "starting"

    def terminal(self, now: float) -> bool:
        return self.status(now) in TERMINAL

    def next_change(self, now: float) -> float:
        """Seconds until the status can next change (for waits); 0 once terminal."""
        end = self.ending()[0]
        pending = [t for t in (self.start_mono, end) if t > now]
        return min(pending) - now if pending else 0.0

    def tokens_done(self, now: float) -> int:
        """How many output tokens a language model has produced by ``now``."""
        if not isinstance(self.output, list) or not self.output:
            return 0
        end, terminal, _ = self.ending()
        if now >= end and terminal == "succeeded":
            return len(self.output)
        elapsed = min(now, end) - self.start_mono
        if elapsed <= 0 or self.run_time <= 0:
            return 0
        return min(len(self.output), math.floor(len(self.output) * elapsed / self.run_time))

    def token_due(self, index: int) -> float:
        """The instant token ``index`` is produced (streaming spreads tokens over the run)."""
        return self.start_mono + self.run_time * (index + 1) / max(len(self.output), 1)


def new_id() -> str:
    """A random id shaped like Replicate's prediction and file ids: 26 of [a-z0-9]."""
    return "".join(_ID_ALPHABET[byte % len(_ID_ALPHABET)] for byte in secrets.token_bytes(26))


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _log_lines(prediction: Prediction, image_size: tuple[int, int] | None) -> list[str]:
    lines = [f"Loaded model {prediction.model.ref} (version {prediction.version[:12]})",
             f"Running prediction {prediction.id}"]
    if prediction.fail:
        return lines + ["Traceback (most recent call last):",
                        '  File "/src/predict.py", line 42, in predict',
                        f"RuntimeError: {FAIL_ERROR}"]
    if image_size is not None:
        steps = prediction.effective_input.get("num_inference_steps", 1)
        count = prediction.effective_input.get("num_outputs", 1)
        return lines + [f"Generating {count} image(s) of {image_size[0]}x{image_size[1]}",
                        f"{steps}/{steps} inference steps done"]
    words = len(str(prediction.effective_input.get("prompt", "")).split())
    return lines + [f"Prompt: {words} words", f"Generated {_output_count(prediction.output)} tokens"]


def _output_count(output: Any) -> int:
    return len(output) if isinstance(output, list) else len(str(output).split())


def to_json(prediction: Prediction, now: float, base_url: str, final_output: Callable[[], Any],
            image_size: tuple[int, int] | None) -> dict[str, Any]:
    """The prediction object as Replicate returns it at ``now``.

    ``final_output`` renders the succeeded output (file URLs or data URIs for images);
    a running language model shows the tokens produced so far, as Replicate does.
    """
    status = prediction.status(now)
    end, _, _ = prediction.ending()
    started = now >= prediction.start_mono and end >= prediction.start_mono
    terminal = status in TERMINAL
    lines = _log_lines(prediction, image_size)
    logs = "\n".join(lines) if status in ("succeeded", "failed") else (lines[0] if started else "")
    output: Any = None
    if status == "succeeded":
        output = final_output()
    elif isinstance(prediction.output, list) and image_size is None and started:
        done = prediction.tokens_done(now)
        output = prediction.output[:done] if done else None
    metrics: dict[str, Any] = {}
    if terminal and started:
        metrics["predict_time"] = round(end - prediction.start_mono, 6)
        metrics["total_time"] = round(end - prediction.created_mono, 6)
    if status == "succeeded" and prediction.model.kind in ("text", "grader"):
        metrics["input_token_count"] = len(str(prediction.effective_input.get("prompt", "")).split())
        metrics["output_token_count"] = _output_count(prediction.output)
        if prediction.run_time > 0:
            metrics["tokens_per_second"] = round(metrics["output_token_count"] / prediction.run_time, 3)
    base = f"{base_url}/v1/predictions/{prediction.id}"
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
        "created_at": iso(prediction.created_wall),
        "started_at": iso(prediction.created_wall + prediction.queue_time) if started else None,
        "completed_at": iso(prediction.created_wall + end - prediction.created_mono) if terminal else None,
        "urls": {"get": base, "cancel": f"{base}/cancel", "stream": f"{base}/stream",
                 "web": f"https://replicate.com/p/{prediction.id}"},
        "metrics": metrics,
        **({"deployment": prediction.deployment} if prediction.deployment else {}),
    }


def peak_concurrency(predictions: Iterable[Prediction], now: float) -> int:
    """The most predictions that were in flight (created, not yet terminal) at one instant."""
    events: list[tuple[float, int]] = []
    for prediction in predictions:
        events.append((prediction.created_mono, 1))
        end = prediction.ending()[0]
        if end <= now:
            events.append((end, -1))
    events.sort(key=lambda event: (event[0], -event[1]))  # a zero-latency prediction still counts once
    peak = running = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak
