"""The validated, resolved form of an eval file: plain data, no pytest, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from ..assertions.spec import AssertionSpec
from ..errors import ConfigError
from ..transforms import UserCode


@dataclass(frozen=True)
class Prompt:
    raw: str
    label: str
    id: str | None = None
    # promptfoo's prompt-level ``config``: merged over the provider's config for this prompt's cases.
    config: Mapping[str, Any] | None = None
    # A prompt function (``file://x.py:fn``): called per case with {vars, provider, config} (``prompts.py``).
    function: Callable[..., Any] | None = None


def uses_conversation(prompt: Prompt) -> bool:
    """Whether the prompt reads promptfoo's ``_conversation`` var (see ``run/conversation.py``)."""
    return "_conversation" in prompt.raw


# A provider config key for the scheduler, not the model: the provider's calls at once.
MAX_CONCURRENCY = "max_concurrency"


@dataclass(frozen=True)
class ProviderSpec:
    id: str
    label: str
    config: Mapping[str, Any] = field(default_factory=dict)
    prompts: tuple[str, ...] | None = None  # labels/ids of the prompts this provider runs
    transform: UserCode | None = None
    line: int | None = None  # where the eval file declares it, for errors found later
    delay: float = 0.0  # seconds to wait after each live call, as promptfoo's provider ``delay`` (ms)
    env: Mapping[str, str] = field(default_factory=dict)  # this provider's own env, over the file's

    # The id of a test's id-less ``provider``: its config, label and transform go over the column's provider.
    OVERRIDE: ClassVar[str] = "<the column's provider>"

    def runs_prompt(self, prompt: Prompt) -> bool:
        return self.prompts is None or prompt.label in self.prompts or (prompt.id in self.prompts)


@dataclass(frozen=True)
class FileVar:
    """A ``file://`` var value, read when the file is loaded (a .py file: called per case).

    As in promptfoo (see ``var_files.py``): a text file's content is trimmed, a YAML file
    becomes its JSON, an image a ``data:`` URI, video and audio base64, and a Python file's
    ``get_var(var_name, prompt, other_vars)`` returns ``{"output": ...}``.
    """

    reference: str  # as written: file://...
    text: str | None = None  # None for a Python file
    get_var: Callable[..., Any] | None = None
    trimmed: bool = True  # the output of a Python get_var is trimmed and must be text; a JavaScript one's is as returned
    media: bool = False  # an image, video or audio file: test names show the reference, not the base64

    def __str__(self) -> str:
        return self.text if self.text is not None else self.reference


class FileChoices(tuple):
    """The files a ``file://`` glob var matched: one case per file, as in promptfoo."""


# Why a select-best test has no ``repeat`` (also under ``--replicate-repeat``).
NOT_REPEATABLE = "select-best compares one output per prompt and provider, so its test cannot be repeated"


@dataclass(frozen=True)
class Repeat:
    """A test's ``repeat``: run each case ``count`` times, as distinct predictions, and reduce
    the samples' verdicts to one with ``reducer``."""

    count: int
    reducer: str = "all"  # all, at_least, mean or pass_at (see ``results/sampling.py``)
    k: int | None = None  # at_least: samples that must pass; pass_at: the k of pass@k
    threshold: float | None = None  # mean, pass_at: the figure to reach (None: the test's threshold, else 0.5)

    def problem(self) -> str | None:
        """Why this repeat cannot be run, or None: a reducer may not ask for more samples than run."""
        if self.k is not None and self.k > self.count:
            return f"{self.reducer}: {self.k} needs {self.k} samples or more, and {self.count} are asked for"
        return None


