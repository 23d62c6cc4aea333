"""A pytest plugin for scripts/promptfoo_diff.py: writes each eval item's verdict to JSON.

Loaded with ``-p pytest_dump`` (the script puts this folder on PYTHONPATH) and told where to
write by the ``PROMPTFOO_DIFF_OUT`` environment variable. One record per item:
``{file, description, prompt, vars, outcome, reason}`` with outcome pass, fail or error
(error: the case could not be graded, or its file did not load).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

_records: list[dict[str, Any]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not hasattr(item, "case"):
        return
    case, result = item.case, getattr(item, "result", None)
    if result is None or result.error is not None:
        verdict, reason = "error", (result.error if result is not None else str(call.excinfo))
    else:
        verdict = "pass" if result.grading.passed else "fail"
        reason = result.grading.reason
    _records.append({
        "file": Path(str(item.path)).name,
        "description": case.test.description,
        "prompt": case.prompt.label,
        "vars": _as_promptfoo_reports(case),
        "outcome": verdict,
        "reason": reason,
    })


def _as_promptfoo_reports(case: Any) -> dict[str, Any]:
    """The case's vars, a code var file (file://x.js, file://x.py) as its reference: promptfoo
    reports those as written."""
    written = case.test.vars
    return {name: written[name].reference if getattr(written.get(name), "get_var", None) else value
            for name, value in case.vars.items()}


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed and report.nodeid:
        _records.append({"file": Path(report.nodeid.split("::")[0]).name, "description": None, "prompt": None,
                         "vars": None, "outcome": "error", "reason": str(report.longrepr)})


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("PROMPTFOO_DIFF_OUT")
    if target:
        Path(target).write_text(json.dumps(_records, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
