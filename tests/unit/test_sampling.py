"""The reducers of repeated samples, pass@k and the Wilson interval (``results/sampling.py``)."""

from __future__ import annotations

import math

import pytest

from pytest_replicate.results.sampling import pass_at_k, reduce_samples, wilson_interval
from pytest_replicate.suite.model import Repeat


@pytest.mark.parametrize(("passed", "total", "low", "high"), [
    (8, 10, 0.4902, 0.9433),  # the textbook example (Wilson 1927; Newcombe 1998)
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (1, 2, 0.0945, 0.9055),
    (81, 263, 0.2553, 0.3662),  # Newcombe's example 1: 81/263 -> 0.2553-0.3662
])
def test_wilson_interval_matches_known_values(passed, total, low, high):
    assert wilson_interval(passed, total) == pytest.approx((low, high), abs=1e-4)


def _inspect_pass_at(total: int, correct: int, k: int) -> float:
    """inspect-ai's pass_at reducer (inspect_ai/scorer/_reducer/reducer.py), with math instead of numpy."""
    if total - correct < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(total - correct + 1, total + 1))


@pytest.mark.parametrize("total", [1, 2, 5, 10])
def test_pass_at_k_is_inspect_ais_estimator(total):
    for passed in range(total + 1):
        for k in range(1, total + 1):
            expected = _inspect_pass_at(total, passed, k)
            assert pass_at_k(total, passed, k) == pytest.approx(expected)
            assert pass_at_k(total, passed, k) == pytest.approx(1 - math.comb(total - passed, k) / math.comb(total, k))


def test_pass_at_k_known_values():
    assert pass_at_k(10, 0, 3) == 0.0
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    assert pass_at_k(10, 3, 3) == pytest.approx(1 - 35 / 120)
    assert pass_at_k(4, 3, 2) == 1.0  # one failure cannot fill a draw of two


OUTCOMES = [(True, 1.0), (False, 0.2), (True, 1.0), (True, 0.8)]  # 3 of 4 pass, mean score 0.75


@pytest.mark.parametrize(("repeat", "test_threshold", "passed", "score", "reason"), [
    (Repeat(4), None, False, 0.75, "3 of 4 samples passed; all must pass"),
    (Repeat(4, "at_least", 3), None, True, 0.75, "3 of 4 samples passed; at least 3 must pass"),
    (Repeat(4, "at_least", 4), None, False, 0.75, "3 of 4 samples passed; at least 4 must pass"),
    (Repeat(4, "mean"), None, True, 0.75, "mean score 0.75 (3 of 4 samples passed) reaches the threshold 0.5"),
    (Repeat(4, "mean"), 0.8, False, 0.75, "mean score 0.75 (3 of 4 samples passed) is below the threshold 0.8"),
    (Repeat(4, "mean", threshold=0.7), 0.8, True, 0.75,
     "mean score 0.75 (3 of 4 samples passed) reaches the threshold 0.7"),
    (Repeat(4, "pass_at", 1), None, True, 0.75, "pass@1 0.75 (3 of 4 samples passed) reaches the threshold 0.5"),
    (Repeat(4, "pass_at", 1, 0.9), None, False, 0.75,
     "pass@1 0.75 (3 of 4 samples passed) is below the threshold 0.9"),
    (Repeat(4, "pass_at", 2, 0.99), None, True, 1.0, "pass@2 1.00 (3 of 4 samples passed) reaches the threshold 0.99"),
])
def test_each_reducer_judges_its_figure(repeat, test_threshold, passed, score, reason):
    verdict = reduce_samples(repeat, OUTCOMES, test_threshold)
    assert (verdict.passed, verdict.score, verdict.reason) == (passed, pytest.approx(score), reason)
    assert (verdict.passes, verdict.ran, verdict.mean_score, verdict.flaky) == (3, 4, 0.75, True)


def test_all_passing_is_not_flaky_and_data_is_plain():
    verdict = reduce_samples(Repeat(3), [(True, 1.0)] * 3, None)
    assert verdict.passed and not verdict.flaky and verdict.reason == "all 3 samples passed"
    assert verdict.as_dict() == {"count": 3, "ran": 3, "passed": 3,
                                 "reducer": {"name": "all", "k": None, "threshold": None},
                                 "mean_score": 1.0, "interval": [pytest.approx(0.4385, abs=1e-4), 1.0],
                                 "flaky": False}


def test_samples_that_did_not_all_run_never_pass():
    verdict = reduce_samples(Repeat(4, "at_least", 1), [(True, 1.0), (True, 1.0)], None)
    assert not verdict.passed and verdict.reason == "only 2 of 4 samples ran"
    assert not reduce_samples(Repeat(3, "pass_at", 3), [(True, 1.0)], None).passed


def test_a_reducer_cannot_ask_for_more_samples_than_run():
    assert Repeat(3, "at_least", 4).problem() == "at_least: 4 needs 4 samples or more, and 3 are asked for"
    assert Repeat(3, "pass_at", 3).problem() is None
