"""The exception hierarchy.

Every error a user can cause derives from :class:`ReplicateEvalError`; the plugin shows
those as a plain message instead of a traceback, because the fix is in the user's files,
not in our code.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class ReplicateEvalError(Exception):
    """Base class for errors caused by a user's config, environment or models."""


PathPart = str | int
YamlPath = tuple[PathPart, ...]


def format_path(path: Iterable[PathPart]) -> str:
    """``("tests", 2, "assert", 0)`` -> ``tests[2].assert[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class ConfigError(ReplicateEvalError):
    """An eval file, a file it references, or a provider/assertion config is malformed.

    Raised where the problem is understood, with ``path`` relative to the node being read
    (``("config", "temperature")``); the config loader then adds the file, the full YAML
    path and the line (see ``config.source.Document.locate``).
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        path: YamlPath = (),
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.path = tuple(path)
        self.line = line
        self.hint = hint

    @property
    def location(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        where = display_path(self.file) if self.file is not None else ""
        if self.line is not None:
            where += f":{self.line}"
        head = ": ".join(part for part in (where, self.location, self.message) if part)
        return f"{head}\n  hint: {self.hint}" if self.hint else head


def display_path(file: Path | str) -> str:
    """Paths relative to the working directory, as pytest shows them."""
    path, cwd = Path(file), Path.cwd()
    for candidate in (path, path.resolve()):  # resolving (syscalls per part) only when needed
        try:
            return str(candidate.relative_to(cwd))
        except ValueError:
            continue
    return str(path)


class TemplateError(ReplicateEvalError):
    """A prompt or assertion template could not be rendered for a case."""


class TransformError(ReplicateEvalError):
    """A user transform raised or could not be loaded."""


class ProviderError(ReplicateEvalError):
    """A provider call failed in a way the user can act on (token, model id, input...)."""


class CassetteError(ReplicateEvalError):
    """A cassette could not be replayed (missing interaction, corrupt file)."""


class SpendLimitReached(ProviderError):
    """A live call was refused before it started: the run's spend reached ``--replicate-max-cost``.

    The item that made it is skipped with this message (``run/spend.py``), not failed.
    """
