"""The installed version, for ``pytest_replicate.__version__`` and the reports' ``generator``."""

from __future__ import annotations


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pytest-replicate")
    except PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
        return "0+unknown"
