"""conversation-relevance against promptfoo 0.123.1's own verdicts, with a scripted grader.

Each case's verdict (pass, score, reason, grader calls) was printed by promptfoo's
``assertions.runAssertion`` given the same conversation and the same grader answers in turn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_replicate.assertions.base import AssertionContext
from pytest_replicate.assertions.registry import ASSERTION_TYPES
from pytest_replicate.assertions.spec import AssertionSpec
from pytest_replicate.providers.base import CallContext, Provider, ProviderResponse

YES, NO = '{"verdict":"yes"}', '{"verdict":"no","reason":"off topic"}'
TWO = [{"input": "a", "output": "b"}, {"input": "c", "output": "d"}]
THREE = TWO + [{"input": "e", "output": "f"}]

CASES = [  # (name, negate, threshold, conversation, grader answers, promptfoo's pass, score, reason)
    ("all yes", False, None, TWO, [YES, YES], True, 1.0, "2 out of 2 conversation windows were relevant"),
    ("one no", False, 0.8, THREE, [YES, NO, YES, '{"reason":"The score is x because y"}'],
     False, 2 / 3, "The score is x because y"),
    ("one no without a reason", False, 0.8, TWO, [YES, '{"verdict":"no"}'],
     False, 0.5, "1 out of 2 conversation windows were relevant"),
    ("negated", True, 0.8, TWO, [YES, NO, "no json"], True, 0.5, "1 out of 2 conversation windows were relevant"),
    ("a verdict that is not yes or no", False, None, TWO[:1], ['{"verdict":"Yes"}'],
     False, 0.0, "Error parsing output: Conversation relevance grader returned an invalid verdict"),
    ("no JSON, negated", True, None, TWO[:1], ["nothing"], False, 0.0,
     "Error parsing output: No JSON object found in response"),
    ("the case's own exchange", False, None, None, [YES], True, 1.0, "1 out of 1 conversation windows were relevant"),
]


class ScriptedGrader(Provider):
    def __init__(self, answers: list[str]) -> None:
        super().__init__("scripted")
        self.answers, self.prompts = list(answers), []

    def call(self, prompt, context):
        self.prompts.append(prompt)
        return ProviderResponse(output=self.answers.pop(0))


class Graders:
    def __init__(self, grader: Provider) -> None:
        self.provider = grader

    def grader(self, purpose, override=None):
        return self.provider


@pytest.mark.parametrize(("name", "negate", "threshold", "conversation", "answers", "passed", "score", "reason"),
                         CASES, ids=[case[0] for case in CASES])
def test_verdicts_are_promptfoos(name, negate, threshold, conversation, answers, passed, score, reason):
    grader = ScriptedGrader(answers)
    context = AssertionContext(vars={"_conversation": conversation} if conversation else {}, prompt="the prompt",
                               base_dir=Path.cwd(), graders=Graders(grader), call_context=CallContext())
    spec = AssertionSpec("conversation-relevance", negate=negate, threshold=threshold)
    verdict = ASSERTION_TYPES["conversation-relevance"].check("the output", None, spec, context)
    assert (verdict.passed, verdict.score, verdict.reason.split("; the grader answered")[0]) == pytest.approx(
        (passed, score, reason))
    assert grader.answers == []  # as many grader calls as promptfoo made
    if conversation is None:
        assert '"content": "the prompt"' in grader.prompts[0] and '"content": "the output"' in grader.prompts[0]


def test_windows_hold_the_turns_before_each_reply():
    grader = ScriptedGrader([YES] * 3)
    context = AssertionContext(vars={"_conversation": THREE}, prompt="p", base_dir=Path.cwd(),
                               graders=Graders(grader), call_context=CallContext())
    spec = AssertionSpec("conversation-relevance", config={"windowSize": 2})
    ASSERTION_TYPES["conversation-relevance"].check("o", None, spec, context)
    contents = [[c for c in "abcdef" if f'"content": "{c}"' in prompt] for prompt in grader.prompts]
    assert contents == [["a", "b"], ["a", "b", "c", "d"], ["c", "d", "e", "f"]]
