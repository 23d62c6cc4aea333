"""Case results from items to one collector in the main process, and the terminal summary.

Where an item runs (here, or on a pytest-xdist worker), its case result becomes plain data
on the item's call-phase ``TestReport`` (the ``replicate_result`` attribute). pytest turns
report attributes into data and back when xdist sends reports to the controller, so the
result reaches the main process's ``pytest_runtest_logreport`` with the report itself: one
path for plain and distributed runs, streamed as items finish rather than sent in a batch
when a worker ends. There :class:`ResultsReceiver` feeds the collector, which hands results
on in collection order to the ``pytest_replicate_case_result`` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ..results.collector import CaseData, ResultsCollector
from .state import report_settings_key, started_session
from .xdist import is_worker

if TYPE_CHECKING:
    from ..run.session import EvalSession

RESULT_ATTRIBUTE = "replicate_result"
collector_key = pytest.StashKey[ResultsCollector]()
report_key = pytest.StashKey[dict[str, Any]]()


def attach_result(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Put an eval item's case result, as plain redacted data, on its call-phase report."""
    session = started_session(item.config)
    if session is None or report.when != "call":  # no session: no eval item in this run
        return
    from ..results.case import CaseResult
    from .items import EvalItem

    if not isinstance(item, EvalItem):
        return
    # No result: runtest raised before it had one (a skip, or a bug of ours); the reason stands in.
    result = item.result or CaseResult(item.case, error=str(call.excinfo.value) if call.excinfo else None)
    data = {"nodeid": item.nodeid, "outcome": report.outcome,
            **result.to_dict(session.redactor)}
    folder = item.config.stash[report_settings_key].image_folder
    image = result.response.image if result.response is not None else None
    if folder is not None and image is not None:  # the reports show it from a file of their own
        from ..report.images import save_image

        data["image"]["path"] = str(save_image(image.data, image.media_type, folder).resolve())
    setattr(report, RESULT_ATTRIBUTE, data)


def start_collecting(config: pytest.Config) -> None:
    """In the main process (not on xdist workers): gather results and hand them to the hook."""
    if is_worker(config):
        return

    def emit(result: CaseData) -> None:
        config.hook.pytest_replicate_case_result(config=config, result=result)

    collector = config.stash[collector_key] = ResultsCollector(emit)
    config.pluginmanager.register(ResultsReceiver(collector), "replicate-results")


def results_of(config: pytest.Config) -> list[CaseData]:
    """Every eval item's result handed on so far, in collection order (all of them once the session finished)."""
    collector = config.stash.get(collector_key, None)
    return collector.results if collector is not None else []


class ResultsReceiver:
    """Hooks of the main process that feed the collector: collection order, reports, the end."""

    def __init__(self, collector: ResultsCollector) -> None:
        self.collector = collector

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collector.expect(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.collector.expect(ids)  # every worker collects the same items (xdist checks)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, RESULT_ATTRIBUTE, None)
        if data is not None:
            self.collector.add(data)
        if report.when == "teardown":
            self.collector.finished(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.collector.flush()
        finish_reports(session, self.collector.results)


def finish_reports(session: pytest.Session, results: list[CaseData]) -> None:
    """Build the report document from every result, in the main process, for the summary and the files."""
    config = session.config
    options = config.stash[report_settings_key]
    if not results and not options.wanted:
        return
    from ..report.model import build_report

    eval_session = started_session(config)
    config.stash[report_key] = build_report(results, run=_run_figures(eval_session))


def report_of(config: pytest.Config) -> dict[str, Any] | None:
    """The report document, once the session finished; None in a run without eval results or reports."""
    return config.stash.get(report_key, None)


def _run_figures(session: EvalSession | None) -> dict[str, Any]:
    """Run-wide counts for the report: the same under pytest-xdist (workers' stats merged in)."""
    if session is None:
        return {"record_mode": None, "exchanges": {"replayed": 0, "recorded": 0, "missed": 0},
                "throttled": 0, "slowed_to": None, "peak_concurrency": 0, "versions": {}}
    stats = session.stats
    return {"record_mode": session.settings.record_mode,
            "exchanges": {"replayed": stats.replayed, "recorded": stats.recorded, "missed": stats.missed},
            "throttled": stats.throttled, "slowed_to": stats.lowest_limit, "peak_concurrency": stats.peak,
            "versions": session.resolved_versions()}


def write_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The plugin's sections of the terminal summary, rendered from the report document (so the
    same under pytest-xdist); none in a run that used nothing of ours."""
    document = report_of(config)
    if document is None:  # no eval results: our fixtures may still have used cassettes
        session = started_session(config)
        if session is None:
            return
        from ..report.model import build_report

        document = build_report([], run=_run_figures(session))
    from ..report.terminal import summary_sections

    writer = terminalreporter._tw  # its width, and its markup, which --color decides
    for section in summary_sections(document, width=writer.fullwidth, verbosity=config.get_verbosity()):
        terminalreporter.write_sep("-", section.title, **section.markup)
        for line in section.lines:
            terminalreporter.write_line("".join(writer.markup(text, **markup) if markup else text
                                                for text, markup in line))
