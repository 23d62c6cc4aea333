"""Evaluate one case: render, call the provider, transform, grade. No pytest here.

The same functions serve YAML items, the scheduler and the Python API. ``run_case`` does
both phases; ``call_case`` and ``grade_case`` exist apart for ``select-best``, whose
grading needs the outputs of the case's siblings (see ``select_best.py``). ``run_samples``
runs a repeated case and ``sampled`` reduces its samples to one result.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..assertions import AssertionContext, grade
from ..assertions.base import Graders, Sibling
from ..assertions.custom_scoring import scored
from ..errors import CassetteError, ProviderError, ReplicateEvalError
from ..providers.base import CallContext, Provider, ProviderResponse
from ..results.case import CaseResult
from ..results.sampling import reduce_samples
from ..suite.model import Case, Repeat
from ..templating import has_template_syntax, render
from ..templating import render_prompt as render_template_prompt
from .conversation import remember_turn, with_conversation


def render_prompt(case: Case) -> str:
    """The test's ``options.prefix``/``suffix`` wrap the raw prompt before rendering, as in promptfoo
    (so they decide whether the whole parses as JSON). Outputs that earlier cases stored
    (``options.storeOutputAs``) are vars too, over the case's own, as in promptfoo."""
    options = case.test.options
    raw = f"{options.get('prefix', '')}{case.prompt.raw}{options.get('suffix', '')}"
    return render_template_prompt(raw, case_vars(case), what=f"prompt {case.prompt.label!r}")


def case_vars(case: Case) -> Mapping[str, Any]:
    """The case's vars with the outputs stored so far by its file's ``storeOutputAs`` tests; a var
    template that uses one (kept as written at collection, when it was unknown) is rendered now."""
    registers = case.suite.registers
    if not registers:
        return with_conversation(case, case.vars)
    variables = {**case.vars, **registers}
    for name, value in case.vars.items():
        if isinstance(value, str) and has_template_syntax(value) and name not in registers:
            try:
                variables[name] = render(value, variables, what=f"var {name!r}")
            except ReplicateEvalError:
                pass  # promptfoo keeps a var it cannot render as written
    return with_conversation(case, variables)


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


def run_samples(case: Case, count: int, provider: Provider, context: CallContext, *,
                graders: Graders | None = None, after_each: Callable[[], None] = lambda: None) -> list[CaseResult]:
    """``count`` samples of ``case``, each a prediction of its own, one after another.

    In turn, so that the case's cassette holds them in order and replay hands each sample its
    own recorded answers (vcrpy plays identical requests' interactions in recorded order).
    The run stops at the first sample whose call failed: that cassette is not saved, so more
    calls would be paid for nothing. ``after_each`` runs between samples (the provider's delay).
    """
    samples: list[CaseResult] = []
    for number in range(count):
        if number:
            after_each()
        sample = run_case(case, provider, context, graders=graders)
        samples.append(sample)
        if sample.call_failed or context.cancel.is_set():
            break
    return samples


def sampled(case: Case, repeat: Repeat, samples: list[CaseResult]) -> CaseResult:
    """One result for a repeated case: the verdict of ``repeat``'s reducer over its samples.

    Prompt, response, output and grading are the first sample's. When a call failed, the case
    has its error, and its samples are those before it. When no sample could be graded, the
    case has the first one's error.
    """
    failed = next((number for number, sample in enumerate(samples, 1) if sample.call_failed), None)
    done = samples if failed is None else samples[: failed - 1]
    first = samples[0]
    outcomes = [(sample.passed, sample.grading.score if sample.grading else 0.0) for sample in done]
    result = CaseResult(case, prompt=first.prompt, response=first.response, output=first.output,
                        grading=first.grading, samples=done,
                        verdict=reduce_samples(repeat, outcomes, case.test.threshold),
                        duration=sum(sample.duration for sample in samples))
    problem = (f"sample {failed} of {repeat.count}: {samples[failed - 1].error}" if failed is not None
               else _replayed_twice(done, repeat.count))
    if problem is not None:
        result.error, result.call_failed = problem, True  # call_failed: its cassette is not saved
    elif done and all(sample.error is not None for sample in done):
        result.error = first.error
    return result


