"""pytest hooks: options, collection of eval files, the session runtime, the summary."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from .collect import EvalFile, runtime_key
from .providers.replicate_api import ClientSettings
from .settings import RECORD_MODES, CassetteSettings

DEFAULT_EVAL_FILES = [
    "promptfooconfig.yaml",
    "promptfooconfig.yml",
    "*.eval.yaml",
    "*.eval.yml",
    "eval_*.yaml",
    "eval_*.yml",
]
_EVAL_KEYS = re.compile(r"^(prompts|providers|tests)\s*:", re.MULTILINE)
_CASSETTE_KEYS = re.compile(r"^interactions\s*:", re.MULTILINE)
_RECORD_MODE_HELP = (
    "cassette record mode for eval items: none (replay only), once (record missing cassettes), "
    "new_episodes, all, rewrite (record every cassette afresh). Default: none if the CI "
    "environment variable is set, else once."
)
_WORKER_STATS = "pytest_replicate_cassette_stats"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replicate", "pytest-replicate (LLM evals on Replicate)")
    group.addoption("--replicate-record-mode", dest="replicate_record_mode", choices=RECORD_MODES, default=None,
                    help=_RECORD_MODE_HELP + " Wins over --record-mode.")
    parser.addini("replicate_eval_files", type="args", default=DEFAULT_EVAL_FILES,
                  help="glob patterns of YAML eval files to collect (default: %s)" % " ".join(DEFAULT_EVAL_FILES))
    parser.addini("replicate_record_mode", default=None, help="default cassette record mode (see --record-mode)")
    parser.addini("replicate_cassette_dir", default="cassettes",
                  help="folder for cassettes, relative to each eval file (default: cassettes)")
    parser.addini("replicate_timeout", default="300",
                  help="seconds a Replicate prediction may take before it is canceled (provider config 'timeout' wins)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Offer ``--record-mode`` unless pytest-recording, which defines it too, is active.

    Every plugin is registered by now, so we can tell; when pytest-recording is there
    we read its option instead (see ``record_mode``).
    """
    if not early_config.pluginmanager.hasplugin("recording"):
        parser.addoption("--record-mode", dest="record_mode", choices=RECORD_MODES, default=None,
                         help=_RECORD_MODE_HELP)
    # ``args`` includes addopts and PYTEST_ADDOPTS, unlike the invocation arguments.
    early_config.stash[_record_mode_given] = _names_record_mode(args)


_record_mode_given = pytest.StashKey[bool]()


def _names_record_mode(args: Any) -> bool:
    return any(arg == "--record-mode" or str(arg).startswith("--record-mode=") for arg in args)


def _explicit_record_mode(config: pytest.Config) -> str | None:
    """``--record-mode`` when the user gave it: pytest-recording's version has a default."""
    value = getattr(config.option, "record_mode", None)
    if not config.pluginmanager.hasplugin("recording"):
        return value
    given = config.stash.get(_record_mode_given, None)
    if given is None:  # loaded too late for the early hook (from a conftest)
        given = _names_record_mode(config.invocation_params.args)
    return value if given else None


def record_mode(config: pytest.Config) -> str:
    """Command line > ini > default (none under CI, else once), as pytest-recording does."""
    mode = config.option.replicate_record_mode or _explicit_record_mode(config) or config.getini("replicate_record_mode")
    if not mode:
        return "none" if os.environ.get("CI") else "once"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"replicate_record_mode = {mode!r}: choose one of {', '.join(RECORD_MODES)}")
    return mode


def _timeout(config: pytest.Config) -> float:
    value = config.getini("replicate_timeout")
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise pytest.UsageError(f"replicate_timeout = {value!r}: give a number of seconds greater than 0")
    return seconds


def pytest_configure(config: pytest.Config) -> None:
    # Imported here, not at the top: it loads vcrpy, and pytest-recording must register
    # vcrpy's matchers for assertion rewriting before vcrpy is first imported.
    from .runtime import EvalRuntime

    config.stash[runtime_key] = EvalRuntime(
        defaults=ClientSettings(timeout=_timeout(config)),
        cassettes=CassetteSettings(record_mode=record_mode(config), directory=config.getini("replicate_cassette_dir")),
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime = config.stash.get(runtime_key, None)
    if runtime is not None:
        runtime.close()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> EvalFile | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    patterns = parent.config.getini("replicate_eval_files")
    if any(file_path.match(pattern) for pattern in patterns):
        text = _read(file_path)
        # A cassette named after an item called "eval_..." matches too; it is never an eval file.
        if _CASSETTE_KEYS.search(text) and not _EVAL_KEYS.search(text):
            return None
        return EvalFile.from_parent(parent, path=file_path)
    if parent.session.isinitpath(file_path) and _EVAL_KEYS.search(_read(file_path)):
        return EvalFile.from_parent(parent, path=file_path)
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    runtime = session.config.stash[runtime_key]
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        runtime.cancel.set()  # Ctrl-C: calls still running in other threads cancel their predictions
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the counts to the controller
        workeroutput[_WORKER_STATS] = runtime.stats.as_dict()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    counts = getattr(node, "workeroutput", {}).get(_WORKER_STATS)
    if counts:
        node.config.stash[runtime_key].stats.add(counts)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    runtime = config.stash[runtime_key]
    stats = runtime.stats
    if stats.total:
        terminalreporter.write_sep("-", "replicate cassettes")
        terminalreporter.write_line(
            f"{stats.replayed} replayed, {stats.recorded} recorded, {stats.missed} missed "
            f"(record mode: {runtime.cassettes.record_mode})"
        )
