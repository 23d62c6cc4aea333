"""One parsed ``assert`` entry: plain data that checks, scoring and reports read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..transforms import UserCode


@dataclass(slots=True)
class AssertionSpec:
    """One ``assert`` entry. ``type`` is the base type; ``negate`` records a ``not-`` prefix.

    Slotted, and without a list of its own when it has no children: a suite of 100,000 tests
    holds one per assertion.
    """

    type: str
    negate: bool = False
    value: Any = None
    threshold: float | None = None
    weight: float = 1.0
    metric: str | None = None
    transform: UserCode | None = None
    provider: Any = None  # an id, {id, config} or {text:, embedding:}: who grades a model-graded assertion
    rubric_prompt: Any = None  # ``rubricPrompt``: the grading prompt instead of the built-in one
    context_transform: UserCode | None = None  # ``contextTransform``: output -> context (context-* checks)
    config: Mapping[str, Any] = field(default_factory=dict)
    children: Sequence[AssertionSpec] = ()  # an assert-set's assertions
    code: UserCode | None = None  # compiled value of a ``python`` assertion, or a ``javascript`` file's function
    # Another type's ``value: file://x.js`` (or .py): called with (output, context), its result is the value.
    value_code: UserCode | None = None

    @property
    def display_type(self) -> str:
        return f"not-{self.type}" if self.negate else self.type
