"""The session's settings, resolved once from the command line, ini keys and defaults.

Precedence follows pytest-recording: command line > ini > default. Options default to
``None`` so that "not given" can be told apart from an explicit value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from .http.record_modes import RECORD_MODES

DEFAULT_EVAL_FILES = (
    "promptfooconfig.yaml",
    "promptfooconfig.yml",
    "*.eval.yaml",
    "*.eval.yml",
    "eval_*.yaml",
    "eval_*.yml",
)
DEFAULT_TIMEOUT = 300.0
# Stashed by plugin.pytest_load_initial_conftests: whether the arguments (addopts
# included) name --record-mode, which pytest-recording defines with a default of its own.
record_mode_given = pytest.StashKey[bool]()


@dataclass(frozen=True)
class Settings:
    record_mode: str = "none"
    cassette_dir: str = "cassettes"  # relative to each eval file's (or test module's) folder
    timeout: float = DEFAULT_TIMEOUT  # seconds per prediction; provider config 'timeout' wins
    eval_files: tuple[str, ...] = DEFAULT_EVAL_FILES

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> Settings:
        return cls(
            record_mode=_record_mode(config),
            cassette_dir=config.getini("replicate_cassette_dir") or "cassettes",
            timeout=_timeout(config),
            eval_files=tuple(config.getini("replicate_eval_files")),
        )


def names_record_mode(args: Any) -> bool:
    return any(arg == "--record-mode" or str(arg).startswith("--record-mode=") for arg in args)


def _explicit_record_mode(config: pytest.Config) -> str | None:
    """``--record-mode`` when the user gave it: pytest-recording's version defaults to ``none``."""
    value = getattr(config.option, "record_mode", None)
    if not config.pluginmanager.hasplugin("recording"):
        return value
    given = config.stash.get(record_mode_given, None)
    if given is None:  # we were loaded too late for the early hook (from a conftest)
        given = names_record_mode(config.invocation_params.args)
    return value if given else None


def _record_mode(config: pytest.Config) -> str:
    """Command line > ini > default (none under CI, else once), as pytest-recording does."""
    mode = config.option.replicate_record_mode or _explicit_record_mode(config) or config.getini("replicate_record_mode")
    if not mode:
        return "none" if os.environ.get("CI") else "once"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"replicate_record_mode = {mode!r}: choose one of {', '.join(RECORD_MODES)}")
    return str(mode)


def _timeout(config: pytest.Config) -> float:
    value = config.getini("replicate_timeout")
    if value in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise pytest.UsageError(f"replicate_timeout = {value!r}: give a number of seconds greater than 0")
    return seconds
