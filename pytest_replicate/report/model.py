"""The run as a team reads it: per eval file, a matrix of test cases x (prompt, provider) columns.

Built from the collected case results (plain data, the same in a plain run and under
pytest-xdist) and the run's counts. The terminal summary, the JSON report (this document,
versioned by ``SCHEMA_VERSION``, see ``report_schema.json``) and the HTML report all render
it, and a baseline comparison annotates it, so each figure is computed once.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from itertools import chain, repeat
from typing import Any, overload

from ..errors import display_path
from ..results.sampling import wilson_interval
from ..suite.derived import derived_metrics

SCHEMA_VERSION = 1
CaseData = dict[str, Any]


def build_report(results: Sequence[CaseData], *, run: Mapping[str, Any],
                 min_pass_rates: Mapping[str, float | None] | None = None, stale: Mapping[str, Any] | None = None,
                 generator: str = "pytest-replicate", created: datetime | None = None,
                 views: bool = False) -> dict[str, Any]:
    """The report document: ``run`` holds the run-wide counts (record mode, exchanges,
    throttling, versions); ``min_pass_rates`` maps an eval file (as in the results) to its bar;
    ``stale``: unused cassettes and unplayed interactions (``cassettes/stale.py``), None when not
    judged (a partial run, or no cassette of ours was used).

    ``comparison`` (``report/baseline.py``) and ``gate`` (``report/gates.py``) stay None until
    a baseline or a gate fills them in.

    The results are read once, in order. With ``views``, each file's ``cases`` and ``rows`` are
    read-only sequences that read ``results`` again when used (each case a new dict with its
    ``row`` and ``column``), rather than lists of them: the terminal summary and the gates need
    every figure but few cases, and 10,000 results of a run held as dicts all at once at its end
    would take 20 MB (``results/compact.py`` keeps them in a tenth of that).
    """
    tally = _Tally()
    plans: list[dict[str, Any]] = []
    skipped = 0
    by_file: dict[str, _FileBuilder] = {}
    for index, result in enumerate(results):
        tally.add(result)
        if result.get("plan"):
            plans.append(result["plan"])
        elif result.get("skipped"):
            skipped += 1
        file = result["file"]
        builder = by_file.get(file)
        if builder is None:
            builder = by_file[file] = _FileBuilder(file)
        builder.add(index, result)
    bars = min_pass_rates or {}
    files = [builder.report(results, bars.get(file), views=views) for file, builder in by_file.items()]
    spend = {"plan": _plan_summary(plans) if plans else None}
    if "spend" in run:
        spend["spend"] = {**run["spend"], "skipped": skipped}
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": generator,
        "created": (created or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "run": {**run, "figures": tally.figures(), **spend},
        "files": files,
        "stale": None if stale is None else dict(stale),
        "comparison": None,
        "gate": None,
    }


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


class _FileBuilder:
    """One eval file's part of the document, its cases added in order: each placed in its
    (prompt, provider) column and its row (where the test is written, and its vars)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.tally = _Tally()
        self.columns: dict[tuple[str, str], int] = {}  # (prompt label, provider label) -> position, first seen first
        self.column_providers: list[str] = []  # each column's first case's provider id
        self.column_tallies: list[_Tally] = []
        self.rows: dict[int, int] = {}  # (where the test is written, its vars), digested -> position
        self.row_firsts = array("q")  # each row's first case, as a position among the file's cases
        self.indices = array("q")  # each case's position in the results
        self.case_rows = array("q")
        self.case_columns = array("q")

    def add(self, index: int, case: CaseData) -> None:
        column = self.columns.setdefault((case["prompt_label"], case["provider_label"]), len(self.columns))
        if column == len(self.column_tallies):
            self.column_providers.append(case["provider"])
            self.column_tallies.append(_Tally())
        row = self.rows.setdefault(_row_key(case), len(self.rows))
        if row == len(self.row_firsts):
            self.row_firsts.append(len(self.indices))
        self.indices.append(index)
        self.case_rows.append(row)
        self.case_columns.append(column)
        self.tally.add(case)
        self.column_tallies[column].add(case)

    def report(self, results: Sequence[CaseData], bar: float | None, *, views: bool) -> dict[str, Any]:
        width = len(self.columns)
        cells = array("q", [-1]) * (len(self.rows) * width)  # row by row, each column's case (-1: none)
        for position, (row, column) in enumerate(zip(self.case_rows, self.case_columns, strict=True)):
            cells[row * width + column] = position
        cases: Sequence[CaseData] = _PlacedCases(results, self.indices, self.case_rows, self.case_columns)
        if not views:
            cases = list(cases)
        rows: Sequence[dict[str, Any]] = _Rows(cases, self.row_firsts, cells, width)
        if not views:
            rows = list(rows)
        file_figures = self.tally.figures()
        rate = file_figures["pass_rate"]
        return {
            "file": display_path(self.file),
            "figures": file_figures,
            "min_pass_rate": bar,
            "below_bar": bar is not None and rate is not None and rate < bar,
            "columns": [{"prompt": prompt, "provider": provider_id, "provider_label": provider,
                         "figures": tally.figures()}
                        for (prompt, provider), provider_id, tally
                        in zip(self.columns, self.column_providers, self.column_tallies, strict=True)],
            "rows": rows,
            "cases": cases,
        }


