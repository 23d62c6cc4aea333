"""RunStats: one merge for counts made here, by cassettes and the scheduler, and by xdist workers;
the collector: results handed on in collection order whatever order items finish in."""

from __future__ import annotations

from pytest_replicate.results.collector import ResultsCollector
from pytest_replicate.results.stats import CaseExchanges, RunStats
from pytest_replicate.run.scheduler import Scheduler


def worker(**counts) -> dict:
    stats = RunStats()
    stats.merge(counts)
    return stats.as_dict()


def test_merging_workers_adds_counts_keeps_the_peak_and_the_lowest_limit():
    controller = RunStats()
    controller.merge(worker(replayed=3, recorded=1, sent=1, throttled=2, lowest_limit=2, peak=3, versions={"a/b": "v1"},
                            live_calls=2, unpriced=1, spent=0.25))
    controller.merge(worker(replayed=1, missed=1, throttled=1, lowest_limit=1, peak=2, versions={"c/d": "v2"},
                            live_calls=1, spent=0.5))
    controller.merge(worker())  # a worker that ran nothing
    assert controller.as_dict() == {"replayed": 4, "recorded": 1, "missed": 1, "sent": 1, "throttled": 3, "peak": 3,
                                    "lowest_limit": 1, "versions": {"a/b": "v1", "c/d": "v2"},
                                    "live_calls": 3, "unpriced": 1, "spent": 0.75}
    assert controller.total == 6


def test_one_process_and_two_workers_give_the_same_figures():
    events = [{"replayed": 1}, {"recorded": 1}, {"throttled": 1, "lowest_limit": 2}, {"missed": 1},
              {"throttled": 1}, {"peak": 2}]
    alone = RunStats()
    for event in events:
        alone.merge(event)
    first, second, controller = RunStats(), RunStats(), RunStats()
    for index, event in enumerate(events):
        (first if index % 2 else second).merge(event)
    controller.merge(first.as_dict())
    controller.merge(second.as_dict())
    assert controller.as_dict() == alone.as_dict()


def test_as_dict_round_trips_through_merge():
    stats = RunStats()
    stats.merge({"replayed": 2, "peak": 4, "lowest_limit": 3, "versions": {"a/b": "v"}})
    copy = RunStats()
    copy.merge(stats.as_dict())
    assert copy == stats


def test_cassettes_count_into_the_run_and_into_their_case():
    run = RunStats()
    case = CaseExchanges(run)
    case.count("replayed")
    case.count("sent")
    case.count("recorded")
    run.count("missed")  # a test function's cassette counts into the run only
    assert case.as_dict() == {"replayed": 1, "recorded": 1, "missed": 0, "sent": 1}
    assert (run.replayed, run.recorded, run.missed) == (1, 1, 1)


def test_the_scheduler_counts_into_the_run_stats_it_is_given():
    run = RunStats()
    scheduler = Scheduler(4, run)
    scheduler.throttled(None)
    scheduler.throttled(None)  # the same burst: the limit is lowered once
    assert (run.throttled, run.lowest_limit, scheduler.stats) == (2, 2, run)


def result(nodeid: str, **data) -> dict:
    return {"nodeid": nodeid, "live": False, "duration": 0.0, "named_scores": {}, "file": "a.yaml", **data}


def test_results_are_handed_on_in_collection_order_as_soon_as_the_ones_before_are_over():
    emitted: list[str] = []
    collector = ResultsCollector(lambda data: emitted.append(data["nodeid"]))
    collector.expect(["a", "plain", "b", "c"])
    collector.add(result("b"))
    collector.finished("b")
    assert emitted == []  # "a" is still running
    collector.add(result("a"))
    collector.finished("a")
    assert emitted == ["a"]  # "plain" (a python test, no case result) is still running
    collector.finished("plain")
    assert emitted == ["a", "b"]
    collector.add(result("c"))
    collector.finished("c")
    assert emitted == ["a", "b", "c"] and [r["nodeid"] for r in collector.results] == emitted


def test_flush_hands_on_what_a_stop_left_waiting_in_order():
    emitted: list[str] = []
    collector = ResultsCollector(lambda data: emitted.append(data["nodeid"]))
    collector.expect(["a", "b", "c", "d"])
    for nodeid in ("d", "c"):  # "a" never finished (-x, or its worker crashed), nor "b"
        collector.add(result(nodeid))
        collector.finished(nodeid)
    collector.flush()
    assert emitted == ["c", "d"]


def test_importing_the_plugin_does_not_load_vcrpy():
    """pytest-recording must register vcrpy's matchers for rewriting before vcrpy is imported;
    the results pipeline (RunStats counts cassette exchanges) must not import it early."""
    import subprocess
    import sys

    code = "import sys, pytest_replicate.pytest.plugin; sys.exit('vcr' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
