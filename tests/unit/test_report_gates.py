"""The baseline comparison, the gates and the JSON file, on report documents built by hand."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from pytest_replicate.report.baseline import compare
from pytest_replicate.report.gates import judge
from pytest_replicate.report.json_report import write_json
from pytest_replicate.report.model import build_report

RUN = {"record_mode": "none", "exchanges": {"replayed": 0, "recorded": 0, "missed": 0}}


def case(name: str, *, passed: bool = True, score: float | None = None, output: Any = "out",
         file: str = "a.eval.yaml", outcome: str | None = None) -> dict[str, Any]:
    return {
        "nodeid": f"{file}::{name}", "outcome": outcome or ("passed" if passed else "failed"), "passed": passed,
        "file": file, "test": f"{file}:3", "description": name, "vars": {"name": name}, "prompt_label": "p",
        "provider_label": "echo", "provider": "echo", "error": None, "named_scores": {}, "live": False,
        "latency_ms": None, "cost": None, "replayed": 0, "recorded": 0, "missed": 0, "output": output,
        "score": (1.0 if passed else 0.0) if score is None else score, "image": None,
    }


def document(*cases: dict[str, Any], bars: dict[str, float] | None = None) -> dict[str, Any]:
    return build_report(list(cases), run=RUN, min_pass_rates=bars)


def test_a_skipped_case_has_no_verdict_to_flip() -> None:
    now = document(case("a", passed=False, outcome="skipped"))
    compare(now, document(case("a")), source="old.json", complete=True)
    assert now["files"][0]["cases"][0]["comparison"]["verdict"] is None


def test_score_noise_is_no_change() -> None:
    now = document(case("a", score=0.1 + 0.2))
    compare(now, document(case("a", score=0.3)), source="old.json", complete=True)
    assert now["files"][0]["cases"][0]["comparison"]["status"] == "unchanged"
    assert now["comparison"]["counts"]["score_changed"] == 0


def test_gone_counts_only_files_that_ran() -> None:
    now = document(case("a"))
    compare(now, document(case("a"), case("b"), case("x", file="other.eval.yaml")), source="old.json", complete=True)
    assert now["comparison"]["gone"] == ["a.eval.yaml::b"]
    assert now["comparison"]["files"] == {"a.eval.yaml": {"pass_to_fail": 0, "fail_to_pass": 0, "score_changed": 0,
                                                          "output_changed": 0, "new": 0, "gone": 1}}


def test_no_gate_without_a_bar_or_regression_check() -> None:
    assert judge(document(case("a", passed=False)), fail_on_regression=False, complete=True) is None


def test_the_reason_shows_enough_digits_to_tell_rate_and_bar_apart() -> None:
    cases = [case(str(n), passed=n < 179) for n in range(200)]  # 0.895
    assert judge(document(*cases, bars={"a.eval.yaml": 0.9}), fail_on_regression=False, complete=True) == {
        "failed": True, "reasons": ["a.eval.yaml: pass rate 0.895 (179 of 200 cases) is below 0.900"], "notes": []}


def test_many_regressions_are_summed_up() -> None:
    now = document(*(case(str(n), passed=False) for n in range(7)))
    compare(now, document(*(case(str(n)) for n in range(7))), source="old.json", complete=True)
    (reason,) = judge(now, fail_on_regression=True, complete=True)["reasons"]
    assert reason == ("7 cases passed in the baseline and fail now: a.eval.yaml::0, a.eval.yaml::1, a.eval.yaml::2, "
                      "a.eval.yaml::3, a.eval.yaml::4 and 2 more")


def test_images_are_referenced_relative_to_the_json_file(tmp_path: Path) -> None:
    image = tmp_path / "out" / "report-images" / "abc.png"
    drawn = {**case("a"), "image": {"url": None, "media_type": "image/png", "width": 1, "height": 1, "bytes": 3,
                                    "path": str(image)}}
    report = document(drawn)
    write_json(report, tmp_path / "out" / "report.json")
    written = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert written["files"][0]["cases"][0]["image"]["path"] == "report-images/abc.png"
    assert report["files"][0]["cases"][0]["image"]["path"] == str(image)  # the document itself is left as it was


def test_a_failed_write_leaves_the_old_report_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.json"
    path.write_text("old", encoding="utf-8")

    def fail(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_json(document(case("a")), path)
    assert path.read_text(encoding="utf-8") == "old" and [p.name for p in tmp_path.iterdir()] == ["report.json"]
