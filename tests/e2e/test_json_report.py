"""--replicate-json: every case of the run in a file that follows the shipped schema, images
beside it, the same document under pytest-xdist, no secret in anything it writes; and the
JUnit properties of eval items."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from pytest_replicate.report.json_report import report_schema

SDXL = "replicate:image:stability-ai/sdxl:7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"

MATRIX = """\
prompts: [{id: polite, raw: 'Please say {{ word }}'}, {id: terse, raw: '{{ word }}'}]
providers: [echo, {id: echo, label: loud, transform: output.toUpperCase()}]
tests:
  - description: greets
    vars: {word: hello}
    assert: [{type: icontains, value: hello, metric: greeting}]
  - description: says bye
    vars: {word: bye}
    assert: [{type: contains, value: bye}]
"""

IMAGES = f"""\
prompts: ['Draw {{{{ subject }}}}']
providers: [{{id: '{SDXL}', config: {{width: 64, height: 64}}}}]
tests:
  - vars: {{subject: a cat}}
    assert: [{{type: is-image, value: {{width: 64}}}}]
"""


def read_report(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    validator = Draft202012Validator(report_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]
    assert not errors, errors
    return document


def test_the_report_follows_its_schema_with_every_case_and_images_beside_it(pytester, write_eval, replicate_env):
    write_eval(MATRIX, name="evals/matrix.eval.yaml")
    write_eval(IMAGES, name="evals/images.eval.yaml")
    result = pytester.runpytest("--replicate-json=out/report.json")
    result.assert_outcomes(passed=7, failed=2)  # "loud" upper-cases: contains 'bye' fails
    result.stdout.fnmatch_lines(["*- replicate reports -*", "JSON report: file://*/out/report.json"])
    document = read_report(pytester.path / "out/report.json")
    assert document["schema_version"] == 1 and document["generator"].startswith("pytest-replicate ")
    images, matrix = document["files"]
    assert (images["file"], matrix["file"]) == ("evals/images.eval.yaml", "evals/matrix.eval.yaml")
    assert [(c["prompt"], c["provider_label"]) for c in matrix["columns"]] == [
        ("polite", "echo"), ("polite", "loud"), ("terse", "echo"), ("terse", "loud")]
    assert [row["vars"] for row in matrix["rows"]] == [{"word": "hello"}, {"word": "bye"}]
    assert matrix["figures"]["pass_rate"] == 0.75 and matrix["columns"][1]["figures"]["passed"] == 1
    assert matrix["figures"]["metrics"] == {"greeting": {"mean": 1.0, "count": 4}}
    passing = matrix["cases"][0]
    assert passing["passed"] and passing["prompt"] == "Please say hello" and passing["output"] == "Please say hello"
    assert passing["assertions"][0]["passed"] and passing["assertions"][0]["metric"] == "greeting"
    assert passing["cassette"].endswith(".yaml") and passing["live"] is False
    failing = matrix["cases"][matrix["rows"][1]["cells"][1]]
    assert failing["output"] == "PLEASE SAY BYE" and not failing["passed"] and failing["outcome"] == "failed"
    (drawn,) = images["cases"]
    assert drawn["live"] and drawn["prediction_id"] and drawn["latency_ms"] is not None
    image = drawn["image"]
    assert not Path(image["path"]).is_absolute() and image["path"].startswith("report-images/")
    saved = pytester.path / "out" / image["path"]
    assert saved.read_bytes().startswith(b"\x89PNG") and saved.stat().st_size == image["bytes"]
    assert document["comparison"] is None and document["gate"] is None
    assert not list((pytester.path / "out").glob(".*.part"))  # nothing half-written left behind


def test_a_report_that_cannot_be_written_is_one_error(pytester, write_eval):
    write_eval(MATRIX)
    (pytester.path / "taken.json").mkdir()
    result = pytester.runpytest("--replicate-json=taken.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["ERROR: --replicate-json=taken.json: cannot write the report (Is a directory)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The document without what depends on timing or on how the work was spread."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items()
                    if key not in ("created", "duration", "latency_ms", "peak_concurrency")}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(document)


def test_the_report_is_the_same_under_xdist(pytester, write_eval):
    pytest.importorskip("xdist")
    write_eval(MATRIX, name="a.eval.yaml")
    write_eval(MATRIX.replace("hello", "hi"), name="b.eval.yaml")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.runpytest("--replicate-json=plain.json", "--replicate-min-pass-rate=0.4")
    result = pytester.runpytest("-p", "xdist", "-n", "2", "--replicate-json=xdist.json",
                                "--replicate-min-pass-rate=0.4")
    assert result.ret == 0
    plain, distributed = read_report(pytester.path / "plain.json"), read_report(pytester.path / "xdist.json")
    assert len(plain["files"]) == 2 and plain["gate"] == {"failed": False, "reasons": [], "notes": []}
    assert comparable(plain) == comparable(distributed)


CANARY = "r8_test_canary_5f2c9e1d7a3b4c6e8f0a"


def test_no_token_reaches_any_file_the_reports_write(pytester, write_eval, replicate_env, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", CANARY)
    write_eval(f"""\
        prompts: ['Repeat after me: {{{{ secret }}}}']
        providers: [replicate:meta/llama-2-7b-chat]
        tests:
          - vars: {{secret: '{CANARY}'}}
            assert: [{{type: contains, value: '{CANARY}'}}]
        """, name="text.eval.yaml")
    write_eval(IMAGES.replace("a cat", f"a cat holding {CANARY}"), name="images.eval.yaml")
    result = pytester.runpytest("--replicate-json=out/report.json", "--replicate-html=out/report.html",
                                "--junitxml=out/junit.xml")
    assert result.ret in (0, 1)
    written = [path for path in (pytester.path / "out").rglob("*") if path.is_file()]
    assert {path.suffix for path in written} >= {".json", ".html", ".png", ".xml"}
    leaks = [str(path) for path in written if CANARY.encode() in path.read_bytes()]
    assert not leaks
    document = read_report(pytester.path / "out/report.json")
    assert len(document["files"]) == 2 and all(f["cases"][0]["live"] for f in document["files"])
    text = next(f["cases"][0] for f in document["files"] if f["file"] == "text.eval.yaml")
    assert text["prompt"] == "Repeat after me: <REDACTED>" and text["vars"] == {"secret": "<REDACTED>"}


def junit_properties(path: Path) -> dict[str, dict[str, str]]:
    tree = ET.parse(path)
    return {case.get("name"): {prop.get("name"): prop.get("value") for prop in case.iter("property")}
            for case in tree.iter("testcase")}


@pytest.mark.parametrize("args", [(), ("-p", "xdist", "-n", "2")], ids=["plain", "xdist"])
def test_junit_xml_carries_each_eval_case_figures(pytester, write_eval, args):
    if args:
        pytest.importorskip("xdist")
    write_eval("""\
        prompts: ['{{ word }}']
        providers: [echo]
        tests:
          - description: short
            vars: {word: hello}
          - description: long
            vars: {word: "%s"}
            assert: [{type: equals, value: nope}]
        """ % ("x" * 500))
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.runpytest("--junitxml=junit.xml", *args).assert_outcomes(passed=2, failed=1)
    properties = junit_properties(pytester.path / "junit.xml")
    assert properties["short[{{ word }}-echo]"] == {
        "provider": "echo", "prompt": "{{ word }}", "score": "1.0", "latency_ms": "0.0", "cost": "0.0",
        "output": "hello"}
    long = properties["long[{{ word }}-echo]"]
    assert long["score"] == "0.0" and long["output"] == "x" * 199 + "…"
    assert properties["test_plain"] == {}