def _replayed_twice(samples: list[CaseResult], count: int) -> str | None:
    """Samples are distinct predictions; one that repeats an earlier sample's came from a cassette
    that played back what it had just recorded, as vcrpy's new_episodes mode does."""
    seen: dict[str, int] = {}
    for number, sample in enumerate(samples, 1):
        prediction = sample.prediction_id
        if prediction is None:
            continue
        if prediction in seen:
            return (f"sample {number} of {count} replayed the prediction of sample {seen[prediction]} ({prediction}): "
                    "the new_episodes record mode plays back what it has just recorded, so it cannot add samples "
                    "to a cassette; record them all again with --record-mode=rewrite")
        seen[prediction] = number
    return None


def call_case(case: Case, provider: Provider, context: CallContext) -> CaseResult:
    """Render, call and transform: the result has an output (or an error) and no grading yet."""
    started = time.perf_counter()
    result = CaseResult(case)
    if case.test.problem is not None:  # its test cannot run (a bad assertion, a missing file): nothing is called
        result.error = str(case.test.problem)
        return result
    try:
        result.prompt = render_prompt(case)
        if case.test.provider_output is not None:  # promptfoo's providerOutput: graded as if the provider said it
            response = result.response = ProviderResponse(output=case.test.provider_output, cost=0.0)
        else:
            response = result.response = provider.call(result.prompt, context)
        if response.error is not None:
            result.error = response.error
            result.call_failed = True
            return result
        remember_turn(case, result.prompt, response)
        output = response.output
        user_context = assertion_context(result, context, None).as_user_context()
        if case.provider.transform is not None:
            output = case.provider.transform(output, user_context)
        if case.test.options.get("transform") is not None:
            output = case.test.options["transform"](output, user_context)
        result.output = output
        stored = case.test.options.get("storeOutputAs")
        if stored and output:  # later cases of the file see it as a var (promptfoo stores the provider's output)
            case.suite.registers[stored] = response.output
    except ReplicateEvalError as error:
        _fail(result, error)
    finally:
        result.duration = time.perf_counter() - started
    return result


def grade_case(result: CaseResult, context: CallContext, *, graders: Graders | None = None,
               compared: tuple[Sequence[Sibling], int] | None = None) -> CaseResult:
    """Grade a called case; ``compared`` is (the case and its siblings, in column order; its index)."""
    if result.error is not None:
        return result
    started = time.perf_counter()
    try:
        seen = assertion_context(result, context, graders)
        seen.compared = compared
        result.grading = grade(result.case.test.asserts, result.output, seen, result.case.test.threshold)
        if result.case.test.scoring is not None and result.case.test.asserts:  # promptfoo: no assertions, no call
            result.grading = scored(result.case.test.scoring, result.grading, result.case.test.threshold)
    except ReplicateEvalError as error:
        _fail(result, error)
    finally:
        result.duration += time.perf_counter() - started
    return result


def _fail(result: CaseResult, error: ReplicateEvalError) -> None:
    """Record a user-caused failure; a failed or missing model call also keeps the cassette unsaved."""
    result.error = str(error)
    result.call_failed = isinstance(error, (ProviderError, CassetteError))


def assertion_context(result: CaseResult, context: CallContext, graders: Graders | None) -> AssertionContext:
    """What the assertions of a called case see."""
    case = result.case
    return AssertionContext(
        vars=case_vars(case),
        prompt=result.prompt or "",
        base_dir=case.suite.base_dir,
        response=result.response,
        metadata=case.test.metadata,
        graders=graders,
        call_context=context,
        options=case.test.options,
        provider_config=case.provider.config,
        provider_id=case.provider.id,
        provider_label=case.provider.label,
        test=case.test.as_written(),
    )
