"""Our checks give promptfoo 0.123.1's verdicts on the cases in ``promptfoo_verdicts/``.

Each case's ``promptfoo`` entry was recorded by running promptfoo's own ``runAssertion`` on
it (scripts/record_promptfoo_verdicts.py). A case we decide differently on purpose carries
``ours`` (our verdict) and ``why``; the README lists those differences.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_replicate.api import parse_assertions
from pytest_replicate.assertions.base import AssertionContext
from pytest_replicate.assertions.scoring import grade
from pytest_replicate.errors import ReplicateEvalError
from pytest_replicate.providers.base import ProviderResponse

CASES = Path(__file__).parent / "promptfoo_verdicts"


def _cases() -> list[Any]:
    found = []
    for path in sorted(CASES.glob("*.json")):
        for number, case in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            found.append(pytest.param(case, id=f"{path.stem}-{number}-{case['type']}"))
    return found


@pytest.mark.parametrize("case", _cases())
def test_verdict_matches_promptfoo(case: dict[str, Any]) -> None:
    expected = case.get("ours", case["promptfoo"])
    assertion = {key: case[key] for key in ("type", "value") if key in case}
    response = ProviderResponse(output=case["output"], finish_reason=case.get("finishReason"))
    context = AssertionContext(vars={}, prompt="p", base_dir=Path.cwd(), response=response,
                               provider_config=case.get("config", {}))
    if "error" in expected:  # promptfoo throws; we refuse the value, at collection when we can
        with pytest.raises(ReplicateEvalError):
            grade(parse_assertions([assertion]), case["output"], context)
        return
    result = grade(parse_assertions([assertion]), case["output"], context)
    assert result.passed is expected["pass"], result.children[0].reason
