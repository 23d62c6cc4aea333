"""The Python API: eval files, model results and assertions from ordinary Python code and tests.

It uses the same loader, expander, templates and scoring as the YAML items, so a check
written in Python gives the verdict the same check gives in an eval file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .assertions import AssertionContext, GradingResult, grade
from .assertions.base import Graders, output_text
from .assertions.parse import parse_assertion
from .assertions.spec import AssertionSpec
from .errors import ConfigError, ReplicateEvalError
from .providers.base import CallContext, ImageOutput, ProviderResponse
from .redaction import RedactedRepr, Redactor, hide_tokens
from .report.failure import format_report
from .results.case import CaseResult
from .suite.expand import expand
from .suite.loader import load_eval_file
from .suite.model import Case
from .templating import render

# What ``assert_output`` and ``grade_output`` accept: a type name (with ``value``), one
# ``{type, value, ...}`` mapping as in YAML, or a list of them.
AssertionInput = str | Mapping[str, Any] | Sequence[Mapping[str, Any]]
# A prompt from Python: one template, or chat messages ``[{"role": ..., "content": ...}]``.
PromptInput = str | Sequence[Mapping[str, Any]]


@dataclass(frozen=True, repr=False)
class ModelResult(RedactedRepr):
    """One model call made from Python: what was sent, what came back, and how to grade it.

    Model-graded assertions on it (``moderation``, ``llm-rubric``...) call their grader
    through the same test cassette and session as the call itself, hence the two hidden
    fields.
    """

    provider: str  # the provider id
    prompt: str  # as rendered from the template (before the provider's prefix and suffix)
    vars: Mapping[str, Any]
    response: ProviderResponse
    graders: Graders | None = field(default=None, repr=False, compare=False)
    call_context: CallContext | None = field(default=None, repr=False, compare=False)
    # The session's secrets: the prompt and vars may hold a token (a var read from the environment),
    # and pytest shows a result's repr (assertion rewriting, -l) and its failure report.
    redactor: Redactor | None = field(default=None, repr=False, compare=False)

    def redact(self, text: str) -> str:
        """``text`` with the session's tokens, and anything shaped like one, hidden."""
        return hide_tokens(text, self.redactor.secrets if self.redactor is not None else ())

    @property
    def output(self) -> Any:
        """What assertions see: the text, or for image models the markdown image link."""
        return self.response.output

    @property
    def text(self) -> str:
        return output_text(self.response.output)

    @property
    def image(self) -> ImageOutput | None:
        """The generated image (bytes, media type, size, URL) for image models."""
        return self.response.image

    @property
    def latency_ms(self) -> float:
        return self.response.latency_ms

    @property
    def prediction_id(self) -> str | None:
        return self.response.metadata.get("prediction_id")

    @property
    def metrics(self) -> dict[str, Any]:
        """Replicate's prediction metrics, e.g. ``predict_time`` and token counts."""
        return dict(self.response.metadata.get("metrics") or {})

    @property
    def raw(self) -> Any:
        """The final prediction JSON as Replicate returned it."""
        return self.response.raw

    def __str__(self) -> str:
        return self.text


def render_prompt(prompt: PromptInput, vars: Mapping[str, Any] | None = None) -> str:
    """The prompt text a provider receives, rendered with ``vars`` as YAML prompts are.

    Chat messages render each ``content`` on its own and become the JSON list the
    providers split into system prompt and prompt, so a value with quotes cannot break it.
    """
    variables = dict(vars or {})
    if isinstance(prompt, str):
        return render(prompt, variables, what="prompt")
    messages = []
    for index, message in enumerate(prompt):
        if not isinstance(message, Mapping) or "content" not in message:
            raise ConfigError(f"a chat message is a mapping with 'role' and 'content', got {message!r}", path=(index,))
        messages.append({key: render(value, variables, what=f"message {index}") if isinstance(value, str) else value
                         for key, value in message.items()})
    return json.dumps(messages, ensure_ascii=False)


def load_suite(path: str | Path) -> list[Case]:
    """The expanded cases of an eval file, in collection order (one per pytest item).

    Parametrize a test over them and run each with ``replicate_session.run_case``.
    """
    return expand(load_eval_file(Path(path)))


