"""The session's settings, resolved once from the command line, ini keys and defaults.

Precedence follows pytest-recording: command line > ini > default. Options default to
``None`` so that "not given" can be told apart from an explicit value.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from ..cassettes.record_modes import RECORD_MODES
from ..errors import ReplicateEvalError
from ..http.limits import (
    DEFAULT_MAX_RESPONSE_SIZE,
    MAX_RESPONSE_SIZE_INI,
    MAX_RESPONSE_SIZE_OPTION,
    SIZE_EXPECTED,
    parse_size,
)
from ..suite.limits import DEFAULT_MAX_CASES, MAX_CASES_OPTION

DEFAULT_EVAL_FILES = (
    "promptfooconfig.yaml",
    "promptfooconfig.yml",
    "*.eval.yaml",
    "*.eval.yml",
    "eval_*.yaml",
    "eval_*.yml",
)
DEFAULT_TIMEOUT = 300.0
DEFAULT_CASSETTE_DIR = "cassettes"
# CI systems set CI to "true" or "1"; these values, or none, mean a local run that may record.
_NOT_CI = frozenset({"", "0", "false", "no", "off"})
DEFAULT_RECORD_MODE_HELP = "Default: none on CI (the CI environment variable set, but not to false or 0), else once."
DEFAULT_CONCURRENCY = 4  # promptfoo's default too
# Each concurrent call holds a worker thread and a pooled connection: far beyond any account's
# rate limit, a larger number is a typo that would exhaust threads and file descriptors.
CONCURRENCY_CAP = 256
# --replicate-drift: compare live calls with the cassettes (report), and rewrite the drifted ones (update).
DRIFT_MODES = ("report", "update")
# Model-graded assertions: the largest official Llama 3 instruct model follows the JSON
# answer formats of the grading prompts most reliably; runs by name, so no version pin.
DEFAULT_TEXT_GRADER = "replicate:meta/meta-llama-3-70b-instruct"
# Replicate's well-known sentence-embedding model (768 floats); it runs only by version.
DEFAULT_EMBEDDING_GRADER = (
    "replicate:embedding:replicate/all-mpnet-base-v2:b6b7585c9640cd7a9572c6e129c9549d79c9c31f0d3fdce7baac7c67ca38f305"
)
# The grader each purpose gets when neither the eval file nor --replicate-grader names one.
DEFAULT_GRADERS = {
    "moderation": "replicate:moderation:meta/llama-guard-3-8b",
    "text": DEFAULT_TEXT_GRADER,
    "embedding": DEFAULT_EMBEDDING_GRADER,
}


@dataclass(frozen=True)
class Settings:
    record_mode: str = "none"
    cassette_dir: str = DEFAULT_CASSETTE_DIR  # relative to each eval file's (or test module's) folder
    timeout: float = DEFAULT_TIMEOUT  # seconds per prediction; provider config 'timeout' wins
    eval_files: tuple[str, ...] = DEFAULT_EVAL_FILES
    concurrency: int = DEFAULT_CONCURRENCY  # provider calls at once; 1 runs strictly serially
    max_cases: int = DEFAULT_MAX_CASES  # most cases one eval file may expand to
    grader: str | None = None  # text grader for model-graded assertions the eval file leaves open
    repeat: int | None = None  # --replicate-repeat: samples of every eval case (wins over the file's repeat)
    drift: str | None = None  # one of DRIFT_MODES: eval items replay and call live side by side (run/drift.py)
    max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE  # bytes of one answer read from the network
    max_cost: float | None = None  # dollars: once the run spent this live, no new live call starts (run/spend.py)
    plan: bool = False  # --replicate-plan: say what each item would call and cost, call nothing (run/plan.py)

    @classmethod
    def from_pytest(cls, config: pytest.Config) -> Settings:
        return cls(
            record_mode=_record_mode(config),
            cassette_dir=config.getini("replicate_cassette_dir") or DEFAULT_CASSETTE_DIR,
            timeout=_timeout(config),
            eval_files=tuple(config.getini("replicate_eval_files")),
            concurrency=_concurrency(config),
            max_cases=_positive_int(ini_number(config, MAX_CASES_OPTION, WHOLE_EXPECTED), MAX_CASES_OPTION, DEFAULT_MAX_CASES),
            grader=_grader(config),
            repeat=_repeat(config),
            drift=_drift(config),
            max_response_size=_max_response_size(config),
            max_cost=_max_cost(config),
            plan=bool(config.option.replicate_plan),
        )


def _record_mode(config: pytest.Config) -> str:
    """Command line > ini > default (none under CI, else once), as pytest-recording does.

    ``--record-mode`` is ours, or pytest-recording's when it is installed; both default to
    ``None``, so a value means the user gave it.
    """
    mode = command_line_record_mode(config) or config.getini("replicate_record_mode")
    if not mode:
        return "none" if on_ci() else "once"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"replicate_record_mode = {mode!r}: choose one of {', '.join(RECORD_MODES)}")
    return str(mode)


def on_ci(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the CI environment variable says this is a CI run (``CI=false`` and ``CI=0`` do not)."""
    return env.get("CI", "").strip().lower() not in _NOT_CI


