"""Results kept compact read back as the dicts they were, and a report document built over
views of them is the one built over lists."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from pytest_replicate.report.model import build_report
from pytest_replicate.report.terminal import summary_sections
from pytest_replicate.results.collector import ResultsCollector
from pytest_replicate.results.compact import CompactResults

RUN = {"record_mode": "none", "exchanges": {"replayed": 0, "recorded": 0, "missed": 0}, "throttled": 0, "slowed_to": None,
       "peak_concurrency": 1, "versions": {}}


def result(index: int, **extra: Any) -> dict[str, Any]:
    return {
        "nodeid": f"a.eval.yaml::case {index}", "outcome": "passed" if index % 3 else "failed", "min_pass_rate": None,
        "file": "a.eval.yaml" if index % 4 else "b.eval.yaml", "test": f"a.eval.yaml:{index % 2 + 5}",
        "description": None, "vars": {"word": f"w{index % 5}", "n": index}, "prompt_label": "p" if index % 2 else "q",
        "provider_label": "echo", "provider": "echo", "prompt": f"Say w{index}", "output": {"text": "é" * index,
                                                                                             "list": [1, 2.5, None]},
        "passed": bool(index % 3), "error": None, "score": index / 7, "named_scores": {"m": index / 3},
        "assertions": [{"type": "contains", "value": "w", "children": []}], "live": index % 5 == 0,
        "latency_ms": index * 1.5, "cost": None if index % 2 else 0.001 * index, "replayed": 1, "recorded": 0,
        "missed": 0, "repeat": None, "samples": [], "drift": None, "plan": None, "skipped": None, **extra}


def compact(results: list[dict[str, Any]]) -> CompactResults:
    kept = CompactResults()
    for item in results:
        kept.append(item)
    return kept


def test_results_read_back_equal_to_what_was_appended_in_order() -> None:
    results = [result(index) for index in range(40)]
    kept = compact(results)
    assert len(kept) == 40
    assert list(kept) == results
    assert kept[0] == results[0] and kept[-1] == results[-1] and kept[17] == results[17]
    assert kept[5:8] == results[5:8] and kept[::-13] == results[::-13]
    assert kept[3] is not kept[3]  # a new dict each time: a reader's change stays its own
    with pytest.raises(IndexError):
        kept[40]


def test_the_latest_result_stays_the_dict_appended() -> None:
    """The results hook gets it just after it is appended: what an implementer changes shows in the reports."""
    kept = compact([result(0)])
    latest = result(1)
    kept.append(latest)
    assert kept[1] is latest and list(kept)[-1] is latest
    latest["output"] = "changed by a hook"
    kept.append(result(2))
    assert kept[1]["output"] == "changed by a hook"
    assert CompactResults()[:] == [] and list(CompactResults()) == []


def test_the_collector_hands_on_full_results_and_keeps_them() -> None:
    received: list[dict[str, Any]] = []
    collector = ResultsCollector(received.append)
    results = [result(index) for index in range(5)]
    collector.expect(item["nodeid"] for item in results)
    for item in reversed(results):  # as xdist workers may finish them
        collector.add(item)
    for item in results:
        collector.finished(item["nodeid"])
    assert received == results and all(got is sent for got, sent in zip(received, results, strict=True))
    assert list(collector.results) == results


@pytest.mark.parametrize("verbosity", [-1, 0, 1])
def test_a_document_of_views_reads_as_the_document_of_lists(verbosity: int) -> None:
    results = [result(index) for index in range(30)]
    results[4]["repeat"] = {"ran": 3, "passed": 2, "flaky": True, "interval": [0.2, 0.9], "mean_score": 0.6}
    results[7]["drift"] = {"output_changed": True, "verdict": None, "diff": "- a\n+ b", "replayed": {}, "updated": False}
    created = datetime.now(timezone.utc)
    lists = build_report(results, run=RUN, created=created)
    views = build_report(compact(results), run=RUN, created=created, views=True)
    assert summary_sections(views, width=100, verbosity=verbosity) == summary_sections(
        lists, width=100, verbosity=verbosity)
    for file in views["files"]:
        assert not isinstance(file["cases"], list) and not isinstance(file["rows"], list)
        file["cases"], file["rows"] = list(file["cases"]), list(file["rows"])
    assert views == lists
    assert build_report(compact(results), run=RUN, created=created) == lists


def test_a_result_that_cannot_be_pickled_is_kept_as_it_is() -> None:
    import threading

    lock = threading.Lock()  # a hook implementer's addition: pickle refuses it
    results = [result(0, annotation=lock), result(1), result(2, annotation=lock), result(3)]
    kept = compact(results)
    assert list(kept) == results
    assert kept[0]["annotation"] is lock and kept[2]["annotation"] is lock
    assert kept[1] == results[1] and kept[1] is not results[1]  # the others still compact
