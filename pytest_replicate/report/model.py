"""The run as a team reads it: per eval file, a matrix of test cases x (prompt, provider) columns.

Built from the collected case results (plain data, the same in a plain run and under
pytest-xdist) and the run's counts. The terminal summary, the JSON report (this document,
versioned by ``SCHEMA_VERSION``, see ``report_schema.json``) and the HTML report all render
it, and a baseline comparison annotates it, so each figure is computed once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ..errors import display_path
from ..results.sampling import wilson_interval
from ..suite.derived import derived_metrics

SCHEMA_VERSION = 1
CaseData = dict[str, Any]


def build_report(results: Sequence[CaseData], *, run: Mapping[str, Any],
                 min_pass_rates: Mapping[str, float | None] | None = None, stale: Mapping[str, Any] | None = None,
                 generator: str = "pytest-replicate", created: datetime | None = None) -> dict[str, Any]:
    """The report document: ``run`` holds the run-wide counts (record mode, exchanges,
    throttling, versions); ``min_pass_rates`` maps an eval file (as in the results) to its bar;
    ``stale``: unused cassettes and unplayed interactions (``cassettes/stale.py``), None when not
    judged (a partial run, or no cassette of ours was used).

    ``comparison`` (``report/baseline.py``) and ``gate`` (``report/gates.py``) stay None until
    a baseline or a gate fills them in.
    """
    by_file: dict[str, list[CaseData]] = {}
    for result in results:
        by_file.setdefault(result["file"], []).append(result)
    bars = min_pass_rates or {}
    files = [_file_report(file, cases, bars.get(file)) for file, cases in by_file.items()]
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": generator,
        "created": (created or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "run": {**run, "figures": figures(results), **_spend(run, results)},
        "files": files,
        "stale": None if stale is None else dict(stale),
        "comparison": None,
        "gate": None,
    }


def _spend(run: Mapping[str, Any], results: Sequence[CaseData]) -> dict[str, Any]:
    """The run's live spend with the items skipped because it reached ``--replicate-max-cost``, and
    under ``--replicate-plan`` the items' plans summed per model (None otherwise)."""
    plans = [result["plan"] for result in results if result.get("plan")]
    planned = {"plan": _plan_summary(plans) if plans else None}
    if "spend" not in run:
        return planned
    skipped = sum(1 for result in results if result.get("skipped") and not result.get("plan"))
    return {**planned, "spend": {**run["spend"], "skipped": skipped}}


