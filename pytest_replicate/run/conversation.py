"""promptfoo's ``_conversation`` var: the earlier turns of a multi-turn eval.

A prompt that uses ``_conversation`` sees, for its provider and itself (and the test's
``metadata.conversationId``, when given), every earlier case's ``{prompt, input, output,
metadata}``, in test order, as promptfoo 0.123.1's evaluator keeps them. Such a file's cases run
in order (:attr:`EvalSuite.stores_outputs`), as promptfoo then runs at concurrency 1. A test's
``options.disableConversationVar`` leaves the var out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..providers.base import ProviderResponse
from ..suite.model import Case, uses_conversation

VAR = "_conversation"


def with_conversation(case: Case, variables: Mapping[str, Any]) -> Mapping[str, Any]:
    """``variables`` with the case's conversation so far, when its prompt uses it."""
    if not uses_conversation(case.prompt) or case.test.options.get("disableConversationVar"):
        return variables
    return {**variables, VAR: list(case.suite.conversations.get(_key(case), ()))}


def remember_turn(case: Case, rendered: str, response: ProviderResponse) -> None:
    """Add the case's turn to its conversation, for the cases after it."""
    if not uses_conversation(case.prompt):
        return
    try:
        parsed: Any = json.loads(rendered)
    except ValueError:
        parsed = None
    last = parsed[-1] if isinstance(parsed, list) and parsed else None
    last_input = last.get("content") or last if isinstance(last, dict) else last
    case.suite.conversations.setdefault(_key(case), []).append({
        "prompt": parsed or rendered,
        "input": last_input or parsed or rendered,
        "output": response.output or "",
        "metadata": dict(response.metadata),
    })


def _key(case: Case) -> tuple[str, str, str, str]:
    """promptfoo's conversation key: the provider, the prompt and the test's conversationId."""
    return (case.provider.label or case.provider.id, case.prompt.label, case.prompt.raw,
            json.dumps(case.test.metadata.get("conversationId")))
