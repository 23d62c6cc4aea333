"""pytest hooks. Each one delegates: settings to ``settings``, files to ``discovery`` and
``items``, runs to the session object (``state``), case results and the summary to
``reporting``, pytest-xdist to ``xdist``.

pytest imports this module in every project the plugin is installed in, so it imports only
what option parsing needs; the eval machinery loads when an eval file, a fixture of ours or a
worker's figures first need the session (see ``state.py``).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..cassettes.record_modes import RECORD_MODES
from ..http.limits import DEFAULT_MAX_RESPONSE_SIZE, MAX_RESPONSE_SIZE_INI, MAX_RESPONSE_SIZE_OPTION
from ..run.settings import (
    DEFAULT_CASSETTE_DIR,
    DEFAULT_CONCURRENCY,
    DEFAULT_EVAL_FILES,
    DEFAULT_MAX_CASES,
    DEFAULT_RECORD_MODE_HELP,
    DEFAULT_TEXT_GRADER,
    DEFAULT_TIMEOUT,
    DRIFT_MODES,
    MAX_CASES_OPTION,
    MAX_COST_OPTION,
    Settings,
)
from . import hookspecs
from .discovery import is_cassette_folder, is_eval_file
from .fixtures import MARKER, replicate_provider, replicate_session, replicate_simulator  # noqa: F401 (fixtures)
from .heap import freeze_after_collection
from .repeat_count import refuse_repeat_count
from .report_settings import MIN_PASS_RATE_OPTION, ReportSettings
from .reporting import PRUNE_OPTION, attach_result, start_collecting, write_summary
from .signals import install_for_workers, restore_signal_handlers
from .state import eval_session, report_settings_key, settings_key, started_session
from .xdist import is_worker, received_stats, remove_spend_ledger, send_stats, share_spend

if TYPE_CHECKING:
    from .items import EvalFile

_RECORD_MODE_HELP = (
    "cassette record mode for eval items: none (replay only), once (record missing cassettes), "
    f"new_episodes, all, rewrite (record every cassette afresh). {DEFAULT_RECORD_MODE_HELP}"
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replicate", "pytest-replicate (LLM evals on Replicate)")
    group.addoption("--replicate-record-mode", dest="replicate_record_mode", choices=RECORD_MODES, default=None,
                    help=_RECORD_MODE_HELP + " Wins over --record-mode, which sets it too (pytest-recording's "
                    "included: its default, none, is for its own cassettes only).")
    group.addoption("--replicate-concurrency", dest="replicate_concurrency", metavar="N", default=None,
                    help=f"provider calls to run at once, ahead of the items that wait for them (default: "
                    f"{DEFAULT_CONCURRENCY}; 1 runs them one by one)")
    group.addoption("--replicate-repeat", dest="replicate_repeat", metavar="N", default=None,
                    help="run every eval case N times as distinct predictions, all in its one cassette; wins over "
                    "the eval file's repeat count (its reducer still applies; default: all samples must pass)")
    group.addoption("--replicate-grader", dest="replicate_grader", metavar="PROVIDER_ID", default=None,
                    help="grader for model-graded assertions (llm-rubric, factuality...) that name none in the "
                    f"eval file (default: {DEFAULT_TEXT_GRADER})")
    group.addoption("--replicate-json", dest="replicate_json", metavar="PATH", default=None,
                    help="write every eval case's result, passing ones included, to a JSON report "
                    "(images as files beside it)")
    group.addoption("--replicate-html", dest="replicate_html", metavar="PATH", default=None,
                    help="write a self-contained HTML report: per eval file, test cases x (prompt, provider)")
    group.addoption("--replicate-baseline", dest="replicate_baseline", metavar="PATH", default=None,
                    help="a JSON report of an earlier run: show verdict flips, score and output changes against it")
    group.addoption("--replicate-fail-on-regression", dest="replicate_fail_on_regression", action="store_true",
                    default=False, help="fail the session when a case that passed in the baseline fails now")
    group.addoption("--replicate-min-pass-rate", dest="replicate_min_pass_rate", metavar="RATE", default=None,
                    help="fail the session only when an eval file's pass rate is below RATE (0 to 1); "
                    "failing cases are still reported")
    group.addoption("--replicate-drift", dest="replicate_drift", nargs="?", const=DRIFT_MODES[0], choices=DRIFT_MODES,
                    default=None, help="call every eval item's model live beside its cassette (needs a token) and "
                    "report whether its output or verdict changed; the item's outcome is the live one. "
                    "--replicate-drift=update also rewrites the cassettes that drifted (give it after the paths, "
                    "or as --replicate-drift=report)")
    group.addoption("--replicate-prune", dest=PRUNE_OPTION, action="store_true", default=False,
                    help="after a run of every collected test, delete the cassettes (and files saved beside "
                    "them) that no test opens any more; a partial run (-k, node ids, -x...) deletes nothing")
    group.addoption(MAX_RESPONSE_SIZE_OPTION, dest="replicate_max_response_size", metavar="SIZE",
                    default=None, help="largest answer (a prediction's JSON, or an output file) read from the "
                    f"network, e.g. 50MB; a larger one fails its item and is not recorded (default: "
                    f"{DEFAULT_MAX_RESPONSE_SIZE // 10**6}MB)")
    group.addoption("--replicate-max-cost", dest="replicate_max_cost", metavar="USD", default=None,
                    help="once the run has spent USD dollars on live model calls (graders included), start no new "
                    "live call: the eval items left that would call a model live are skipped, replayed ones still "
                    "run. Calls of unknown cost (no price in the provider config) do not count. Calls in flight "
                    "finish, so the spend can pass USD by what they cost")
    group.addoption("--replicate-plan", dest="replicate_plan", action="store_true", default=False,
                    help="call nothing: per eval item, say whether it would replay its cassette or call models "
                    "live (graders included), and estimate the cost per model from the prices in the provider "
                    "config; every item is skipped")
    parser.addini(MAX_COST_OPTION, default=None,
                  help="dollars of live model calls after which no new live call starts (see --replicate-max-cost)")
    parser.addini(MIN_PASS_RATE_OPTION, type="float", default=None,
                  help="pass rate (0 to 1) below which an eval file fails the session (see --replicate-min-pass-rate)")
    parser.addini("replicate_grader", default=None,
                  help=f"grader for model-graded assertions (default: {DEFAULT_TEXT_GRADER})")
    parser.addini("replicate_concurrency", type="int", default=None,
                  help=f"provider calls to run at once (default: {DEFAULT_CONCURRENCY})")
    parser.addini(MAX_CASES_OPTION, type="int", default=None,
                  help=f"most cases one eval file may expand to (default: {DEFAULT_MAX_CASES})")
    parser.addini("replicate_eval_files", type="args", default=list(DEFAULT_EVAL_FILES),
                  help="glob patterns of YAML eval files to collect (default: {})".format(" ".join(DEFAULT_EVAL_FILES)))
    parser.addini("replicate_record_mode", default=None, help="default cassette record mode (see --record-mode)")
    parser.addini("replicate_cassette_dir", default=DEFAULT_CASSETTE_DIR,
                  help=f"folder for cassettes, relative to each eval file (default: {DEFAULT_CASSETTE_DIR})")
    parser.addini(MAX_RESPONSE_SIZE_INI, default=None,
                  help=f"largest answer read from the network, e.g. 50MB (default: {DEFAULT_MAX_RESPONSE_SIZE // 10**6}MB)")
    parser.addini("replicate_timeout", type="float", default=None,
                  help=f"seconds a Replicate prediction may take before it is canceled (default: {DEFAULT_TIMEOUT:g}; "
                  "provider config 'timeout' wins)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Offer ``--record-mode`` unless pytest-recording, which defines it too, is active.

    Every plugin is registered by now (not yet in ``pytest_addoption``), so we can tell.
    """
    if not early_config.pluginmanager.hasplugin("recording"):
        parser.addoption("--record-mode", dest="record_mode", choices=RECORD_MODES, default=None,
                         help=_RECORD_MODE_HELP)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)
    config.stash[settings_key] = Settings.from_pytest(config)
    config.stash[report_settings_key] = ReportSettings.from_pytest(config)
    start_collecting(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    restore_signal_handlers(config)
    remove_spend_ledger(config)
    session = started_session(config)
    if session is not None:
        session.close()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.suffix != ".py" and is_cassette_folder(collection_path, config):
        return True  # cassettes only: nothing to collect there (folders named on the command line are walked)
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> EvalFile | None:
    if not is_eval_file(file_path, parent):
        return None
    refuse_repeat_count(parent.config)
    from .items import EvalFile

    return EvalFile.from_parent(parent, path=file_path)


def pytest_collection_finish(session: pytest.Session) -> None:
    if started_session(session.config) is not None:  # eval files were collected: their run's heap
        freeze_after_collection(session.config)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    session = started_session(item.config)
    if session is not None and session.scheduler is not None:
        from .items import schedule_upcoming

        schedule_upcoming(item, session)
    try:
        return (yield)
    finally:
        if session is not None and (item.session.shouldfail or item.session.shouldstop):  # -x / --maxfail
            session.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[
        None, pytest.TestReport, pytest.TestReport]:
    report = yield
    attach_result(item, call, report)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    started = started_session(session.config)
    if started is None:
        return
    started.stop()  # nothing queued runs now; calls in flight cancel their predictions
    if is_worker(session.config):  # hand the counts to the controller
        send_stats(session.config, started.worker_stats())


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    if node.config.stash[settings_key].max_cost is not None:
        share_spend(node)  # --replicate-max-cost caps the workers' spend together


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    install_for_workers(node.config, ids)  # SIGTERM and SIGHUP stop the workers as Ctrl-C does


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    stats = received_stats(node)
    if stats:
        eval_session(node.config).merge_worker_stats(stats)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    write_summary(terminalreporter, config)
