"""One verdict from a repeated case's samples: the reducers, pass@k and the Wilson interval.

Pure arithmetic on (passed, score) pairs, so replay reduces exactly as the live run did.

- ``all``: every sample passes (the default);
- ``at_least: K``: K samples or more pass;
- ``mean``: the mean of the samples' scores reaches the threshold;
- ``pass_at: K``: the unbiased pass@k estimate reaches the threshold. It is inspect-ai's
  ``pass_at`` reducer (``inspect_ai/scorer/_reducer``): with n samples of which c passed,
  ``1 - C(n-c, k) / C(n, k)``, the chance that at least one of k samples drawn from the n
  passes (1 when fewer than k failed).

The threshold of ``mean`` and ``pass_at`` is ``repeat.threshold``, else the test's
``threshold`` (the score one sample needs, in promptfoo's rules), else 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from ..suite.model import Repeat

DEFAULT_THRESHOLD = 0.5
CONFIDENCE = 0.95
_Z = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)  # 1.95996...


def wilson_interval(passed: int, total: int, z: float = _Z) -> tuple[float, float]:
    """The Wilson score interval of a pass rate (95% by default): sound for small counts and
    for rates of 0 or 1, where the normal approximation collapses to a point."""
    if total == 0:
        return (0.0, 1.0)
    rate = passed / total
    spread = z * z / total
    centre = (rate + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(rate * (1 - rate) / total + spread / (4 * total))
    return (max(0.0, centre - half), min(1.0, centre + half))


def pass_at_k(total: int, passed: int, k: int) -> float:
    """The unbiased pass@k estimate from ``passed`` of ``total`` samples (needs k <= total)."""
    if total - passed < k:
        return 1.0
    return 1.0 - math.comb(total - passed, k) / math.comb(total, k)


@dataclass(frozen=True)
class SampleVerdict:
    """How a repeated case's samples reduce to its verdict."""

    repeat: Repeat  # as run: its count is the number of samples asked for
    ran: int  # samples that ran: fewer than asked only when a call failed (the case has an error then)
    passes: int  # samples that passed
    mean_score: float  # of the samples that ran; a sample that could not be graded scores 0
    threshold: float | None  # what mean and pass_at compare their figure with
    score: float  # the figure judged: pass rate (all, at_least), mean score (mean), pass@k estimate (pass_at)
    passed: bool

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.passes, self.ran)

    @property
    def flaky(self) -> bool:
        """Some samples passed and some failed."""
        return 0 < self.passes < self.ran

    @property
    def reducer(self) -> str:
        """``all``, ``mean``, ``at_least 3``, ``pass@3``: as messages name it."""
        repeat = self.repeat
        return {"at_least": f"at_least {repeat.k}", "pass_at": f"pass@{repeat.k}"}.get(repeat.reducer, repeat.reducer)

    @property
    def reason(self) -> str:
        repeat, count = self.repeat, self.repeat.count
        if self.ran < count:
            return f"only {self.ran} of {count} samples ran"
        tally = f"{self.passes} of {count} samples passed"
        if repeat.reducer == "all":
            return f"all {count} samples passed" if self.passed else f"{tally}; all must pass"
        if repeat.reducer == "at_least":
            return f"{tally}; at least {repeat.k} must pass"
        figure = f"mean score {self.score:.2f}" if repeat.reducer == "mean" else f"pass@{repeat.k} {self.score:.2f}"
        return f"{figure} ({tally}) {'reaches' if self.passed else 'is below'} the threshold {self.threshold:g}"

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "count": self.repeat.count,
            "ran": self.ran,
            "passed": self.passes,
            "reducer": {"name": self.repeat.reducer, "k": self.repeat.k, "threshold": self.threshold},
            "mean_score": self.mean_score,
            "interval": [low, high],
            "flaky": self.flaky,
        }


def reduce_samples(repeat: Repeat, outcomes: Sequence[tuple[bool, float]], test_threshold: float | None) -> SampleVerdict:
    """The verdict of the samples' (passed, score) pairs, in the order they ran, under ``repeat``."""
    ran = len(outcomes)
    passes = sum(1 for passed, _ in outcomes if passed)
    mean_score = sum(score for _, score in outcomes) / ran if ran else 0.0
    threshold = None
    if repeat.reducer in ("mean", "pass_at"):
        threshold = next(value for value in (repeat.threshold, test_threshold, DEFAULT_THRESHOLD) if value is not None)
    if repeat.reducer == "mean":
        score = mean_score
    elif repeat.reducer == "pass_at":
        assert repeat.k is not None
        score = pass_at_k(ran, passes, repeat.k) if ran >= repeat.k else 0.0
    else:
        score = passes / ran if ran else 0.0
    complete = ran == repeat.count
    if repeat.reducer == "all":
        passed = complete and passes == ran
    elif repeat.reducer == "at_least":
        passed = complete and passes >= (repeat.k or 0)
    else:
        assert threshold is not None
        passed = complete and score >= threshold
    return SampleVerdict(repeat, ran, passes, mean_score, threshold, score, passed)
