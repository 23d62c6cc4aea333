"""Evaluate one case: render, call the provider, transform, grade. No pytest here.

The same function serves YAML items, the scheduler and the Python API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from .assertions import AssertionContext, GradingResult, grade
from .config.model import Case
from .errors import CassetteError, ProviderError, ReplicateEvalError
from .providers.base import CallContext, Provider, ProviderResponse
from .templating import render


@dataclass
class CaseResult:
    case: Case
    prompt: str | None = None  # as sent to the provider
    response: ProviderResponse | None = None
    output: Any = None  # after transforms
    grading: GradingResult | None = None
    error: str | None = None  # why the case could not be graded
    # A model call (the provider's or a grader's) failed or missed its cassette: such an
    # exchange must not be saved, or replay would repeat the failure for good.
    call_failed: bool = False
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and self.grading is not None and self.grading.passed


def render_prompt(case: Case) -> str:
    """The test's ``options.prefix``/``suffix`` wrap the raw prompt before rendering, as in promptfoo."""
    options = case.test.options
    raw = f"{options.get('prefix', '')}{case.prompt.raw}{options.get('suffix', '')}"
    return render(raw, case.vars, what=f"prompt {case.prompt.label!r}")


def run_case(
    case: Case,
    provider: Provider,
    context: CallContext,
    *,
    resolve_provider: Callable[[Any, str], Provider] | None = None,
) -> CaseResult:
    """Run ``case``; user-caused failures are captured in ``CaseResult.error``."""
    started = time.perf_counter()
    result = CaseResult(case)
    try:
        result.prompt = render_prompt(case)
        response = result.response = provider.call(result.prompt, context)
        if response.error is not None:
            result.error = response.error
            result.call_failed = True
            return result
        assertion_context = AssertionContext(
            vars=case.vars,
            prompt=result.prompt,
            base_dir=case.suite.base_dir,
            response=response,
            metadata=case.test.metadata,
            resolve_provider=resolve_provider,
            call_context=context,
        )
        output = response.output
        user_context = assertion_context.as_user_context()
        if case.provider.transform is not None:
            output = case.provider.transform(output, user_context)
        if case.test.options.get("transform") is not None:
            output = case.test.options["transform"](output, user_context)
        result.output = output
        result.grading = grade(case.test.asserts, output, assertion_context, case.test.threshold)
    except ReplicateEvalError as error:
        result.error = str(error)
        result.call_failed = isinstance(error, (ProviderError, CassetteError))
    finally:
        result.duration = time.perf_counter() - started
    return result
