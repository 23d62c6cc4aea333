"""Session settings that pytest options and ini keys decide.

Kept free of heavy imports: the plugin module imports it at start-up, before other plugins
(pytest-recording among them) have registered what they need.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .config.model import Case

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")


@dataclass(frozen=True)
class CassetteSettings:
    record_mode: str = "none"
    directory: str = "cassettes"  # relative to each eval file's folder

    def path_for(self, case: Case) -> Path:
        """``<eval folder>/cassettes/<eval file name>/<item name>.<hash>.yaml``."""
        suite_name = case.suite.file.name.rsplit(".", 1)[0]
        return case.suite.base_dir / self.directory / suite_name / cassette_file_name(case.name)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def cassette_file_name(item_name: str) -> str:
    """A readable, filesystem-safe name; the hash keeps names that slug alike apart."""
    slug = _UNSAFE.sub("_", item_name).strip("_.")[:80] or "case"
    digest = hashlib.sha1(item_name.encode("utf-8")).hexdigest()[:8]
    return f"{slug}.{digest}.yaml"