def command_line_record_mode(config: pytest.Config) -> str | None:
    """``--replicate-record-mode``, else ``--record-mode`` (ours, or pytest-recording's); None if neither was given."""
    return config.option.replicate_record_mode or getattr(config.option, "record_mode", None)


def ini_number(config: pytest.Config, name: str, expected: str) -> object:
    """A numeric ini key's value (None when unset). A value pytest cannot read as a number, such as
    ``four`` in an ini file or the string ``"4"`` in pytest 9's native ``[tool.pytest]`` table,
    is one usage error naming the key and what to give (``expected``), not an internal error
    (pytest 9.2 raises its own usage error there, which says neither)."""
    try:
        return config.getini(name)
    except (TypeError, ValueError, pytest.UsageError) as error:
        raise pytest.UsageError(f"{name}: not a number ({error}): give {expected}") from None


TIMEOUT_EXPECTED = "a number of seconds greater than 0"
WHOLE_EXPECTED = "a whole number, 1 or more"


def _timeout(config: pytest.Config) -> float:
    value = ini_number(config, "replicate_timeout", TIMEOUT_EXPECTED)
    if value in (None, ""):
        return DEFAULT_TIMEOUT
    try:
        seconds = float(str(value))
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < math.inf:  # nan fails both comparisons
        raise pytest.UsageError(f"replicate_timeout = {value!r}: give {TIMEOUT_EXPECTED}")
    return seconds


def _concurrency(config: pytest.Config) -> int:
    """``--replicate-concurrency`` > ini ``replicate_concurrency`` > 4; at most ``CONCURRENCY_CAP``."""
    value, source = config.option.replicate_concurrency, "--replicate-concurrency"
    if value is None:
        value, source = ini_number(config, "replicate_concurrency", WHOLE_EXPECTED), "replicate_concurrency"
    concurrency = _positive_int(value, source, DEFAULT_CONCURRENCY)
    if concurrency > CONCURRENCY_CAP:
        raise pytest.UsageError(f"{source} = {value!r}: give at most {CONCURRENCY_CAP} calls at once "
                                "(more would exhaust threads and connections long before Replicate accepts them)")
    return concurrency


def _repeat(config: pytest.Config) -> int | None:
    """``--replicate-repeat``; None when not given, so each test's own ``repeat`` applies."""
    value = config.option.replicate_repeat
    return None if value is None else _positive_int(value, "--replicate-repeat", 1)


def _positive_int(value: object, source: str, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        number = 0
    if number < 1:
        raise pytest.UsageError(f"{source} = {value!r}: give {WHOLE_EXPECTED}")
    return number


def _grader(config: pytest.Config) -> str | None:
    """``--replicate-grader`` > ini ``replicate_grader`` > None (the built-in default grader)."""
    value, source = config.option.replicate_grader, "--replicate-grader"
    if value is None:
        value, source = config.getini("replicate_grader"), "replicate_grader"
    if value in (None, ""):
        return None
    from ..providers.registry import check_provider_id  # only when given: it loads the providers (httpx)

    try:
        check_provider_id(str(value))
    except ReplicateEvalError as error:
        raise pytest.UsageError(f"{source} = {value!r}: {error}") from None
    return str(value)


def _max_response_size(config: pytest.Config) -> int:
    """``--replicate-max-response-size`` > ini ``replicate_max_response_size`` > 20 MB."""
    value, source = config.option.replicate_max_response_size, MAX_RESPONSE_SIZE_OPTION
    if value is None:
        value, source = config.getini(MAX_RESPONSE_SIZE_INI), MAX_RESPONSE_SIZE_INI
    if value in (None, ""):
        return DEFAULT_MAX_RESPONSE_SIZE
    size = parse_size(str(value))
    if size is None:
        raise pytest.UsageError(f"{source} = {value!r}: give {SIZE_EXPECTED}")
    return size
MAX_COST_OPTION = "replicate_max_cost"
MAX_COST_EXPECTED = "an amount in dollars, 0 or more, such as 0.50"


def _max_cost(config: pytest.Config) -> float | None:
    """``--replicate-max-cost`` > ini ``replicate_max_cost`` > None (no limit); a leading ``$`` is allowed."""
    value, source = config.option.replicate_max_cost, "--replicate-max-cost"
    if value is None:
        value, source = config.getini(MAX_COST_OPTION), MAX_COST_OPTION
    if value in (None, ""):
        return None
    try:
        amount = float(str(value).strip().removeprefix("$"))
    except ValueError:
        amount = -1.0
    if not 0 <= amount < math.inf:  # nan fails both comparisons
        raise pytest.UsageError(f"{source} = {value!r}: give {MAX_COST_EXPECTED}")
    return amount


def _drift(config: pytest.Config) -> str | None:
    """``--replicate-drift[=update]``. Each eval file's Replicate providers must have a token, from
    the environment, the file's ``env`` or ``apiKey``: the session checks them as it collects."""
    mode: str | None = config.option.replicate_drift
    return mode
