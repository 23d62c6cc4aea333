"""The outcome of one case, in a form that can leave the process.

``to_dict`` gives plain JSON-ready data with secrets redacted: JSON reports and pytest-xdist
aggregation send it between processes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from ..assertions import GradingResult
from ..providers.base import ProviderResponse
from ..redaction import RedactedRepr, Redactor
from ..suite.model import Case
from .sampling import SampleVerdict

if TYPE_CHECKING:  # the cassette module loads vcrpy, which the plugin must not import before configure
    from ..cassettes.cassette import CassetteStats


class Replayed(TypedDict):
    """The item's result replayed from its cassette, as CI would see it."""

    passed: bool
    score: float | None
    output: Any  # plain data, as ``CaseResult.to_dict`` gives it
    error: str | None  # why the replay could not be graded (a cassette miss: the request changed)


class Drift(TypedDict):
    """Under ``--replicate-drift``, a live result compared with its cassette's (``run/drift.py``)."""

    output_changed: bool
    verdict: str | None  # "pass→fail" or "fail→pass" (replayed → live); None: the same verdict
    diff: str | None  # a few lines, "- replayed" / "+ live"; None when the output did not change
    replayed: Replayed | None  # None: the item has no cassette, so there was nothing to compare
    updated: bool  # --replicate-drift=update rewrote the cassette with the live exchanges


@dataclass(repr=False)
class CaseResult(RedactedRepr):
    case: Case
    prompt: str | None = None  # as sent to the provider
    response: ProviderResponse | None = None
    output: Any = None  # after transforms
    grading: GradingResult | None = None
    error: str | None = None  # why the case could not be graded
    # A model call (the provider's or a grader's) failed or missed its cassette: such an
    # exchange must not be saved, or replay would repeat the failure for good.
    call_failed: bool = False
    duration: float = 0.0
    cassette: Path | None = None
    exchanges: CassetteStats | None = None  # counted while its cassette was in use (grading included)
    # A repeated case (``repeat``): its samples in the order they ran, each a result of its own,
    # and their reduced verdict. Its prompt, response, output and grading are the first sample's.
    samples: list[CaseResult] = field(default_factory=list)
    verdict: SampleVerdict | None = None
    drift: Drift | None = None  # under --replicate-drift: how the live result compares with the replayed one
    # The session's secrets, for the repr pytest shows (a fixture's run_case result under -l, say).
    redactor: Redactor | None = field(default=None, repr=False, compare=False)
    skipped: str | None = None  # why the case did not run (--replicate-max-cost reached): its item is skipped
    plan: dict[str, Any] | None = None  # under --replicate-plan: what it would call (run/plan.py's ItemPlan)

    @property
    def passed(self) -> bool:
        if self.error is not None:
            return False
        if self.verdict is not None:
            return self.verdict.passed
        return self.grading is not None and self.grading.passed

    @property
    def score(self) -> float | None:
        """The reducer's figure for a repeated case, else the grading's score."""
        if self.verdict is not None:
            return self.verdict.score
        return self.grading.score if self.grading else None

    @property
    def prediction_id(self) -> str | None:
        return self.response.metadata.get("prediction_id") if self.response is not None else None

    @property
    def reason(self) -> str | None:
        if self.verdict is not None:
            return self.verdict.reason
        return self.grading.reason if self.grading else None

    def to_dict(self, redactor: Redactor | None = None) -> dict[str, Any]:
        """Plain JSON-ready data with every token the redactor knows hidden (the keys are
        documented on the ``pytest_replicate_case_result`` hook)."""
        response = self.response
        exchanges = self.exchanges.as_dict() if self.exchanges is not None else {}
        image = response.image if response is not None else None
        data = {
            "name": self.case.name,
            "file": sys.intern(str(self.case.suite.file)),  # one string for a file's cases, not one each
            "description": self.case.test.description,
            "test": self.case.test.location,  # where the test is written: with vars, a row of the matrix
            "provider": self.case.provider.id,
            "provider_label": self.case.provider.label,
            "prompt_label": self.case.prompt.label,
            "vars": _plain(self.case.vars),
            "prompt": self.prompt,
            "output": _plain(self.output),
            "image": None if image is None else {
                "url": image.url, "media_type": image.media_type, "width": image.width, "height": image.height,
                "bytes": len(image.data),
            },
            "passed": self.passed,
            "score": self.score,
            "reason": self.reason,
            "named_scores": self._named_scores(),
            "assertions": [_assertion_dict(child) for child in self.grading.children] if self.grading else [],
            "latency_ms": response.latency_ms if response is not None else None,
            "cost": _total_cost(self.samples) if self.samples else _cost(self),
            "prediction_id": self.prediction_id,
            "cassette": str(self.cassette) if self.cassette else None,
            "replayed": exchanges.get("replayed", 0),  # HTTP exchanges answered by the cassette
            "recorded": exchanges.get("recorded", 0),  # and those that went live
            "missed": exchanges.get("missed", 0),  # and those the cassette could not answer
            "live": exchanges.get("sent", 0) > 0,  # went to the network, kept in its cassette or not
            "drift": self.drift,
            "skipped": self.skipped,
            "plan": self.plan,
            "error": self.error,
            "duration": self.duration,
            "samples": [_sample_dict(index, sample) for index, sample in enumerate(self.samples, 1)],
            "repeat": self.verdict.as_dict() if self.verdict is not None else None,
        }
        if self.case.suite.derived_metrics:  # the file's derivedMetrics, computed by the report over its cases
            data["derived_metrics"] = [list(pair) for pair in self.case.suite.derived_metrics]
        return (redactor or Redactor()).redact_data(data)

    def _named_scores(self) -> dict[str, float]:
        """A repeated case's: each metric's mean over the samples that have it."""
        if not self.samples:
            return dict(self.grading.named_scores) if self.grading else {}
        values: dict[str, list[float]] = {}
        for sample in self.samples:
            for metric, score in (sample.grading.named_scores if sample.grading else {}).items():
                values.setdefault(metric, []).append(score)
        return {metric: sum(scores) / len(scores) for metric, scores in values.items()}


def _sample_dict(index: int, sample: CaseResult) -> dict[str, Any]:
    response = sample.response
    return {
        "index": index,  # 1 for the first sample
        "passed": sample.passed,
        "score": sample.score,
        "reason": sample.reason,
        "output": _plain(sample.output),
        "error": sample.error,
        "assertions": [_assertion_dict(child) for child in sample.grading.children] if sample.grading else [],
        "latency_ms": response.latency_ms if response is not None else None,
        "cost": _cost(sample),
        "prediction_id": sample.prediction_id,
        "duration": sample.duration,
    }


def _cost(result: CaseResult) -> float | None:
    return result.response.cost if result.response is not None else None


def _total_cost(samples: list[CaseResult]) -> float | None:
    """Dollars for every sample's call; None if any sample's cost is unknown."""
    costs = [_cost(sample) for sample in samples]
    return None if any(cost is None for cost in costs) else sum(cost for cost in costs if cost is not None)


def _assertion_dict(result: GradingResult) -> dict[str, Any]:
    spec = result.assertion
    return {
        "type": spec.display_type if spec else None,
        "value": _plain(result.value),
        "passed": result.passed,
        "score": result.score,
        "reason": result.reason,
        "weight": spec.weight if spec else None,
        "metric": spec.metric if spec else None,
        "children": [_assertion_dict(child) for child in result.children],
    }


def _plain(value: Any) -> Any:
    """JSON-ready: containers kept, other non-JSON scalars (dates, bytes) as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return str(value)
