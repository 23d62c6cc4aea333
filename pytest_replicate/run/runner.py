"""Evaluate one case: render, call the provider, transform, grade. No pytest here.

The same functions serve YAML items, the scheduler and the Python API. ``run_case`` does
both phases; ``call_case`` and ``grade_case`` exist apart for ``select-best``, whose
grading needs the outputs of the case's siblings (see ``select_best.py``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ..assertions import AssertionContext, grade
from ..assertions.base import Graders
from ..errors import CassetteError, ProviderError, ReplicateEvalError
from ..providers.base import CallContext, Provider
from ..results.case import CaseResult
from ..suite.model import Case
from ..templating import render


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
    result = call_case(case, provider, context)
    return grade_case(result, context, graders=graders)


def call_case(case: Case, provider: Provider, context: CallContext) -> CaseResult:
    """Render, call and transform: the result has an output (or an error) and no grading yet."""
    started = time.perf_counter()
    result = CaseResult(case)
    try:
        result.prompt = render_prompt(case)
        response = result.response = provider.call(result.prompt, context)
        if response.error is not None:
            result.error = response.error
            result.call_failed = True
            return result
        output = response.output
        user_context = _assertion_context(result, context, None).as_user_context()
        if case.provider.transform is not None:
            output = case.provider.transform(output, user_context)
        if case.test.options.get("transform") is not None:
            output = case.test.options["transform"](output, user_context)
        result.output = output
    except ReplicateEvalError as error:
        _fail(result, error)
    finally:
        result.duration = time.perf_counter() - started
    return result


def grade_case(result: CaseResult, context: CallContext, *, graders: Graders | None = None,
               compared: tuple[Sequence[Any], int] | None = None) -> CaseResult:
    """Grade a called case; ``compared`` is (outputs of the case and its siblings, its index)."""
    if result.error is not None:
        return result
    started = time.perf_counter()
    try:
        assertion_context = _assertion_context(result, context, graders)
        assertion_context.compared = compared
        result.grading = grade(result.case.test.asserts, result.output, assertion_context, result.case.test.threshold)
    except ReplicateEvalError as error:
        _fail(result, error)
    finally:
        result.duration += time.perf_counter() - started
    return result


def _fail(result: CaseResult, error: ReplicateEvalError) -> None:
    """Record a user-caused failure; a failed or missing model call also keeps the cassette unsaved."""
    result.error = str(error)
    result.call_failed = isinstance(error, (ProviderError, CassetteError))


def _assertion_context(result: CaseResult, context: CallContext, graders: Graders | None) -> AssertionContext:
    case = result.case
    return AssertionContext(
        vars=case.vars,
        prompt=result.prompt or "",
        base_dir=case.suite.base_dir,
        response=result.response,
        metadata=case.test.metadata,
        graders=graders,
        call_context=context,
        options=case.test.options,
    )
