"""pytest hooks: options, collection of eval files, the session runtime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .collect import EvalFile, runtime_key
from .providers.replicate_api import ClientSettings
from .runtime import EvalRuntime

DEFAULT_EVAL_FILES = [
    "promptfooconfig.yaml",
    "promptfooconfig.yml",
    "*.eval.yaml",
    "*.eval.yml",
    "eval_*.yaml",
    "eval_*.yml",
]
_EVAL_KEYS = re.compile(r"^(prompts|providers|tests)\s*:", re.MULTILINE)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "replicate_eval_files",
        type="args",
        default=DEFAULT_EVAL_FILES,
        help="glob patterns of YAML eval files to collect (default: %s)" % " ".join(DEFAULT_EVAL_FILES),
    )
    parser.addini(
        "replicate_timeout",
        default="300",
        help="seconds a Replicate prediction may take before it is canceled (provider config 'timeout' wins)",
    )


def pytest_configure(config: pytest.Config) -> None:
    defaults = ClientSettings(timeout=float(config.getini("replicate_timeout")))
    config.stash[runtime_key] = EvalRuntime(defaults=defaults)


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime = config.stash.get(runtime_key, None)
    if runtime is not None:
        runtime.close()


def _looks_like_eval(path: Path) -> bool:
    try:
        return bool(_EVAL_KEYS.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> EvalFile | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    patterns = parent.config.getini("replicate_eval_files")
    named_explicitly = parent.session.isinitpath(file_path)
    if any(file_path.match(pattern) for pattern in patterns) or (named_explicitly and _looks_like_eval(file_path)):
        return EvalFile.from_parent(parent, path=file_path)
    return None
