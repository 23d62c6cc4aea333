"""Where parsed eval files are kept between runs: pytest's own cache folder (``.pytest_cache``).

Only when pytest's cacheprovider is active: ``-p no:cacheprovider`` turns it off, and
``--cache-clear`` empties it, as for pytest's own ``--lf`` data.
"""

from __future__ import annotations

import pytest

from ..suite.parse_cache import ParseCache
from .state import eval_session

FOLDER = "replicate-parsed"


def parse_cache(config: pytest.Config) -> ParseCache | None:
    """The cache of parsed eval files, or None without pytest's cache (or a folder that cannot be made)."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    try:
        return ParseCache(cache.mkdir(FOLDER), eval_session(config).redactor)
    except OSError:
        return None