def _row_key(case: CaseData) -> int:
    """Where the case's test is written and its vars, as a 128-bit digest: a number per row while
    the document is built, rather than the vars as JSON (a 10,000-row file's keys took 2 MB)."""
    text = json.dumps([case["test"], json.dumps(case["vars"], sort_keys=True, default=str)])
    return int.from_bytes(hashlib.blake2b(text.encode("ascii"), digest_size=16).digest(), "big")  # JSON escapes the rest


class _PlacedCases(Sequence[CaseData]):
    """A file's cases, each read from the results when asked for, with its row and column."""

    def __init__(self, results: Sequence[CaseData], indices: Sequence[int], rows: Sequence[int],
                 columns: Sequence[int]) -> None:
        self._results, self._indices, self._rows, self._columns = results, indices, rows, columns

    def __len__(self) -> int:
        return len(self._indices)

    @overload
    def __getitem__(self, position: int) -> CaseData: ...

    @overload
    def __getitem__(self, position: slice) -> list[CaseData]: ...

    def __getitem__(self, position: int | slice) -> CaseData | list[CaseData]:
        if isinstance(position, slice):
            return [self[index] for index in range(len(self))[position]]
        return {**self._results[self._indices[position]], "row": self._rows[position],
                "column": self._columns[position]}


