"""Which files are eval files, decided from their names and first keys without loading anything heavy;
and which folders hold nothing but this plugin's cassettes, so that pytest need not look inside."""

from __future__ import annotations

import os
import re
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

import pytest

from ..cassettes.names import OUR_CASSETTE_NAME, SIDECAR_NAME
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


def is_cassette_folder(path: Path, config: pytest.Config) -> bool:
    """Whether ``path`` is a folder of this plugin's cassettes (``<cassette dir>/<source stem>/``)
    holding only cassettes and the files saved beside them: nothing pytest or this plugin collects.

    pytest would offer each file in it to every plugin's collection hooks, about 60 us a file:
    as much again as plain pytest spends on a whole test, for every replayed item. A folder that
    also holds anything else (a subfolder, a ``.py`` file, a file named like an eval file) is
    walked as before.
    """
    settings = config.stash.get(settings_key, None)
    if settings is None or path.parent.name != _folder_name(settings.cassette_dir):
        return False
    try:
        with os.scandir(path) as entries:
            files = [(entry.name, entry.is_file()) for entry in entries]
    except OSError:
        return False
    names = [name for name, is_file in files if is_file]
    if len(names) != len(files):  # a subfolder
        return False
    cassettes = {name[: -len(".yaml")] for name in names if OUR_CASSETTE_NAME.fullmatch(name)}
    for name in names:
        sidecar = SIDECAR_NAME.fullmatch(name)
        ours = name[: -len(".yaml")] in cassettes or (sidecar is not None and sidecar[1] in cassettes)
        if not ours or name.endswith(".py"):
            return False
        if any(fnmatchcase(name, pattern) if "/" not in pattern else (path / name).match(pattern)
               for pattern in settings.eval_files):
            return False
    return True


@lru_cache(maxsize=8)
def _folder_name(cassette_dir: str) -> str | None:
    """The last part of a relative cassette dir setting; None for an absolute one (shared by every source)."""
    directory = Path(cassette_dir)
    return None if directory.is_absolute() else directory.name
