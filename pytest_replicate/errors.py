"""The exception hierarchy.

Every error a user can cause derives from :class:`ReplicateEvalError`; the plugin shows
those as a plain message instead of a traceback, because the fix is in the user's files,
not in our code.
"""

from __future__ import annotations

from pathlib import Path


class ReplicateEvalError(Exception):
    """Base class for errors caused by a user's config, environment or models."""


class ConfigError(ReplicateEvalError):
    """An eval file (or a file it references) is malformed.

    Carries where the problem is, so the message can name the file, the YAML path of the
    offending node and its line.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        location: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.location = location
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        where = display_path(self.file) if self.file is not None else ""
        if self.line is not None:
            where += f":{self.line}"
        head = ": ".join(part for part in (where, self.location, self.message) if part)
        return f"{head}\n  hint: {self.hint}" if self.hint else head


def display_path(file: Path | str) -> str:
    """Paths relative to the working directory, as pytest shows them."""
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class TemplateError(ReplicateEvalError):
    """A prompt or assertion template could not be rendered for a case."""


class TransformError(ReplicateEvalError):
    """A user transform raised or could not be loaded."""


class ProviderError(ReplicateEvalError):
    """A provider call failed in a way the user can act on (token, model id, input...)."""


class CassetteError(ReplicateEvalError):
    """A cassette could not be replayed (missing interaction, corrupt file)."""
