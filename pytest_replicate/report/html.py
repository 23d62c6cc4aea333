"""The HTML report (``--replicate-html``): the report document as one self-contained page.

An autoescaping Jinja2 template with the CSS and JavaScript inlined and images embedded as
``data:`` URIs, so the file opens offline and can be kept as a CI artifact; a
Content-Security-Policy forbids the page any request. It stays quick to open at thousands of
cases: the table shows each output truncated, and each case's full text (prompt, output,
every assertion) lives in one JSON blob that the page parses only when a case is expanded or
the text filter is used. Filters toggle an attribute or a class; nothing is re-rendered.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..atomic import write_atomically

TEMPLATES = Path(__file__).parent / "templates"
CELL_CHARS = 280  # of an output or a reason, shown in the table; the rest on expand
VAR_CHARS = 120  # of a var's value, shown in the row's first cell
SAMPLE_CHARS = 2000  # of a repeated case's sample output, kept for its Details
# Raster types only: an image is shown as the model returned it, never run as a document.
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
_JSON_IN_SCRIPT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                 "\u2028": "\\u2028", "\u2029": "\\u2029"})

Data = Mapping[str, Any]


def write_html(document: dict[str, Any], path: Path) -> None:
    """Write the report to ``path`` whole or not at all."""
    write_atomically(path, render_html(document).encode("utf-8"))


def render_html(document: dict[str, Any]) -> str:
    """The page for a report document (``report.model.build_report``, maybe with a comparison and a gate)."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(rate=_rate, money=_money, number=_number, plain=_plain)
    images = _Images()
    files = [_file_view(file, images) for file in document["files"]]
    return environment.get_template("report.html.j2").render(
        run=document["run"], files=files, comparison=document.get("comparison"), gate=document.get("gate"),
        stale=document.get("stale"),
        any_flaky=any(file["any_flaky"] for file in files), any_drift=any(file["any_drift"] for file in files),
        style=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        script=Markup((TEMPLATES / "report.js").read_text(encoding="utf-8")),
        blob=_script_json({"files": [_file_blob(file) for file in document["files"]]}),
    )


def _file_view(file: Data, images: _Images) -> dict[str, Any]:
    """What the template shows of one eval file: its rows with their cells worked out."""
    cases = file["cases"]
    rows = []
    for row in file["rows"]:
        cells = [None if index is None else _cell_view(cases[index], index, images) for index in row["cells"]]
        present = [cell for cell in cells if cell is not None]
        statuses = {cell["status"] for cell in present}
        flags = [flag for flag, wanted in (
            ("has-fail", "fail" in statuses), ("has-error", "error" in statuses),
            ("all-pass", bool(present) and statuses == {"pass"}),
            ("has-changed", any(cell["changed"] for cell in present)),
            ("has-flaky", any(cell["flaky"] for cell in present)),
            ("has-drift", any(cell["drifted"] for cell in present))) if wanted]
        rows.append({"description": row["description"], "test": row["test"], "cells": cells, "flags": flags,
                     "vars": {name: _clip(_plain(value), VAR_CHARS) for name, value in row["vars"].items()}})
    return {**file, "rows": rows, "any_flaky": any("has-flaky" in row["flags"] for row in rows),
            "any_drift": any("has-drift" in row["flags"] for row in rows)}


def _cell_view(case: Data, index: int, images: _Images) -> dict[str, Any]:
    comparison = case.get("comparison")
    image = case.get("image")
    uri = images.data_uri(image) if image else None
    repeat = case.get("repeat") or None
    drift = case.get("drift") or None
    return {
        "index": index,
        "status": _status(case),
        "score": case.get("score"),
        "named_scores": case.get("named_scores") or {},
        "output": _clip(_plain(case.get("output")), CELL_CHARS),
        "reason": _clip(case.get("error") or case.get("reason") or case.get("skipped") or "", CELL_CHARS),
        "image": uri,
        "image_missing": bool(image) and uri is None,
        "comparison": comparison,
        "changed": comparison is not None and comparison.get("status") in ("changed", "new"),
        "repeat": repeat,
        "flaky": bool(repeat and repeat.get("flaky")),
        "drift": drift,
        "drifted": _drifted(drift),
    }


def _drifted(drift: Data | None) -> bool:
    """Whether a live call differed from its cassette: another output or another verdict."""
    return drift is not None and bool(drift.get("output_changed") or drift.get("verdict"))


def _status(case: Data) -> str:
    """pass, fail, error or skip, as the figures count them."""
    if case.get("outcome") == "skipped":
        return "skip"
    if case.get("error") is not None:
        return "error"
    return "pass" if case.get("passed") else "fail"


def _file_blob(file: Data) -> dict[str, Any]:
    """The full text of each case, for expanding it and for the text filter."""
    return {
        "rows": [{"description": row["description"], "test": row["test"], "vars": row["vars"], "cells": row["cells"]}
                 for row in file["rows"]],
        "cases": [_case_blob(case) for case in file["cases"]],
    }


def _case_blob(case: Data) -> dict[str, Any]:
    return {key: case.get(key) for key in (
        "nodeid", "prompt", "output", "reason", "error", "score", "named_scores", "assertions",
        "latency_ms", "cost", "prediction_id", "cassette", "live", "comparison", "repeat", "drift",
    )} | {"samples": [_sample_blob(sample) for sample in case.get("samples") or []]}


def _sample_blob(sample: Data) -> dict[str, Any]:
    """One sample of a repeated case, its output clipped: the case itself holds the first whole."""
    return {key: sample.get(key) for key in (
        "index", "passed", "score", "reason", "error", "latency_ms", "cost", "prediction_id", "duration",
    )} | {"output": _clip(_plain(sample.get("output")), SAMPLE_CHARS)}


def _script_json(data: Any) -> Markup:
    """JSON safe inside a ``<script>`` element: no ``<`` can close it or open a comment."""
    return Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).translate(_JSON_IN_SCRIPT))


class _Images:
    """Saved images as data: URIs, each file read once however many cases show it."""

    def __init__(self) -> None:
        self._uris: dict[str, str | None] = {}

    def data_uri(self, image: Data) -> str | None:
        path, media_type = image.get("path"), image.get("media_type")
        if not path or media_type not in _IMAGE_TYPES:
            return None
        if path not in self._uris:
            try:
                data = Path(path).read_bytes()
            except OSError:  # moved or deleted since the run: the cell says so
                self._uris[path] = None
            else:
                self._uris[path] = f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
        return self._uris[path]


def _plain(value: Any) -> str:
    """A value as the page prints it: text as it is, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _money(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:,.2f}" if value >= 1 else "$" + f"{value:.6f}".rstrip("0").rstrip(".")


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"
