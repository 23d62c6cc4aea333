"""Evaluate one case: render, call the provider, transform, grade. No pytest here.

The same function serves YAML items, the scheduler and the Python API.
"""

from __future__ import annotations

import time

from .assertions import AssertionContext, grade
from .assertions.base import Graders
from .config.model import Case
from .errors import CassetteError, ProviderError, ReplicateEvalError
from .providers.base import CallContext, Provider
from .results import CaseResult
from .templating import render


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
    graders: Graders | None = None,
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
            graders=graders,
            call_context=context,
            options=case.test.options,
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
