"""The report document: one matrix of test cases x (prompt, provider) per eval file, with figures."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_replicate.report.model import SCHEMA_VERSION, build_report, figures, percentile

RUN = {"record_mode": "none", "exchanges": {"replayed": 0, "recorded": 0, "missed": 0}}


def case(prompt: str, provider: str, word: str, *, passed: bool = True, error: str | None = None,
         live: bool = False, latency: float | None = None, cost: float | None = None,
         scores: dict[str, float] | None = None, file: str = "a.eval.yaml", outcome: str | None = None) -> dict[str, Any]:
    return {
        "nodeid": f"{file}::{word}[{prompt}-{provider}]", "outcome": outcome or ("passed" if passed else "failed"),
        "file": file, "test": f"{file}:5", "description": "greets", "vars": {"word": word},
        "prompt_label": prompt, "provider_label": provider, "provider": "echo", "passed": passed, "error": error,
        "named_scores": scores or {}, "live": live, "latency_ms": latency, "cost": cost,
        "replayed": 0 if live else 1, "recorded": 1 if live else 0, "missed": 0,
    }


def test_cases_form_a_matrix_per_file_in_first_seen_order() -> None:
    results = [case(p, q, w) for w in ("hi", "bye") for p in ("polite", "terse") for q in ("a", "b")]
    results.append(case("polite", "a", "hi", file="b.eval.yaml"))
    report = build_report(results, run=RUN)
    assert report["schema_version"] == SCHEMA_VERSION
    first, second = report["files"]
    assert [(c["prompt"], c["provider_label"]) for c in first["columns"]] == [
        ("polite", "a"), ("polite", "b"), ("terse", "a"), ("terse", "b")]
    assert [(r["vars"], r["cells"]) for r in first["rows"]] == [({"word": "hi"}, [0, 1, 2, 3]),
                                                                ({"word": "bye"}, [4, 5, 6, 7])]
    assert first["cases"][5]["row"] == 1 and first["cases"][5]["column"] == 1
    assert second["file"] == "b.eval.yaml" and second["rows"][0]["cells"] == [0]
    assert report["run"]["figures"]["cases"] == 9


def test_a_missing_cell_is_none() -> None:
    report = build_report([case("p", "a", "hi"), case("p", "b", "bye")], run=RUN)
    assert [r["cells"] for r in report["files"][0]["rows"]] == [[0, None], [None, 1]]


def test_figures_count_pass_rate_metrics_latency_cost_and_exchanges() -> None:
    cases = [case("p", "a", "1", scores={"m": 1.0}, live=True, latency=100, cost=0.5),
             case("p", "a", "2", passed=False, scores={"m": 0.0}, live=True, latency=300, cost=0.25),
             case("p", "a", "3", passed=False, error="boom", cost=0.125),
             case("p", "a", "4", passed=False, outcome="skipped")]
    result = figures(cases)
    assert (result["cases"], result["passed"], result["failed"], result["errors"], result["skipped"]) == (4, 1, 1, 1, 1)
    assert result["pass_rate"] == pytest.approx(1 / 3)
    assert result["metrics"] == {"m": {"mean": 0.5, "count": 2}}
    assert result["latency_ms"] == {"p50": 100, "p95": 300, "count": 2}
    assert result["cost"] == {"live": 0.75, "replayed": 0.125}
    assert result["exchanges"] == {"replayed": 2, "recorded": 2, "missed": 0}


def test_no_cases_have_no_rate_and_no_latency() -> None:
    result = figures([])
    assert result["pass_rate"] is None and result["latency_ms"]["p50"] is None and result["cost"]["live"] is None


@pytest.mark.parametrize(("values", "percent", "expected"), [
    ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 95, 4), ([7], 95, 7), ([], 50, None), (list(range(1, 101)), 95, 95)])
def test_percentile_is_nearest_rank(values: list[float], percent: float, expected: float | None) -> None:
    assert percentile(values, percent) == expected


def test_a_file_below_its_bar_is_marked() -> None:
    results = [case("p", "a", "1"), case("p", "a", "2", passed=False)]
    report = build_report(results, run=RUN, min_pass_rates={"a.eval.yaml": 0.9})
    assert report["files"][0]["min_pass_rate"] == 0.9 and report["files"][0]["below_bar"]
    assert not build_report(results, run=RUN, min_pass_rates={"a.eval.yaml": 0.5})["files"][0]["below_bar"]
