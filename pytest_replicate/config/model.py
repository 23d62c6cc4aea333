"""The validated, resolved form of an eval file: plain data, no pytest, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..assertions.spec import AssertionSpec
from ..transforms import UserCode


@dataclass(frozen=True)
class Prompt:
    raw: str
    label: str
    id: str | None = None


@dataclass(frozen=True)
class ProviderSpec:
    id: str
    label: str
    config: Mapping[str, Any] = field(default_factory=dict)
    prompts: tuple[str, ...] | None = None  # labels/ids of the prompts this provider runs
    transform: UserCode | None = None
    line: int | None = None  # where the eval file declares it, for errors found later
    delay: float = 0.0  # seconds to wait after each live call, as promptfoo's provider ``delay`` (ms)

    def runs_prompt(self, prompt: Prompt) -> bool:
        return self.prompts is None or prompt.label in self.prompts or (prompt.id in self.prompts)


@dataclass
class TestCase:
    """A test after ``defaultTest`` is merged in; ``vars`` may still hold lists to expand."""

    description: str | None
    vars: dict[str, Any]
    asserts: list[AssertionSpec]
    options: dict[str, Any]
    threshold: float | None
    metadata: dict[str, Any]
    location: str  # e.g. "tests[3]" or "tests.csv row 4", for messages


@dataclass
class EvalSuite:
    """Everything one eval file defines."""

    file: Path
    description: str | None
    prompts: list[Prompt]
    providers: list[ProviderSpec]
    tests: list[TestCase]
    env: dict[str, str]

    @property
    def base_dir(self) -> Path:
        return self.file.parent


@dataclass
class Case:
    """One (test, prompt, provider) combination with concrete vars: one pytest item."""

    label: str  # from the test: description or vars
    suite: EvalSuite
    test: TestCase
    vars: dict[str, Any]
    prompt: Prompt
    provider: ProviderSpec

    @property
    def name(self) -> str:
        """The item name, pytest-parametrize style: ``label[prompt-provider]``."""
        return f"{self.label}[{self.prompt.label}-{self.provider.label}]".replace("::", ":")
