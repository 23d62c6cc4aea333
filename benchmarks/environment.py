"""The environment every benchmark gives the pytest processes it times.

Only this plugin is loaded (other installed plugins' start-up is not ours to measure), and
modules load from cached bytecode as they do on a user's machine after the first run. The
cache lives in a folder the benchmark chooses, so nothing is written into the checkout, even
where PYTHONDONTWRITEBYTECODE is set (as on these machines).
"""

from __future__ import annotations

import os
from pathlib import Path


def pytest_environment(bytecode: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("REPLICATE_") and name not in ("CI", "PYTHONDONTWRITEBYTECODE")}
    env.update(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTEST_ADDOPTS="-p pytest_replicate.pytest.plugin",
               PYTHONPYCACHEPREFIX=str(bytecode))
    env.update(extra)
    return env
