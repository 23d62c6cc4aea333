"""The report document as a JSON file (``--replicate-json``), and the schema it follows.

The file is the document the terminal summary and the HTML report render, plus nothing:
every case, passing ones included. Generated images are files beside it, referenced by a
path relative to the JSON file's folder, so the report and its images move together.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..atomic import write_atomically
from .model import CaseData

SCHEMA_FILE = "report_schema.json"  # beside this module, shipped in the package


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the document, versioned by ``schema_version``."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def write_json(document: dict[str, Any], path: Path) -> None:
    """Write the document to ``path`` whole or not at all."""
    folder = path.resolve().parent
    files = [{**file, "cases": [_relative_image(case, folder) for case in file["cases"]]}
             for file in document["files"]]
    text = json.dumps({**document, "files": files}, indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, text.encode("utf-8"))


def _relative_image(case: CaseData, folder: Path) -> CaseData:
    image = case.get("image")
    if not image or not image.get("path"):
        return case
    relative = Path(os.path.relpath(image["path"], folder)).as_posix()
    return {**case, "image": {**image, "path": relative}}
