"""``similar``: how close the output is to the expected text(s), by their embeddings.

The embedding model is a grader (purpose ``embedding``); every embedding is an ordinary
provider call through the item's cassette. Scores and ``not-`` follow promptfoo's
``matchesSimilarity``: cosine (default, ``similar:cosine``), dot product (``similar:dot``)
or euclidean distance (``similar:euclidean``, where smaller passes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from ...errors import ConfigError
from ...providers.base import CallContext
from ...providers.purposes import grader_id_form
from ..base import AssertionContext, Verdict, output_text
from ..declare import assertion
from ..spec import AssertionSpec

EPSILON = 2.220446049250313e-16  # JavaScript's Number.EPSILON, which promptfoo's comparisons allow


@runtime_checkable
class Embedder(Protocol):
    """A provider that turns text into a vector (``replicate:embedding:...``)."""

    id: str

    def embed(self, text: str, context: CallContext) -> list[float]: ...


def cosine(a: list[float], b: list[float]) -> float:
    _same_length(a, b)
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norms if norms else 0.0


def dot(a: list[float], b: list[float]) -> float:
    _same_length(a, b)
    return sum(x * y for x, y in zip(a, b, strict=True))


def euclidean(a: list[float], b: list[float]) -> float:
    _same_length(a, b)
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def _same_length(a: list[float], b: list[float]) -> None:
    if len(a) != len(b):
        raise ConfigError(f"embeddings of different lengths ({len(a)} and {len(b)}): use one embedding model")


def embedder(ctx: AssertionContext, override: Any) -> tuple[Embedder, CallContext]:
    provider = ctx.grader("embedding", override)
    if not isinstance(provider, Embedder) or ctx.call_context is None:
        raise ConfigError(f"{provider.id} cannot embed text: use a {grader_id_form('embedding')} provider")
    return provider, ctx.call_context


def _values_problem(value: Any) -> str | None:
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return None
    return "value must be the expected text or a non-empty list of texts"


def _one(similarity: float, threshold: float, inverse: bool, metric: str) -> Verdict:
    """promptfoo's buildSimilarityResult: the verdict already accounts for ``not-``."""
    if metric == "euclidean":
        passed = similarity >= threshold - EPSILON if inverse else similarity <= threshold + EPSILON
        normalized = 1 / (1 + similarity)
        below = f"Distance {similarity:.2f} is less than or equal to threshold {threshold:g}"
        above = f"Distance {similarity:.2f} is greater than threshold {threshold:g}"
        reason = (above if inverse else below) if passed else (below if inverse else above)
        return Verdict(passed, reason, 1 - normalized if inverse else normalized, final=True)
    passed = similarity <= threshold + EPSILON if inverse else similarity >= threshold - EPSILON
    greater = f"Similarity {similarity:.2f} is greater than or equal to threshold {threshold:g}"
    less = f"Similarity {similarity:.2f} is less than threshold {threshold:g}"
    reason = (less if inverse else greater) if passed else (greater if inverse else less)
    return Verdict(passed, reason, 1 - similarity if inverse else similarity, final=True)


def _register(name: str, metric: str, measure: Callable[[list[float], list[float]], float]) -> None:
    @assertion(name, validate_value=_values_problem, grader="embedding", grader_calls={"embedding": 2})
    def check(output: Any, value: Any, spec: AssertionSpec, ctx: AssertionContext) -> Verdict:
        """Passes if any expected text reaches ``threshold`` (default 0.75); negated, if none does."""
        threshold = spec.threshold if spec.threshold is not None else 0.75
        model, call_context = embedder(ctx, spec.provider)
        actual = model.embed(output_text(output), call_context)
        expected = [value] if isinstance(value, str) else list(value)
        verdicts = (_one(measure(model.embed(text, call_context), actual), threshold, spec.negate, metric)
                    for text in expected)
        if len(expected) == 1:
            return next(verdicts)
        seen = []
        for verdict in verdicts:  # in order, stopping where promptfoo stops
            if verdict.passed != spec.negate:
                return verdict
            seen.append(verdict)
        if spec.negate:  # every expected text is far enough: report the closest one
            return min(seen, key=lambda v: v.score or 0.0)
        return Verdict(False, "None of the provided values met the similarity threshold",
                       max(v.score or 0.0 for v in seen), final=True)


_register("similar", "cosine", cosine)
_register("similar:cosine", "cosine", cosine)
_register("similar:dot", "dot_product", dot)
_register("similar:euclidean", "euclidean", euclidean)
