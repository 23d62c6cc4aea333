"""Whether the run meets its bars: each eval file's pass rate, and no regression against the
baseline. Failing cases alone do not fail a gated file; the session fails when a bar is missed."""

from __future__ import annotations

from typing import Any

_LISTED = 5  # regressions named in the reason; the document lists them all


def judge(document: dict[str, Any], *, fail_on_regression: bool, complete: bool) -> dict[str, Any] | None:
    """``{"failed", "reasons", "notes"}``, or None when no file has a bar and regressions do not count.

    A pass rate says something only over all of a file's cases: on a run of some of them
    (``complete`` false: ``-k``, ``--lf``, ``-x``...) the bars are not judged, and pytest's own
    verdict stands. Regressions are judged on any run: each is one case.
    """
    barred = [file for file in document["files"] if file["min_pass_rate"] is not None]
    if not barred and not fail_on_regression:
        return None
    notes = []
    if barred and not complete:
        notes.append("pass-rate bars not judged: not every collected test ran, so a file's rate would be "
                     "that of the cases that did")
        barred = []
    reasons = [_below_bar(file) for file in barred if file["below_bar"]]
    comparison = document["comparison"]
    regressions = comparison["regressions"] if fail_on_regression and comparison else []
    if regressions:
        named = ", ".join(regressions[:_LISTED]) + (f" and {len(regressions) - _LISTED} more"
                                                     if len(regressions) > _LISTED else "")
        reasons.append(f"{len(regressions)} case{'s' if len(regressions) > 1 else ''} passed in the baseline "
                       f"and fail{'' if len(regressions) > 1 else 's'} now: {named}")
    return {"failed": bool(reasons), "reasons": reasons, "notes": notes}


def _below_bar(file: dict[str, Any]) -> str:
    figures, bar = file["figures"], file["min_pass_rate"]
    rate = figures["pass_rate"]
    graded = figures["cases"] - figures["skipped"]
    # Enough digits that the rate and the bar read differently (0.895 is below 0.9).
    digits = next((d for d in range(2, 7) if f"{rate:.{d}f}" != f"{bar:.{d}f}"), 6)
    return (f"{file['file']}: pass rate {rate:.{digits}f} ({figures['passed']} of {graded} cases) "
            f"is below {bar:.{digits}f}")
