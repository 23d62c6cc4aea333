"""Case results from items to one collector in the main process; at the end, the report
document (JSON report, baseline comparison, gates and the exit status) and the terminal summary.

Where an item runs (here, or on a pytest-xdist worker), its case result becomes plain data
on the item's call-phase ``TestReport`` (the ``replicate_result`` attribute). pytest turns
report attributes into data and back when xdist sends reports to the controller, so the
result reaches the main process's ``pytest_runtest_logreport`` with the report itself: one
path for plain and distributed runs, streamed as items finish rather than sent in a batch
when a worker ends. There :class:`ResultsReceiver` feeds the collector, which hands results
on in collection order to the ``pytest_replicate_case_result`` hook and keeps them compact for
the reports; the result leaves its report once every ``pytest_runtest_logreport`` hook saw it,
as pytest's terminal reporter keeps every report until the run ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import pytest

from ..results.collector import CaseData, ResultsCollector
from .report_settings import ReportSettings
from .signals import received_signal
from .state import report_settings_key, settings_key, started_session
from .xdist import DeselectionNote, is_controller, is_worker, worker_deselected

if TYPE_CHECKING:
    from ..run.session import EvalSession

RESULT_ATTRIBUTE = "replicate_result"
collector_key = pytest.StashKey[ResultsCollector]()
report_key = pytest.StashKey[dict[str, Any]]()
baseline_key = pytest.StashKey[dict[str, Any]]()
complete_key = pytest.StashKey[bool]()
PRUNE_OPTION = "replicate_prune"


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
    data = {"nodeid": item.nodeid, "outcome": report.outcome, "min_pass_rate": item.case.suite.min_pass_rate,
            **result.to_dict(session.redactor)}
    if data["name"] == item.name:  # the item's own string (it is the case's name), not a copy kept per item
        data["name"] = item.name
    folder = item.config.stash[report_settings_key].image_folder
    image = result.response.image if result.response is not None else None
    if folder is not None and image is not None:  # the reports show it from a file of their own
        from ..report.images import save_image

        data["image"]["path"] = str(save_image(image.data, image.media_type, folder).resolve())
    setattr(report, RESULT_ATTRIBUTE, data)
    item.add_result_properties(data)
    # The plain data travels on; the result itself (its response holds the whole prediction) is
    # let go, or a run of 10,000 items keeps 10,000 predictions until it ends.
    item.result = None


def release_result(report: pytest.TestReport) -> None:
    """Every ``pytest_runtest_logreport`` implementation has seen ``report``'s case result (the
    collector here, xdist's sending it to the controller on a worker): take it off the report,
    which pytest's terminal reporter keeps until the run ends. The collector keeps it, compact."""
    report.__dict__.pop(RESULT_ATTRIBUTE, None)


def start_collecting(config: pytest.Config) -> None:
    """In the main process (not on xdist workers): gather results and hand them to the hook,
    and read the baseline they will be compared with (a bad one stops the run before it starts).
    On a worker: note deselection for the controller."""
    if is_worker(config):
        config.pluginmanager.register(DeselectionNote(config), "replicate-deselection")
        return
    baseline = config.stash[report_settings_key].read_baseline()
    if baseline is not None:
        config.stash[baseline_key] = baseline

    def emit(result: CaseData) -> None:
        config.hook.pytest_replicate_case_result(config=config, result=result)

    collector = config.stash[collector_key] = ResultsCollector(emit)
    config.pluginmanager.register(ResultsReceiver(collector), "replicate-results")


def results_of(config: pytest.Config) -> list[CaseData]:
    """Every eval item's result handed on so far, in collection order (all of them once the session finished).

    The results are kept compact (``results/compact.py``): each call reads them back as new dicts."""
    collector = config.stash.get(collector_key, None)
    return list(collector.results) if collector is not None else []


