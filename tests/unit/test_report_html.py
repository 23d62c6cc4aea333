"""The HTML report from hand-made documents: escaping, images, the baseline comparison, the gate,
repeated cases and drift."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from helpers import png

from pytest_replicate.report.html import render_html, write_html
from pytest_replicate.report.model import build_report

HOSTILE = '</script><script>alert("pwned")</script><img src=x onerror=alert(1)>'


def case(word: str, *, prompt: str = "polite", provider: str = "echo", passed: bool = True,
         error: str | None = None, output: Any = None, image: dict[str, Any] | None = None,
         comparison: dict[str, Any] | None = None, repeat: dict[str, Any] | None = None,
         samples: list[dict[str, Any]] | None = None, drift: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "nodeid": f"a.eval.yaml::{word}[{prompt}-{provider}]", "outcome": "passed" if passed else "failed",
        "file": "a.eval.yaml", "test": "a.eval.yaml:5", "description": f"says {word}", "vars": {"word": word},
        "prompt_label": prompt, "provider_label": provider, "provider": "echo", "prompt": f"Say {word}",
        "output": f"Said {word}" if output is None else output, "image": image, "passed": passed,
        "score": 1.0 if passed else 0.0, "reason": "All assertions passed" if passed else f"Expected {word}",
        "named_scores": {"tone": 1.0 if passed else 0.0},
        "assertions": [{"type": "contains", "value": word, "passed": passed, "score": 1.0 if passed else 0.0,
                        "reason": "ok" if passed else f"Expected {word}", "weight": 1, "metric": "tone", "children": []}],
        "latency_ms": None, "cost": None, "prediction_id": None, "cassette": None, "live": False,
        "replayed": 1, "recorded": 0, "missed": 0, "error": error, "duration": 0.0,
        "repeat": repeat, "samples": samples or [], "drift": drift,
        **({"comparison": comparison} if comparison else {}),
    }


def sample(index: int, passed: bool, score: float, output: Any = None) -> dict[str, Any]:
    return {"index": index, "passed": passed, "score": score, "reason": "ok" if passed else f"sample {index} missed",
            "output": f"sample {index} said" if output is None else output, "error": None, "assertions": [],
            "latency_ms": 10.0, "cost": None, "prediction_id": None, "duration": 0.1}


def repeat(passed: int, ran: int, *, flaky: bool) -> dict[str, Any]:
    return {"count": ran, "ran": ran, "passed": passed, "reducer": {"name": "at_least", "k": 3, "threshold": None},
            "mean_score": 0.62, "interval": [0.23, 0.88], "flaky": flaky}


def drift(verdict: str | None, *, output_changed: bool, diff: str | None = None) -> dict[str, Any]:
    return {"output_changed": output_changed, "verdict": verdict, "diff": diff,
            "replayed": {"passed": verdict != "fail→pass", "score": 1.0, "output": "the old answer", "error": None},
            "updated": False}


def document(*results: dict[str, Any]) -> dict[str, Any]:
    return build_report(list(results), run={"record_mode": "none",
                                            "exchanges": {"replayed": len(results), "recorded": 0, "missed": 0}})


def blob(page: str) -> dict[str, Any]:
    """The cases' JSON embedded in the page, as the page's script reads it."""
    match = re.search(r'<script type="application/json" id="cases">(.*?)</script>', page, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_hostile_text_is_escaped_everywhere() -> None:
    page = render_html(document(case(HOSTILE, output=HOSTILE, passed=False)))
    assert "<script>alert" not in page and "<img src=x" not in page and "</script><script>" not in page
    assert page.count("<script") == 2  # the cases' JSON and the page's own script, nothing from the data
    assert "&lt;/script&gt;&lt;script&gt;alert(&#34;pwned&#34;)" in page  # shown as text in the table
    assert blob(page)["files"][0]["cases"][0]["output"] == HOSTILE  # and whole, as data, on expand


def test_the_page_needs_no_network() -> None:
    page = render_html(document(case("hi")))
    assert "default-src 'none'; img-src data:" in page  # its Content-Security-Policy forbids any request
    assert not re.search(r'(src|href)="(?!data:)', page)


def test_a_saved_image_is_embedded_and_a_missing_one_is_said(tmp_path: Path) -> None:
    saved = tmp_path / "image.png"
    saved.write_bytes(png())
    image = {"url": "https://replicate.delivery/x.png", "media_type": "image/png", "path": str(saved)}
    page = render_html(document(case("drawn", image=image), case("lost", image={**image, "path": str(tmp_path / "gone.png")}),
                                case("vector", image={**image, "media_type": "image/svg+xml"})))
    assert page.count('src="data:image/png;base64,') == 1 and "replicate.delivery" not in page
    assert page.count("(image file not found)") == 2  # a vector image is not embedded either: it could hold a script


def test_cells_rows_and_figures() -> None:
    long = "word " * 200
    page = render_html(document(case("hi"), case("hi", provider="other", passed=False), case("bye", output=long),
                                case("bye", provider="other", passed=False, error="the model timed out")))
    assert page.count('data-case="') == 4
    assert re.search(r'class="line row has-fail"[^>]*data-row="0"', page)
    assert re.search(r'class="line row has-error"[^>]*data-row="1"', page)
    assert "word " * 50 in page and long not in page.split('<script type="application/json"')[0]  # clipped in the table
    assert "the model timed out" in page and "50.0%" in page
    assert 'data-filter="changed"' not in page  # no baseline, no "changed" filter


def test_comparison_and_gate_are_shown() -> None:
    report = document(
        case("hi", passed=False, comparison={"status": "changed", "verdict": "pass→fail", "baseline_score": 1.0,
                                             "score_delta": -1.0, "output_changed": True}),
        case("new", comparison={"status": "new", "verdict": None, "baseline_score": None, "score_delta": None,
                                "output_changed": False}),
        case("same", comparison={"status": "unchanged", "verdict": None, "baseline_score": 1.0, "score_delta": 0.0,
                                 "output_changed": False}))
    report["comparison"] = {"baseline": "baseline.json", "counts": {"regressions": 1, "new": 1, "unchanged": 1},
                            "files": {"a.eval.yaml": {"regressions": 1}},
                            "regressions": [{"nodeid": "a.eval.yaml::hi[polite-echo]", "verdict": "pass→fail"}],
                            "gone": ["a.eval.yaml::old[polite-echo]"]}
    report["gate"] = {"failed": True, "reasons": ["1 regression since baseline.json <b>"]}
    page = render_html(report)
    assert 'data-filter="changed"' in page and "baseline.json" in page
    assert re.search(r'class="line row has-fail has-changed"[^>]*data-row="0"', page)
    assert re.search(r'class="line row all-pass has-changed"[^>]*data-row="1"', page)
    assert re.search(r'class="line row all-pass"[^>]*data-row="2"', page)
    assert "pass→fail" in page and "Δ -1.00" in page and "output changed" in page
    assert "a.eval.yaml::hi[polite-echo]" in page and "a.eval.yaml::old[polite-echo]" in page
    assert "Gate failed" in page and "since baseline.json &lt;b&gt;" in page


def test_written_whole_with_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    write_html(document(case("hi")), target)
    write_html(document(case("bye")), target)  # replaces the earlier one
    assert "says bye" in target.read_text(encoding="utf-8") and os.listdir(target.parent) == ["report.html"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_repeated_case_shows_its_samples_and_a_flaky_one_is_filtered() -> None:
    long = "x" * 5000
    samples = [sample(1, True, 1.0), sample(2, False, 0.1, output=long), sample(3, True, 0.9),
               sample(4, False, 0.2), sample(5, True, 0.9)]
    report = document(case("hi", repeat=repeat(3, 5, flaky=True), samples=samples),
                      case("bye", repeat=repeat(5, 5, flaky=False), samples=[sample(i, True, 1.0) for i in range(1, 6)]),
                      case("plain"))
    report["files"][0]["columns"][0]["figures"]["samples"] = {"count": 10, "passed": 8, "mean_score": 0.81,
                                                               "interval": [0.49, 0.94], "flaky": 1}
    page = render_html(report)
    assert "3/5 · mean 0.62 · 95% 0.23–0.88" in page and "5/5 · mean 0.62" in page
    assert page.count('<span class="badge flaky" title="some samples') == 1
    assert 'data-filter="flaky"' in page and 'data-filter="drifted"' not in page
    assert re.search(r'class="line row all-pass has-flaky"[^>]*data-row="0"', page)
    assert re.search(r'class="line row all-pass"[^>]*data-row="1"', page)
    assert "samples <b>8/10</b> · mean 0.81 · 95% 0.49–0.94" in page and "1 flaky" in page  # the column's figures
    cases = blob(page)["files"][0]["cases"]
    assert [item["index"] for item in cases[0]["samples"]] == [1, 2, 3, 4, 5]
    assert cases[0]["samples"][1]["reason"] == "sample 2 missed" and cases[0]["repeat"]["flaky"] is True
    assert len(cases[0]["samples"][1]["output"]) < 2001 and long not in page  # a sample's output is clipped
    assert cases[2]["samples"] == [] and cases[2]["repeat"] is None


def test_a_plain_run_has_no_flaky_or_drifted_filter() -> None:
    old = case("hi")
    del old["repeat"], old["samples"], old["drift"]  # a document from before these keys still renders
    page = render_html(document(old, case("bye")))
    assert 'data-filter="flaky"' not in page and 'data-filter="drifted"' not in page
    assert not re.search(r'class="line row[^"]*has-(flaky|drift)', page) and "samples <b>" not in page


def test_drift_is_shown_and_its_diff_escaped() -> None:
    diff = f"- the old answer\n+ {HOSTILE}"
    report = document(case("hi", passed=False, output=HOSTILE,
                           drift=drift("pass→fail", output_changed=True, diff=diff)),
                      case("same", drift=drift(None, output_changed=False)),
                      case("fixed", provider="other", drift=drift("fail→pass", output_changed=False)))
    page = render_html(report)
    assert "drift: pass→fail" in page and "drift: fail→pass" in page and "output changed" in page
    assert 'data-filter="drifted"' in page and 'data-filter="flaky"' not in page
    assert re.search(r'class="line row has-fail has-drift"[^>]*data-row="0"', page)
    assert re.search(r'class="line row all-pass"[^>]*data-row="1"', page)  # held: no change, not drifted
    assert re.search(r'class="line row all-pass has-drift"[^>]*data-row="2"', page)
    assert "<script>alert" not in page and "<img src=x" not in page and page.count("<script") == 2
    cases = blob(page)["files"][0]["cases"]
    assert cases[0]["drift"]["diff"] == diff  # whole, as data: the page writes it as text
    assert cases[0]["drift"]["replayed"] == {"passed": True, "score": 1.0, "output": "the old answer", "error": None}
    assert cases[1]["drift"]["verdict"] is None


def test_stale_cassettes_are_listed() -> None:
    report = document(case("hi"))
    report["stale"] = {"unused": ["cassettes/a.eval/old.1234abcd.yaml"], "pruned": [],
                       "unplayed": {"cassettes/a.eval/hi.5678abcd.yaml": [0, 2]}}
    page = render_html(report)
    assert "Stale cassettes" in page and "cassettes/a.eval/old.1234abcd.yaml" in page
    assert "cassettes/a.eval/hi.5678abcd.yaml</code>: interactions 0, 2" in page
    assert "Stale cassettes" not in render_html(document(case("hi")))
