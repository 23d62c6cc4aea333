"""Which files are eval files, decided from their names and first keys without loading anything heavy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .state import settings_key

_EVAL_KEYS = re.compile(r"^(prompts|providers|tests)\s*:", re.MULTILINE)
_CASSETTE_KEYS = re.compile(r"^interactions\s*:", re.MULTILINE)


def is_eval_file(file_path: Path, parent: pytest.Collector) -> bool:
    """Whether ``file_path`` is an eval file: it matches the patterns, or was named on the command line."""
    if file_path.suffix not in (".yaml", ".yml"):
        return False
    if any(file_path.match(pattern) for pattern in parent.config.stash[settings_key].eval_files):
        text = _read(file_path)
        # A cassette named after an item called "eval_..." matches too; it is never an eval file.
        return not (_CASSETTE_KEYS.search(text) and not _EVAL_KEYS.search(text))
    return parent.session.isinitpath(file_path) and bool(_EVAL_KEYS.search(_read(file_path)))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
