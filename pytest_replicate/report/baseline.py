"""This run against an earlier one (``--replicate-baseline``, a JSON report of that run).

Cases are matched by node id, which stays the same when cases are added or removed around
them. Each case gets a ``comparison`` (verdict flip, score change, output change, or new)
and the document one with the counts, per file and in all, the regressions and the cases
that are gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .json_report import report_schema
from .model import SCHEMA_VERSION, CaseData

PASS_TO_FAIL, FAIL_TO_PASS = "pass→fail", "fail→pass"
COUNTS = ("pass_to_fail", "fail_to_pass", "score_changed", "output_changed", "new", "gone")
_SCORE_TOLERANCE = 1e-9  # sums of weighted scores differ in the last bits between runs


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why (the caller adds the fix)."""


def load_baseline(path: Path) -> dict[str, Any]:
    """The report document in ``path``, checked against the report schema."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError("does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise BaselineError(f"cannot be read ({error})") from None
    except json.JSONDecodeError as error:
        raise BaselineError(f"is not JSON (line {error.lineno}: {error.msg})") from None
    version = document.get("schema_version") if isinstance(document, dict) else None
    if version != SCHEMA_VERSION:
        raise BaselineError(f"has schema_version {version!r}, this plugin reads {SCHEMA_VERSION}")
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    mismatch = best_match(Draft202012Validator(report_schema()).iter_errors(document))
    if mismatch is not None:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in mismatch.absolute_path)
        raise BaselineError(f"is not a pytest-replicate JSON report (at {where.lstrip('.') or 'the top'}: "
                            f"{mismatch.message})")
    return document


def compare(document: dict[str, Any], baseline: dict[str, Any], *, source: str, complete: bool) -> None:
    """Annotate ``document`` in place. Gone cases only for a ``complete`` run: in a run narrowed
    by ``-k``, node ids or ``--lf``, or stopped early, a case that did not run is not gone."""
    before = {case["nodeid"]: case for file in baseline["files"] for case in file["cases"]}
    per_file: dict[str, dict[str, int]] = {}
    regressions: list[str] = []
    now: set[str] = set()
    for file in document["files"]:
        counts = per_file[file["file"]] = dict.fromkeys(COUNTS, 0)
        for case in file["cases"]:
            now.add(case["nodeid"])
            change = case["comparison"] = _case_change(case, before.get(case["nodeid"]))
            counts["new"] += change["status"] == "new"
            counts["pass_to_fail"] += change["verdict"] == PASS_TO_FAIL
            counts["fail_to_pass"] += change["verdict"] == FAIL_TO_PASS
            counts["score_changed"] += _score_changed(change["score_delta"])
            counts["output_changed"] += change["output_changed"]
            if change["verdict"] == PASS_TO_FAIL:
                regressions.append(case["nodeid"])
    gone = []
    if complete:
        for file in baseline["files"]:
            if file["file"] in per_file:  # a file that ran now
                missing = [case["nodeid"] for case in file["cases"] if case["nodeid"] not in now]
                per_file[file["file"]]["gone"] += len(missing)
                gone.extend(missing)
    document["comparison"] = {
        "baseline": source,
        "counts": {key: sum(counts[key] for counts in per_file.values()) for key in COUNTS},
        "files": per_file,
        "regressions": regressions,
        "gone": gone,
    }


def _case_change(case: CaseData, before: CaseData | None) -> dict[str, Any]:
    if before is None:
        return {"status": "new", "verdict": None, "baseline_score": None, "score_delta": None,
                "output_changed": False}
    was, now = _verdict(before), _verdict(case)
    verdict = None if was is None or now is None or was == now else (PASS_TO_FAIL if was else FAIL_TO_PASS)
    old, new = before["score"], case["score"]
    delta = new - old if old is not None and new is not None else None
    output_changed = case["output"] != before["output"]
    changed = verdict is not None or _score_changed(delta) or output_changed
    return {"status": "changed" if changed else "unchanged", "verdict": verdict, "baseline_score": old,
            "score_delta": delta, "output_changed": output_changed}


def _score_changed(delta: float | None) -> bool:
    """A score moved (one missing, as for a case that errs now, is a verdict's business)."""
    return delta is not None and abs(delta) > _SCORE_TOLERANCE


def _verdict(case: CaseData) -> bool | None:
    """Passed or not; None for a skipped case, which has no verdict to flip."""
    return None if case["outcome"] == "skipped" else bool(case["passed"])
