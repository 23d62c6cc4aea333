"""Types shared by every check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigError
from ..jscompat.values import js_dump
from ..providers.base import CallContext, Provider, ProviderResponse
from .spec import AssertionSpec


class Graders(Protocol):
    """What assertions ask for a grader: the session resolves ids, config and defaults."""

    def grader(self, purpose: str, override: Any = None) -> Provider:
        """The provider for ``purpose``: ``override`` (an id or {id, config}) if given, else the default."""


@dataclass(frozen=True)
class Verdict:
    """What a check found. ``reason`` states the fact neutrally so it reads well negated too."""

    passed: bool
    reason: str
    score: float | None = None  # defaults to 1.0 / 0.0 from ``passed``
    # Stands as is under ``not-``: a grader answer that could not be used (promptfoo's
    # graderError), or a check that applied the negation itself or, like promptfoo, ignores it.
    final: bool = False


class VerdictReached(Exception):
    """Raised with the verdict, when a helper deep in a check already knows it (a grader's answer that
    only repeats its prompt); scoring takes it as the check's own."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


@dataclass
class GradingResult:
    passed: bool
    score: float
    reason: str
    assertion: AssertionSpec | None = None
    value: Any = None  # the assertion's value with vars rendered in
    children: list[GradingResult] = field(default_factory=list)
    named_scores: dict[str, float] = field(default_factory=dict)


@dataclass
class AssertionContext:
    """What a check may look at besides the output."""

    vars: Mapping[str, Any]
    prompt: str
    base_dir: Path
    response: ProviderResponse | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # Where model-graded checks get their grader; None where no session is available.
    graders: Graders | None = None
    # The item's call context (cassette-bound HTTP, cancellation), for grader calls.
    call_context: CallContext | None = None
    # The test's ``options`` (defaultTest's merged in): rubricPrompt, factuality scores...
    options: Mapping[str, Any] = field(default_factory=dict)
    # For select-best and max-score: the outputs of this test's case across prompts and
    # providers, in column order, and this case's index among them. None outside an eval file.
    compared: tuple[Sequence[Sibling], int] | None = None
    # For max-score: the results of the test's other assertions on each compared output.
    compared_results: Sequence[Sequence[GradingResult]] | None = None
    # The config of the provider that produced the output: function-call checks read its tools.
    provider_config: Mapping[str, Any] = field(default_factory=dict)
    # Who produced the output, and the test as written: user code's context.provider and context.test.
    provider_id: str | None = None
    provider_label: str | None = None
    test: Mapping[str, Any] = field(default_factory=dict)

    def grader(self, purpose: str, override: Any = None) -> Provider:
        """A ready provider for a grading job: ``override`` is the assertion's ``provider`` value."""
        if self.graders is None or self.call_context is None:
            raise ConfigError(f"a {purpose} grader is needed, but this check runs without a session")
        return self.graders.grader(purpose, override)

    def as_user_context(self, spec: AssertionSpec | None = None) -> dict[str, Any]:
        """The ``context`` argument user code receives, as in promptfoo: a transform's has vars,
        prompt and metadata; an assertion's (``spec``) also test, provider, providerResponse,
        logProbs and the assertion's config."""
        context: dict[str, Any] = {"vars": dict(self.vars), "prompt": self.prompt, "metadata": dict(self.metadata)}
        if spec is None:
            return context
        context["test"] = dict(self.test)
        context["logProbs"] = None  # neither Replicate predictions nor echo return log-probabilities
        if self.provider_id is not None:
            context["provider"] = {"id": self.provider_id, "label": self.provider_label,
                                   "config": dict(self.provider_config)}
        if self.response is not None:
            context["providerResponse"] = {"output": self.response.output, "cost": self.response.cost,
                                           "metadata": dict(self.response.metadata),
                                           "finishReason": self.response.finish_reason}
        if spec.config:
            context["config"] = dict(spec.config)
        return context


@dataclass(frozen=True)
class Sibling:
    """One output compared by select-best or max-score, with the context it was graded in."""

    output: Any
    context: AssertionContext


def output_text(output: Any) -> str:
    """The output as promptfoo's checks see it: a string, or data as ``JSON.stringify`` writes it
    (a transform may have turned it into data)."""
    if isinstance(output, str):
        return output
    if output is None:
        return ""
    return js_dump(output)