def _plan_summary(plans: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Under ``--replicate-plan`` (``run/plan.py``), the items' plans summed: how many items take
    each route, and per (model, role) the live calls, the estimate of those that have one, how many
    have none, and the bases of the estimates (or why there are none)."""
    routes: dict[str, int] = {}
    models: dict[tuple[str, str], dict[str, Any]] = {}
    for plan in plans:
        routes[plan["route"]] = routes.get(plan["route"], 0) + 1
        for call in plan["calls"]:
            row = models.setdefault((call["model"], call["role"]), {
                "model": call["model"], "role": call["role"], "calls": 0, "at_least": False, "estimate": 0.0,
                "unestimated": 0, "bases": []})
            row["calls"] += call["calls"]
            row["at_least"] = row["at_least"] or call["at_least"]
            if call["cost"] is None:
                row["unestimated"] += call["calls"]
            else:
                row["estimate"] += call["cost"]
            if call["basis"] not in row["bases"]:
                row["bases"].append(call["basis"])
    rows = list(models.values())
    return {"items": routes, "models": rows,
            "total": {"calls": sum(row["calls"] for row in rows), "at_least": any(row["at_least"] for row in rows),
                      "estimate": sum(row["estimate"] for row in rows),
                      "unestimated": sum(row["unestimated"] for row in rows)}}


def _file_report(file: str, cases: list[CaseData], bar: float | None) -> dict[str, Any]:
    columns: dict[tuple[str, str], int] = {}  # (prompt label, provider label) -> position, first seen first
    rows: dict[tuple[str, str], int] = {}  # (where the test is written, its vars) -> position
    placed: list[CaseData] = []
    for case in cases:
        column = columns.setdefault((case["prompt_label"], case["provider_label"]), len(columns))
        row = rows.setdefault((case["test"], json.dumps(case["vars"], sort_keys=True, default=str)), len(rows))
        placed.append({**case, "row": row, "column": column})
    by_column: list[list[CaseData]] = [[] for _ in columns]
    row_cells: list[list[int | None]] = [[None] * len(columns) for _ in rows]
    row_first: list[CaseData | None] = [None] * len(rows)
    for index, case in enumerate(placed):
        by_column[case["column"]].append(case)
        row_cells[case["row"]][case["column"]] = index
        row_first[case["row"]] = row_first[case["row"]] or case
    file_figures = figures(cases)
    rate = file_figures["pass_rate"]
    return {
        "file": display_path(file),
        "figures": file_figures,
        "min_pass_rate": bar,
        "below_bar": bar is not None and rate is not None and rate < bar,
        "columns": [{"prompt": prompt, "provider": chosen[0]["provider"], "provider_label": provider,
                     "figures": figures(chosen)}
                    for (prompt, provider), chosen in zip(columns, by_column, strict=True)],
        "rows": [{"test": first["test"], "description": first["description"], "vars": first["vars"], "cells": cells}
                 for first, cells in zip(row_first, row_cells, strict=True) if first is not None],
        "cases": placed,
    }


def figures(cases: Iterable[CaseData]) -> dict[str, Any]:
    """Counts, pass rate, metric means, latency, cost and exchanges of some cases."""
    cases = list(cases)
    graded = [case for case in cases if case["outcome"] != "skipped"]
    passed = sum(1 for case in graded if case["passed"])
    errors = sum(1 for case in graded if case["error"] is not None)
    metrics: dict[str, list[float]] = {}
    for case in graded:
        for metric, score in case["named_scores"].items():
            metrics.setdefault(metric, []).append(score)
    definitions = next((case["derived_metrics"] for case in cases if case.get("derived_metrics")), None)
    derived = derived_metrics(definitions, (case["named_scores"] for case in graded)) if definitions and graded else {}
    latencies = sorted(case["latency_ms"] for case in cases if case["live"] and case["latency_ms"] is not None)
    return {
        "cases": len(cases),
        "passed": passed,
        "failed": len(graded) - passed - errors,
        "errors": errors,
        "skipped": len(cases) - len(graded),
        "pass_rate": passed / len(graded) if graded else None,
        "metrics": {**{metric: {"mean": math.fsum(scores) / len(scores), "count": len(scores)}
                       for metric, scores in sorted(metrics.items())},
                    # derivedMetrics (suite/derived.py): their value, not a mean; missing when it has none
                    **{name: {"mean": value, "count": len(graded), "derived": True}
                       for name, value in derived.items() if value is not None}},
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "count": len(latencies)},
        "cost": {"live": _cost(case for case in cases if case["live"]),
                 "replayed": _cost(case for case in cases if not case["live"])},
        "exchanges": {kind: sum(case[kind] for case in cases) for kind in ("replayed", "recorded", "missed")},
        "samples": _samples(graded),
    }


def _samples(cases: Sequence[CaseData]) -> dict[str, Any] | None:
    """Repeated cases' samples taken together (None when no case was repeated): how many passed,
    their mean score, the 95% Wilson interval of the pass rate, and how many cases were flaky."""
    repeated = [case for case in cases if case.get("repeat")]
    if not repeated:
        return None
    ran = sum(case["repeat"]["ran"] for case in repeated)
    passed = sum(case["repeat"]["passed"] for case in repeated)
    scores = [sample["score"] for case in repeated for sample in case["samples"] if sample["score"] is not None]
    return {"count": ran, "passed": passed, "mean_score": math.fsum(scores) / len(scores) if scores else None,
            "interval": list(wilson_interval(passed, ran)) if ran else None,
            "flaky": sum(1 for case in repeated if case["repeat"]["flaky"])}


def percentile(values: Sequence[float], percent: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``; None for none."""
    if not values:
        return None
    rank = max(1, math.ceil(percent / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def _cost(cases: Iterable[CaseData]) -> float | None:
    """Dollars, None when no case had a known cost."""
    known = [case["cost"] for case in cases if case["cost"] is not None]
    return math.fsum(known) if known else None