class ResultsReceiver:
    """Hooks of the main process that feed the collector (collection order, reports, the end) and
    tell whether the run was complete: see :meth:`complete`, the one partial-run rule."""

    def __init__(self, collector: ResultsCollector) -> None:
        self.collector = collector
        self.nodeids: list[str] = []  # the collected items
        self.bars: dict[str, float | None] = {}  # eval file -> its own bar (metadata.min_pass_rate), as results come
        # Seen by hooks rather than options: items deselected (by -k, -m, --lf or a plugin, here or
        # on an xdist worker), a collection error, a crashed xdist worker (its figures are lost).
        self.partial = False

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.nodeids = [item.nodeid for item in session.items]
        self.collector.expect(self.nodeids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.nodeids = self.nodeids or list(ids)  # every worker collects the same items (xdist checks)
        self.collector.expect(ids)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.partial = self.partial or bool(items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.partial = self.partial or report.failed

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.partial = self.partial or error is not None or worker_deselected(node)

    def complete(self, session: pytest.Session) -> bool:
        """Whether every collected item ran: the options (``_complete``) and what the hooks saw."""
        return _complete(session) and not self.partial

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, RESULT_ATTRIBUTE, None)
        if data is not None:
            self.bars[data["file"]] = data["min_pass_rate"]
            self.collector.add(data)
        if report.when == "teardown":
            self.collector.finished(report.nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.collector.flush()
        complete = session.config.stash[complete_key] = self.complete(session)
        stale = _stale_cassettes(session.config, self.nodeids) if complete else None
        finish_reports(session, self.collector.results, complete=complete, stale=stale, bars=self.bars)


def _stale_cassettes(config: pytest.Config, nodeids: list[str]) -> dict[str, Any] | None:
    """After a complete run: the cassettes no collected test opens and the interactions never
    replayed, the unused files deleted with ``--replicate-prune``; None if no cassette of ours was
    used (then nothing of the eval machinery loaded, and none is loaded for this)."""
    session = started_session(config)
    if session is None:
        return None
    from ..cassettes.stale import find_stale, prune

    stale = find_stale(_CollectedTests(config.rootpath, nodeids), session.cassettes.used(),
                       config.stash[settings_key].cassette_dir)
    return stale.as_dict(prune(stale.unused) if config.getoption(PRUNE_OPTION) else ())


class _CollectedTests(Sequence[tuple[Path, str]]):
    """(source file, name in the cassette naming rule) of each collected test, worked out when read."""

    def __init__(self, root: Path, nodeids: list[str]) -> None:
        from ..cassettes.library import name_in_source  # loads vcrpy: only once a cassette of ours was used

        self._root, self._nodeids, self._name = root, nodeids, name_in_source
        self._sources: dict[str, Path] = {}  # one Path per file, not per test

    def __len__(self) -> int:
        return len(self._nodeids)

    @overload
    def __getitem__(self, index: int) -> tuple[Path, str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[Path, str]]: ...

    def __getitem__(self, index: int | slice) -> tuple[Path, str] | list[tuple[Path, str]]:
        if isinstance(index, slice):
            return [self[position] for position in range(len(self))[index]]
        nodeid = self._nodeids[index]
        file = nodeid.split("::", 1)[0]
        if file not in self._sources:
            self._sources[file] = self._root / file
        return self._sources[file], self._name(nodeid)


def finish_reports(session: pytest.Session, results: Sequence[CaseData], *, complete: bool,
                   bars: Mapping[str, float | None], stale: dict[str, Any] | None = None) -> None:
    """In the main process: build the report document from every result (for the summary and
    the HTML report), compare it with the baseline, judge the gates, write the JSON report and
    settle the exit status. ``complete``: every collected item ran (see ``ResultsReceiver.complete``);
    ``stale``: the cassettes judged then; ``bars``: each eval file's own bar (None: it has none).

    The document holds each case as a dict only for the reports that need them all (JSON, HTML
    and the baseline comparison, which marks each case); otherwise its cases are views of the
    compact results, read when used."""
    config = session.config
    options = config.stash[report_settings_key]
    if not results and not options.wanted and stale is None:
        return
    from ..report.gates import judge
    from ..report.model import build_report
    from ..version import package_version

    # A file's own bar (metadata.min_pass_rate) wins; the command line or ini one covers the rest.
    baseline = config.stash.get(baseline_key, None)
    document = build_report(results, run=_run_figures(started_session(config)), stale=stale,
                            min_pass_rates={file: options.min_pass_rate if bar is None else bar
                                            for file, bar in bars.items()},
                            generator=f"pytest-replicate {package_version()}",
                            views=options.json is None and options.html is None and baseline is None)
    if baseline is not None:
        from ..report.baseline import compare

        compare(document, baseline, source=str(options.baseline), complete=complete)
    document["gate"] = judge(document, fail_on_regression=options.fail_on_regression, complete=complete)
    config.stash[report_key] = document
    if not _write_files(session, document, options):
        return
    _settle_exit_status(session, document, complete=complete)


def _write_files(session: pytest.Session, document: dict[str, Any], options: ReportSettings) -> bool:
    """Write the JSON and HTML reports asked for; False (and a usage error) if one cannot be written."""
    from ..report.html import write_html
    from ..report.json_report import write_json

    for option, path, write in (("--replicate-json", options.json, write_json),
                                ("--replicate-html", options.html, write_html)):
        if path is None:
            continue
        try:
            write(document, path)
        except OSError as error:  # a folder in the way, no permission: say so, not with a traceback
            _complain(session.config, f"{option}={path}: cannot write the report ({error.strerror or error})")
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return False
    return True


def _complain(config: pytest.Config, message: str) -> None:
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.ensure_newline()  # not on the end of pytest's progress line
        terminal.write_line(f"ERROR: {message}", red=True)


def _complete(session: pytest.Session) -> bool:
    """Whether every collected item ran: not narrowed by ``-k``, ``-m``, ``--deselect``, ``--lf``,
    ``--sw`` or node ids, nor stopped early (``-x``, ``--maxfail``, Ctrl-C), as far as the options
    and the session tell; ``ResultsReceiver.complete`` adds what hooks saw. As syrupy does for
    unused snapshots: only then is a baseline case that did not run gone, or a cassette unused."""
    option, config = session.config.option, session.config
    narrowed = (getattr(option, "keyword", "") or getattr(option, "markexpr", "") or getattr(option, "deselect", None)
                or getattr(option, "lf", False) or getattr(option, "stepwise", False)
                or any("::" in arg for arg in config.args))
    stopped = session.shouldfail or session.shouldstop or session.exitstatus == pytest.ExitCode.INTERRUPTED
    planned = config.stash[settings_key].plan  # --replicate-plan ran nothing, so it opened no cassette
    return not (narrowed or stopped or planned)


def _settle_exit_status(session: pytest.Session, document: dict[str, Any], *, complete: bool) -> None:
    """pytest's exit status, with the gates applied: a missed bar or a regression fails the run;
    failing cases of files that meet their bar do not, unless something else failed too (a Python
    test, a collection error, a teardown, a case that could not be graded: a cassette miss or a
    failed call is not model variance) or not every test ran, where pytest's verdict stands."""
    gate = document["gate"]
    if gate is None or session.exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return
    if gate["failed"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    if not complete:
        return
    forgiven = sum(1 for file in document["files"] if file["min_pass_rate"] is not None
                   for case in file["cases"] if case["outcome"] == "failed" and case["error"] is None)
    if session.testsfailed == forgiven:  # pytest counts every failed report: ours, and anything else
        session.exitstatus = pytest.ExitCode.OK


def report_of(config: pytest.Config) -> dict[str, Any] | None:
    """The report document, once the session finished; None in a run without eval results or reports.
    Its files' ``cases`` and ``rows`` are read-only sequences unless a JSON or HTML report or a
    baseline was asked for (see ``finish_reports``)."""
    return config.stash.get(report_key, None)


def _run_figures(session: EvalSession | None) -> dict[str, Any]:
    """Run-wide counts for the report: the same under pytest-xdist (workers' stats merged in)."""
    if session is None:
        return {"record_mode": None, "exchanges": {"replayed": 0, "recorded": 0, "missed": 0},
                "throttled": 0, "slowed_to": None, "peak_concurrency": 0, "versions": {},
                "spend": {"dollars": 0.0, "calls": 0, "unpriced": 0, "limit": None}}
    stats = session.stats
    return {"record_mode": session.settings.record_mode,
            "exchanges": {"replayed": stats.replayed, "recorded": stats.recorded, "missed": stats.missed},
            "throttled": stats.throttled, "slowed_to": stats.lowest_limit, "peak_concurrency": stats.peak,
            "versions": session.resolved_versions(),
            "spend": {"dollars": stats.spent, "calls": stats.live_calls, "unpriced": stats.unpriced,
                      "limit": session.settings.max_cost}}


def write_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The plugin's sections of the terminal summary, rendered from the report document (so the
    same under pytest-xdist); none in a run that used nothing of ours, unless it was asked to prune."""
    document = report_of(config)
    if document is None:  # no eval results: our fixtures may still have used cassettes
        session = started_session(config)
        if session is not None:
            from ..report.model import build_report

            document = build_report([], run=_run_figures(session))
    if document is not None:
        _write_sections(terminalreporter, config, document)
    _write_signal_stop(terminalreporter, config)
    if config.getoption(PRUNE_OPTION) and not config.stash.get(complete_key, True):
        terminalreporter.write_sep("-", "replicate stale cassettes")
        terminalreporter.write_line("--replicate-prune deleted nothing: not every collected test ran (-k, -m, node "
                                    "ids, --lf, deselection, -x or a collection error), so which cassettes are "
                                    "unused is unknown", yellow=True)


def _write_signal_stop(terminalreporter: Any, config: pytest.Config) -> None:
    """One line after a SIGTERM or SIGHUP, which a CI log shows without any other trace of why the run ended."""
    name, session = received_signal(config), started_session(config)
    if name is None:
        return
    if is_controller(config):
        outcome = "the xdist workers cancel the predictions they have in flight"
    else:
        count = session.claims.canceled_count if session is not None else 0
        outcome = f"{count} prediction{'' if count == 1 else 's'} in flight {'was' if count == 1 else 'were'} canceled"
    terminalreporter.write_line(f"pytest-replicate: {name} received: the run stopped as on Ctrl-C and {outcome}",
                                yellow=True, bold=True)


def _write_sections(terminalreporter: Any, config: pytest.Config, document: dict[str, Any]) -> None:
    from ..report.terminal import summary_sections

    writer = config.get_terminal_writer()  # its width, and its markup, which --color decides
    for section in summary_sections(document, width=writer.fullwidth, verbosity=config.get_verbosity()):
        terminalreporter.write_sep("-", section.title, **section.markup)
        for line in section.lines:
            terminalreporter.write_line("".join(writer.markup(text, **markup) if markup else text
                                                for text, markup in line))
    options = config.stash[report_settings_key]
    written = [(kind, path) for kind, path in (("JSON", options.json), ("HTML", options.html))
               if path is not None and path.is_file()]
    if written and config.get_verbosity() > -2:  # where to look next, as pytest-html says
        terminalreporter.write_sep("-", "replicate reports")
        for kind, path in written:
            terminalreporter.write_line(f"{kind} report: {path.resolve().as_uri()}")
