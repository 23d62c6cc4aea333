"""The session's settings, resolved once from the command line, ini keys and defaults.

Precedence follows pytest-recording: command line > ini > default. Options default to
``None`` so that "not given" can be told apart from an explicit value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from .config.expand import DEFAULT_MAX_CASES
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
DEFAULT_CONCURRENCY = 4  # promptfoo's default too


@dataclass(frozen=True)
class Settings:
    record_mode: str = "none"
    cassette_dir: str = "cassettes"  # relative to each eval file's (or test module's) folder
    timeout: float = DEFAULT_TIMEOUT  # seconds per prediction; provider config 'timeout' wins
    eval_files: tuple[str, ...] = DEFAULT_EVAL_FILES
    concurrency: int = DEFAULT_CONCURRENCY  # provider calls at once; 1 runs strictly serially
    max_cases: int = DEFAULT_MAX_CASES  # most cases one eval file may expand to

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> Settings:
        return cls(
            record_mode=_record_mode(config),
            cassette_dir=config.getini("replicate_cassette_dir") or "cassettes",
            timeout=_timeout(config),
            eval_files=tuple(config.getini("replicate_eval_files")),
            concurrency=_concurrency(config),
            max_cases=_positive_int(config.getini("replicate_max_cases"), "replicate_max_cases", DEFAULT_MAX_CASES),
        )


def _record_mode(config: pytest.Config) -> str:
    """Command line > ini > default (none under CI, else once), as pytest-recording does.

    ``--record-mode`` is ours, or pytest-recording's when it is installed; both default to
    ``None``, so a value means the user gave it.
    """
    mode = (config.option.replicate_record_mode or getattr(config.option, "record_mode", None)
            or config.getini("replicate_record_mode"))
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


def _concurrency(config: pytest.Config) -> int:
    """``--replicate-concurrency`` > ini ``replicate_concurrency`` > 4."""
    if config.option.replicate_concurrency is not None:
        return _positive_int(config.option.replicate_concurrency, "--replicate-concurrency", DEFAULT_CONCURRENCY)
    return _positive_int(config.getini("replicate_concurrency"), "replicate_concurrency", DEFAULT_CONCURRENCY)


def _positive_int(value: object, source: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise pytest.UsageError(f"{source} = {value!r}: give a whole number, 1 or more")
    return number