class _Rows(Sequence[dict[str, Any]]):
    """A file's rows: each its first case's test, description and vars, and its cells (the
    position of its case in each column, or None)."""

    def __init__(self, cases: Sequence[CaseData], firsts: Sequence[int], cells: Sequence[int], width: int) -> None:
        self._cases, self._firsts, self._cells, self._width = cases, firsts, cells, width

    def __len__(self) -> int:
        return len(self._firsts)

    @overload
    def __getitem__(self, row: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, row: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, row: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(row, slice):
            return [self[index] for index in range(len(self))[row]]
        first = self._cases[self._firsts[row]]
        start = range(len(self))[row] * self._width
        return {"test": first["test"], "description": first["description"], "vars": first["vars"],
                "cells": [None if position < 0 else position for position in self._cells[start:start + self._width]]}


def figures(cases: Iterable[CaseData]) -> dict[str, Any]:
    """Counts, pass rate, metric means, latency, cost and exchanges of some cases."""
    tally = _Tally()
    for case in cases:
        tally.add(case)
    return tally.figures()


class _Tally:
    """:func:`figures` of cases added one at a time, keeping only what the figures need of each."""

    def __init__(self) -> None:
        self.cases = self.graded = self.passed = self.errors = 0
        self.metrics: dict[str, list[float]] = {}
        self.definitions: list[list[str]] | None = None  # the first case's derivedMetrics that has some
        self.scored: list[Mapping[str, float]] = []  # graded cases' named scores, those that have some
        self.unscored = 0  # graded cases without named scores
        self.latencies: list[float] = []  # of live calls
        self.costs: dict[bool, list[float]] = {True: [], False: []}  # known costs, live and replayed
        self.exchanges = dict.fromkeys(("replayed", "recorded", "missed"), 0)
        self.repeated = self.samples_ran = self.samples_passed = self.flaky = 0
        self.sample_scores: list[float] = []

    def add(self, case: CaseData) -> None:
        self.cases += 1
        if self.definitions is None and case.get("derived_metrics"):
            self.definitions = case["derived_metrics"]
        if case["live"] and case["latency_ms"] is not None:
            self.latencies.append(case["latency_ms"])
        if case["cost"] is not None:
            self.costs[bool(case["live"])].append(case["cost"])
        for kind in self.exchanges:
            self.exchanges[kind] += case[kind]
        if case["outcome"] == "skipped":
            return
        self.graded += 1
        self.passed += bool(case["passed"])
        self.errors += case["error"] is not None
        scores = case["named_scores"]
        for metric, score in scores.items():
            self.metrics.setdefault(metric, []).append(score)
        if scores:
            self.scored.append(scores)
        else:
            self.unscored += 1
        sampled = case.get("repeat")
        if sampled:
            self.repeated += 1
            self.samples_ran += sampled["ran"]
            self.samples_passed += sampled["passed"]
            self.flaky += bool(sampled["flaky"])
            self.sample_scores.extend(sample["score"] for sample in case["samples"] if sample["score"] is not None)

    def figures(self) -> dict[str, Any]:
        graded = self.graded
        # Empty named scores add nothing to the sums, only to the count: order kept, as if each were there.
        named_scores = chain(self.scored, repeat({}, self.unscored))
        derived = derived_metrics(self.definitions, named_scores) if self.definitions and graded else {}
        latencies = sorted(self.latencies)
        return {
            "cases": self.cases,
            "passed": self.passed,
            "failed": graded - self.passed - self.errors,
            "errors": self.errors,
            "skipped": self.cases - graded,
            "pass_rate": self.passed / graded if graded else None,
            "metrics": {**{metric: {"mean": math.fsum(scores) / len(scores), "count": len(scores)}
                           for metric, scores in sorted(self.metrics.items())},
                        # derivedMetrics (suite/derived.py): their value, not a mean; missing when it has none
                        **{name: {"mean": value, "count": graded, "derived": True}
                           for name, value in derived.items() if value is not None}},
            "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "count": len(latencies)},
            "cost": {"live": _cost(self.costs[True]), "replayed": _cost(self.costs[False])},
            "exchanges": dict(self.exchanges),
            "samples": self._samples(),
        }

    def _samples(self) -> dict[str, Any] | None:
        """Repeated cases' samples taken together (None when no case was repeated): how many passed,
        their mean score, the 95% Wilson interval of the pass rate, and how many cases were flaky."""
        if not self.repeated:
            return None
        ran, passed, scores = self.samples_ran, self.samples_passed, self.sample_scores
        return {"count": ran, "passed": passed, "mean_score": math.fsum(scores) / len(scores) if scores else None,
                "interval": list(wilson_interval(passed, ran)) if ran else None, "flaky": self.flaky}


def percentile(values: Sequence[float], percent: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``; None for none."""
    if not values:
        return None
    rank = max(1, math.ceil(percent / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def _cost(known: Sequence[float]) -> float | None:
    """Dollars, None when no case had a known cost."""
    return math.fsum(known) if known else None
