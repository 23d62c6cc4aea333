"""select-best siblings are the collected items' own cases: one expansion per file, the same node ids.

The echo provider is the model; the grader is the simulator's (an echo grader would only
repeat its prompt, which is no verdict), and it chooses one output of the six.
"""

from __future__ import annotations

import pytest
from helpers import FAKE_TOKEN, write

from pytest_replicate.pytest.items import EvalItem
from pytest_replicate.pytest.state import eval_session

# 3 prompts x 2 providers x 1 test: six items, one row of six siblings.
SIX_SIBLINGS = """\
prompts:
  - {id: a, raw: 'A {{ ctx }}'}
  - {id: b, raw: 'B {{ ctx }}'}
  - {id: c, raw: 'C {{ ctx }}'}
providers: [echo, {id: echo, label: again}]
tests:
  - vars: {%s}
    assert: [{type: select-best, value: the first}]
"""


def test_a_select_best_file_is_expanded_once(pytester: pytest.Pytester, write_eval, replicate_env) -> None:
    write(pytester, "count.py", """
        from pathlib import Path

        def get_var(var_name, prompt, other_vars):
            with open(Path(__file__).with_name("calls.txt"), "a") as calls:
                calls.write(prompt + "\\n")
            return {"output": "ctx"}
        """)
    write_eval(SIX_SIBLINGS % "ctx: file://count.py")
    result = pytester.runpytest("-v", "--replicate-concurrency=1", "--record-mode=all")
    result.assert_outcomes(passed=1, failed=5)  # the grader chose one output of the six
    calls = (pytester.path / "calls.txt").read_text().splitlines()
    # get_var runs per case while the file is collected, and never again for the siblings.
    assert len(calls) == 6, calls


def test_siblings_have_the_items_node_ids_with_a_secret_in_vars(pytester: pytest.Pytester, write_eval,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    write_eval(SIX_SIBLINGS % f"ctx: x, key: {FAKE_TOKEN}")
    items, _ = pytester.inline_genitems()
    evals = [item for item in items if isinstance(item, EvalItem)]
    assert len(evals) == 6 and not [item.nodeid for item in evals if FAKE_TOKEN in item.nodeid]
    select_best = eval_session(evals[0].config).select_best
    for item in evals:
        assert [nodeid for _, nodeid in select_best.siblings(item.case, item.nodeid)] == [i.nodeid for i in evals]