@dataclass(slots=True)
class TestCase:
    """A test after ``defaultTest`` is merged in; ``vars`` may still hold lists to expand."""

    description: str | None
    vars: dict[str, Any]
    asserts: list[AssertionSpec]
    options: dict[str, Any]
    threshold: float | None
    metadata: dict[str, Any]
    file: Path | None = None  # where the test is written, for errors found while expanding
    path: tuple = ()  # its YAML path there: ("tests", 3), or (4,) in a tests file
    line: int | None = None
    repeat: Repeat | None = None  # its own ``repeat``, else defaultTest's; None: run once
    # Why its cases cannot run (a bad assertion, a missing file...): they are collected, and fail
    # with it, as promptfoo errors only such a test. Its vars are then as written, unexpanded files.
    problem: ConfigError | None = None
    # promptfoo's test-level keys (see docs/format.md): who answers, where it runs, how it is scored.
    provider: ProviderSpec | None = None  # answers this test instead of each listed provider
    providers: tuple[str, ...] | None = None  # runs only on these providers (label, id, or prefix*)
    prompts: tuple[str, ...] | None = None  # runs only with these prompts (label, id, or prefix*)
    provider_output: Any = None  # graded instead of calling a provider
    scoring: UserCode | None = None  # assertScoringFunction: (named_scores, context) -> grading result

    @property
    def location(self) -> str:
        """Where the test is written, for messages: ``suite.yaml:12``, ``tests.csv:4`` (made when
        asked: a string per test is 7 MB for 100,000 tests)."""
        return f"{self.file.name if self.file is not None else ''}:{self.line or 1}"

    def runs_on(self, prompt: Prompt, provider: ProviderSpec) -> bool:
        """Whether this test's ``prompts`` and ``providers`` filters let it run for the pair."""
        return (self.prompts is None or any(_ref_matches(ref, prompt.label, prompt.id) for ref in self.prompts)) and (
            self.providers is None or any(_ref_matches(ref, provider.label, provider.id) for ref in self.providers))

    def as_written(self) -> dict[str, Any]:
        """The test as user code sees it (promptfoo's ``context.test``): its code as its source."""
        return {
            "description": self.description,
            "vars": {name: str(value) if isinstance(value, FileVar) else value for name, value in self.vars.items()},
            "assert": [{"type": spec.display_type, "value": spec.value} for spec in self.asserts],
            "options": {key: value.source if isinstance(value, UserCode) else value for key, value in self.options.items()},
            "threshold": self.threshold,
            "metadata": dict(self.metadata),
        }


def _ref_matches(ref: str, label: str, id: str | None) -> bool:
    """promptfoo's ``doesPromptRefMatch``/``doesProviderRefMatch``: the label or id, a ``prefix*``, or ``ref:...``."""
    names = [name for name in (label, id) if name]
    if ref in names:
        return True
    if ref.endswith("*") and any(name.startswith(ref[:-1]) for name in names):
        return True
    return any(name.startswith(f"{ref}:") for name in names)


@dataclass
class EvalSuite:
    """Everything one eval file defines."""

    file: Path
    description: str | None
    prompts: list[Prompt]
    providers: list[ProviderSpec]
    tests: list[TestCase]
    env: dict[str, str]
    min_pass_rate: float | None = None  # metadata.min_pass_rate: below it, the file fails the session
    derived_metrics: list[tuple[str, str]] = field(default_factory=list)  # (name, expression), in order
    # options.storeOutputAs: outputs stored by earlier cases, seen by later ones as vars.
    registers: dict[str, Any] = field(default_factory=dict)
    # promptfoo's _conversation var: the turns so far, per provider, prompt and conversationId.
    conversations: dict[tuple[str, str, str, str], list[dict[str, Any]]] = field(default_factory=dict)

    @cached_property
    def stores_outputs(self) -> bool:
        """Whether later cases read earlier ones' outputs (a test's ``storeOutputAs``, a prompt
        using ``_conversation``): then the file's cases run in order."""
        return (any(test.options.get("storeOutputAs") for test in self.tests)
                or any(uses_conversation(prompt) for prompt in self.prompts))

    @property
    def base_dir(self) -> Path:
        return self.file.parent


class Case:
    """One (test, prompt, provider) combination with concrete vars: one pytest item.

    Cases share everything they can (the test, the suite, a vars dict common to all of a
    test's prompts and providers): a suite of 100,000 cases must stay small. So a case keeps
    its item name, one string that the item and the claims share, and finds its ``label`` in
    it (the label is kept apart only in the rare case the name changes it: a ``::``).
    """

    __slots__ = ("_label", "name", "prompt", "provider", "suite", "test", "vars")

    def __init__(self, label: str, suite: EvalSuite, test: TestCase, vars: dict[str, Any], prompt: Prompt,
                 provider: ProviderSpec) -> None:
        self.suite, self.test, self.vars, self.prompt, self.provider = suite, test, vars, prompt, provider
        self.label = label

    @property
    def label(self) -> str:
        """From the test: its description or vars."""
        if self._label is not None:
            return self._label
        return self.name[: len(self.name) - len(self._suffix())]

    @label.setter
    def label(self, label: str) -> None:
        # The item name, pytest-parametrize style: ``label[prompt-provider]``.
        own = label.replace("::", ":")
        self.name: str = own + self._suffix()
        self._label: str | None = None if own == label else label

    def _suffix(self) -> str:
        return f"[{self.prompt.label}-{self.provider.label}]".replace("::", ":")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Case):
            return NotImplemented
        return (self.label, self.suite, self.test, self.vars, self.prompt, self.provider) == (
            other.label, other.suite, other.test, other.vars, other.prompt, other.provider)

    __hash__ = None  # type: ignore[assignment]  # as the dataclass it was: its vars change

    def __repr__(self) -> str:
        return f"Case(label={self.label!r}, test={self.test.location!r}, prompt={self.prompt.label!r}, provider={self.provider.label!r})"