def parse_assertions(assertions: AssertionInput, value: Any = None, *, base_dir: Path | None = None) -> list[AssertionSpec]:
    """YAML-shaped assertions from Python values, checked as the loader checks them."""
    if isinstance(assertions, str):
        raw: list[Mapping[str, Any]] = [{"type": assertions, **({"value": value} if value is not None else {})}]
    elif isinstance(assertions, Mapping):
        raw = [assertions]
    else:
        raw = list(assertions)
    folder = base_dir or Path.cwd()

    def load_file(at: Any, reference: str) -> Any:
        raise ConfigError(f"file:// values are read from eval files only, got {reference!r}", path=at)

    specs = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or "type" not in item:
            raise ConfigError(f"an assertion is a mapping with a 'type', got {item!r}", path=(index,))
        specs.append(parse_assertion(dict(item), (index,), base_dir=folder, load_file=load_file))
    return specs


def grade_output(
    output: Any,
    assertions: AssertionInput,
    value: Any = None,
    *,
    vars: Mapping[str, Any] | None = None,
    prompt: str = "",
    threshold: float | None = None,
    response: ProviderResponse | None = None,
    graders: Graders | None = None,
    call_context: CallContext | None = None,
) -> GradingResult:
    """Grade ``output`` (text, data, a :class:`ModelResult` or a :class:`CaseResult`) with promptfoo's scoring rules.

    A ``ModelResult`` brings its prompt, vars and graders, so model-graded checks work on it.
    """
    __tracebackhide__ = True
    try:
        return _grade(output, assertions, value, vars=vars, prompt=prompt, threshold=threshold, response=response,
                      graders=graders, call_context=call_context)
    except ReplicateEvalError as error:  # e.g. an unknown assertion type: a message, not a plugin bug
        raise without_traceback(error) from None


def _grade(output: Any, assertions: AssertionInput, value: Any, *, vars: Mapping[str, Any] | None, prompt: str,
           threshold: float | None, response: ProviderResponse | None, graders: Graders | None,
           call_context: CallContext | None) -> GradingResult:
    if isinstance(output, ModelResult):
        vars = output.vars if vars is None else vars
        graders, call_context = graders or output.graders, call_context or output.call_context
        response, prompt, output = output.response, output.prompt, output.output
    elif isinstance(output, CaseResult):
        vars = output.case.vars if vars is None else vars
        response, prompt, output = output.response, output.prompt or prompt, output.output
    elif isinstance(output, ProviderResponse):
        response, output = output, output.output
    context = AssertionContext(vars=dict(vars or {}), prompt=prompt, base_dir=Path.cwd(), response=response,
                               graders=graders, call_context=call_context)
    return grade(parse_assertions(assertions, value), output, context, threshold)


def assert_output(output: Any, assertions: AssertionInput, value: Any = None, **options: Any) -> GradingResult:
    """``grade_output``, raising ``AssertionError`` with the eval failure report when the output fails.

    The report reads like an eval item's: the reason, then provider, vars, prompt and
    output when known, then each verdict with its score.
    """
    __tracebackhide__ = True
    result = grade_output(output, assertions, value, **options)
    if not result.passed:
        raise AssertionError(_failure_report(output, result, options.get("vars")))
    return result


def without_traceback(error: ReplicateEvalError) -> ReplicateEvalError:
    """The error with its traceback cut: raised again from a frame with ``__tracebackhide__``,
    pytest shows the test's line and the message, not the plugin's frames."""
    return error.with_traceback(None)


def _failure_report(output: Any, grading: GradingResult, vars: Mapping[str, Any] | None) -> str:
    """The report, with tokens hidden: a fixture's result knows the session's, any text hides r8_ ones."""
    if isinstance(output, ModelResult):
        return output.redact(format_report(grading, output.output, provider=output.provider,
                                           vars=output.vars if vars is None else vars, prompt=output.prompt))
    return hide_tokens(_plain_report(output, grading, vars))


def _plain_report(output: Any, grading: GradingResult, vars: Mapping[str, Any] | None) -> str:
    if isinstance(output, CaseResult):
        return format_report(grading, output.output, provider=output.case.provider.id,
                             vars=output.case.vars if vars is None else vars, prompt=output.prompt)
    if isinstance(output, ProviderResponse):
        output = output.output
    return format_report(grading, output, vars=vars)
