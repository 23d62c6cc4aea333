"""The examples of the README and the docs pages, run: every eval file, YAML fragment and test module.

Blocks are found by their section heading and their order within it (``heading/yaml#2``), so
editing one section does not renumber the others, and moving a section between the README and a
page of ``docs/`` keeps its ids (they are unique across the documents). A new example needs no new code here: an
eval file (a ``prompts:`` key) runs against the simulator, a fragment (``assert:``,
``providers:``...) runs inside a minimal eval file, a test module runs under pytester with the
simulator, a ``[tool.pytest.ini_options]`` table must name real ini keys. The simulator is
``strict``, answering as Replicate does, so an example that works here works against the API.
Items may fail on their assertions (the simulator's answers are canned), never on a call.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from helpers import png

try:
    import tomllib
except ImportError:  # Python 3.10; pytest depends on tomli there
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
# The README first (its first block is the install command), then the docs site's pages.
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README or a docs page."""

    id: str  # "<heading>/<lang>#<n within the heading>"
    path: str  # the document, relative to the repository
    heading: str
    lang: str
    text: str
    line: int  # of the opening fence, for messages

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.id})"


def document_blocks(document: Path) -> list[Block]:
    path = document.relative_to(ROOT).as_posix()
    blocks: list[Block] = []
    heading = ""
    counts: dict[tuple[str, str], int] = {}
    fence: re.Match[str] | None = None
    body: list[str] = []
    start = 0
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
        if fence is None:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            fence = re.match(r"^(\s*)```(\w*)\s*$", line)
            body, start = [], number
        elif line.strip() == "```":
            lang = fence.group(2)
            counts[heading, lang] = counts.get((heading, lang), 0) + 1
            block_id = f"{heading}/{lang}#{counts[heading, lang]}"
            blocks.append(Block(block_id, path, heading, lang, textwrap.dedent("\n".join(body)) + "\n", start))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"{path}:{start}: unclosed code block"
    return blocks


BLOCKS = [b for document in DOCUMENTS for b in document_blocks(document)]


def block(block_id: str) -> Block:
    (found,) = [b for b in BLOCKS if b.id == block_id]
    return found


def yaml_of(b: Block):
    return yaml.safe_load(b.text)


def is_eval_file(b: Block) -> bool:
    return b.lang == "yaml" and isinstance(yaml_of(b), dict) and "prompts" in yaml_of(b)


def is_catalogue(b: Block) -> bool:
    return b.lang == "yaml" and isinstance(yaml_of(b), dict) and "models" in yaml_of(b)


EVAL_FILES = [b for b in BLOCKS if is_eval_file(b)]
CATALOGUES = [b for b in BLOCKS if is_catalogue(b)]
FRAGMENTS = [b for b in BLOCKS if b.lang == "yaml" and not is_eval_file(b) and not is_catalogue(b)]
TEST_MODULES = [b for b in BLOCKS if b.lang == "python" and re.search(r"^(async )?def test_", b.text, re.M)]
SCRIPTS = [b for b in BLOCKS if b.lang == "python" and b not in TEST_MODULES]


def ids(blocks: list[Block]) -> list[str]:
    return [b.id for b in blocks]


@pytest.fixture
def simulator():
    """The simulator answering as Replicate does (``strict``): version-only models 404 by name."""
    from pytest_replicate.simulator import Simulator

    with Simulator(strict=True) as server:
        yield server


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Fast simulator answers; one call at a time keeps the request order of the README's runs.
    return pytester.runpytest("--replicate-concurrency=1", *args)


def assert_ran(result: pytest.RunResult, b: Block, *, failed_on_assertions_only: bool = False) -> None:
    """No error; no failure, or (eval items) only failures whose report shows the graded output."""
    outcomes = result.parseoutcomes()
    output = result.stdout.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output, f"{b}:\n{output}"
    assert not outcomes.get("errors") and not outcomes.get("error"), f"{b}:\n{output}"
    failed = outcomes.get("failed", 0)
    assert outcomes.get("passed", 0) + failed, f"{b}:\n{output}"
    if failed_on_assertions_only:  # a failed call (404, 422...) has no output to grade
        assert len(re.findall(r"^assertions:$", output, re.M)) == failed, f"{b}:\n{output}"
    else:
        assert not failed, f"{b}:\n{output}"


# --- the first lines -------------------------------------------------------------------------

def test_the_readme_starts_with_the_install_and_the_test_command():
    first = BLOCKS[0]
    assert first.path == "README.md" and first.lang == "bash" and first.line == 3, \
        "the README's first block is no longer its first lines"
    assert first.text.splitlines() == ['pip install -e ".[dev]" && pytest example_suite', "pytest tests"]
    assert "python -m pytest tests" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# --- eval files ---------------------------------------------------------------------------------

def test_the_first_eval_file_runs_as_shown(pytester):
    eval_file, console = block("A first eval file/yaml#1"), block("A first eval file/console#1")
    path = eval_file.text.splitlines()[0].removeprefix("# ")  # it names itself: evals/greetings.eval.yaml
    (pytester.path / path).parent.mkdir(parents=True)
    (pytester.path / path).write_text(eval_file.text, encoding="utf-8")
    command, *shown = console.text.splitlines()
    assert command == "$ pytest evals -v"
    result = pytester.runpytest("evals", "-v")
    result.stdout.re_match_lines([re.escape(line) + r" +\[ *\d+%\]$" for line in shown], consecutive=True)
    result.assert_outcomes(passed=len(shown))


def test_the_terminal_summary_reads_as_shown(pytester, monkeypatch):
    eval_file, console = block("The terminal summary/yaml#1"), block("The terminal summary/console#1")
    path = eval_file.text.splitlines()[0].removeprefix("# ")
    (pytester.path / path).parent.mkdir(parents=True)
    (pytester.path / path).write_text(eval_file.text, encoding="utf-8")
    command, *shown = console.text.splitlines()
    assert command == "$ pytest evals -v"
    monkeypatch.setenv("COLUMNS", "80")  # as shown, whatever the terminal here
    result = pytester.runpytest("evals", "-v")
    result.stdout.re_match_lines([re.escape(line) + "$" for line in shown], consecutive=True)


# What the README says of an eval file's outcomes; the others must pass against the simulator,
# or fail only on their assertions (the simulator's canned answers are not a real model's).
EVAL_OUTCOMES = {
    "A first eval file/yaml#1": {"passed": 3},
    "Model-graded assertions/yaml#2": {"passed": 1, "failed": 3},  # "only the chosen one passes"
    "The terminal summary/yaml#1": {"passed": 6, "failed": 6},  # the terse prompt fails each case
}


# Files an eval example names with file://, written beside it.
EVAL_FILES_BESIDE = {
    "Replicate models/yaml#2": {"cat.png": png()},
}


@pytest.mark.parametrize("b", EVAL_FILES, ids=ids(EVAL_FILES))
def test_eval_files_run_against_the_simulator(b, pytester, replicate_env):
    (pytester.path / "example.eval.yaml").write_text(b.text, encoding="utf-8")
    for name, content in EVAL_FILES_BESIDE.get(b.id, {}).items():
        (pytester.path / name).write_bytes(content)
    result = run(pytester)
    assert_ran(result, b, failed_on_assertions_only=True)
    if b.id in EVAL_OUTCOMES:
        result.assert_outcomes(**EVAL_OUTCOMES[b.id])


FAILING_GREETING = """\
description: Greetings, formal
prompts:
  - label: formal
    raw: "Greet {{ name | upper }} formally"
providers:
  - echo
defaultTest:
  assert:
    - type: icontains
      value: "{{ name }}"
tests:
  # line 13: the test that fails
  - description: greets people
    vars: {name: [Ada, Grace]}
    assert:
      - type: contains
        value: hello
"""


def test_a_failing_case_reads_as_shown(pytester):
    header, *report = block("A first eval file/text#1").text.splitlines()
    (pytester.path / "greet.eval.yaml").write_text(FAILING_GREETING, encoding="utf-8")
    result = pytester.runpytest()
    title = re.fullmatch(r"_+ (.*) _+", header).group(1)
    result.stdout.re_match_lines([rf"_+ {re.escape(title)} _+$", *(re.escape(line) + "$" for line in report)],
                                 consecutive=True)


def test_a_malformed_file_reads_as_shown(pytester):
    header, *message = block("Errors in eval files/text#1").text.splitlines()
    (pytester.path / "b.eval.yaml").write_text(
        'prompts: ["Hi {{ name }}"]\nproviders: [echo]\ntests:\n  - vars: {name: Ada}\n    assert:\n'
        '      - type: contain\n        value: Ada\n', encoding="utf-8")
    result = pytester.runpytest()
    title = re.fullmatch(r"_+ (.*) _+", header).group(1)  # "ERROR collecting b.eval.yaml"
    result.stdout.re_match_lines([rf"_+ {re.escape(title)} _+$", *(re.escape(line) + "$" for line in message)],
                                 consecutive=True)


# --- fragments ----------------------------------------------------------------------------------

# Keys of a test (the rest are the eval file's own keys).
TEST_KEYS = {"assert", "options", "vars", "threshold", "metadata", "description"}
# Vars the fragments' templates name.
VARS = {"query": "What is the capital of France?", "expected": "Paris is the capital of France.",
        "context": "Paris is the capital of France.", "topic": "rainbows"}


def embedded(fragment: dict) -> dict:
    """A minimal eval file around ``fragment`` (``assert:``, ``options:``, ``providers:``...)."""
    test = {"vars": dict(VARS), **{k: v for k, v in fragment.items() if k in TEST_KEYS}}
    rest = {k: v for k, v in fragment.items() if k not in TEST_KEYS}
    return {"prompts": ["Answer: {{ query }}"], "providers": ["echo"], **rest, "tests": [test]}


@pytest.mark.parametrize("b", FRAGMENTS, ids=ids(FRAGMENTS))
def test_fragments_run_in_a_minimal_eval_file(b, pytester, replicate_env):
    fragment = yaml_of(b)
    assert isinstance(fragment, dict), f"{b}: not a mapping"
    (pytester.path / "fragment.eval.yaml").write_text(yaml.safe_dump(embedded(fragment)), encoding="utf-8")
    assert_ran(run(pytester), b, failed_on_assertions_only=True)


# --- simulator catalogues -----------------------------------------------------------------------

@pytest.mark.parametrize("b", CATALOGUES, ids=ids(CATALOGUES))
def test_catalogues_serve_their_models(b, pytester, monkeypatch):
    from helpers import FAKE_TOKEN

    from pytest_replicate.simulator import BUILTIN, Simulator, parse_catalogue

    catalogue = BUILTIN.merged(parse_catalogue(yaml_of(b)))
    answer = yaml_of(b)["models"][0]["answers"][0]
    ref = "{owner}/{name}".format(**yaml_of(b)["models"][0])
    with Simulator(catalogue=catalogue) as sim:
        monkeypatch.setenv("REPLICATE_BASE_URL", sim.url)
        monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
        pytester.makefile(".eval.yaml", tiny=yaml.safe_dump({
            "prompts": [f"What is the {answer['when']}?"],
            "providers": [f"replicate:{ref}"],
            "tests": [{"assert": [{"type": "equals", "value": answer["output"]}]}],
        }))
        assert_ran(run(pytester), b)


# --- test modules and scripts -------------------------------------------------------------------

CAPITALS_EVAL = """
prompts: ["What is the capital of {{ country }}?"]
providers: [replicate:meta/llama-2-7b-chat]
tests:
  - vars: {country: [France, Japan]}
    assert: [{type: icontains, value: capital}]
"""


class _OK(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def local_site() -> Iterator[str]:
    """A web server answering 200, standing in for https://example.org/."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OK)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Needs:
    """What a README test module needs beyond the simulator, and what the README says it writes."""

    args: tuple[str, ...] = ()  # pytest plugins and options
    files: tuple[tuple[str, str], ...] = ()  # (name, text) written beside the module
    local_site: str | None = None  # a URL replaced by a local server's, to run offline
    writes: tuple[str, ...] = ()  # globs of the cassettes the README says the run writes
    writes_no_cassettes: bool = False
    xfail: str | None = None  # why the code does not yet do what the example shows


MODULE_NEEDS = {
    "Fixtures for the tests you already have/python#1": Needs(
        writes=("tests/cassettes/test_prompts/test_greets_by_name.*.yaml",)),
    "One cassette per test/python#1": Needs(writes=("cassettes/test_example/capitals.yaml",)),
    "One cassette per test/python#2": Needs(
        args=("-p", "recording", "--record-mode=once"), local_site="https://example.org/",
        writes=("cassettes/test_example/test_my_api_and_a_model.yaml",  # pytest-recording's
                "cassettes/test_example/test_my_api_and_a_model.*.yaml")),  # ours
    "Async tests/python#1": Needs(args=("-p", "asyncio", "-o", "asyncio_default_fixture_loop_scope=function")),
    "Eval files as parametrized tests/python#1": Needs(files=(("capitals.eval.yaml", CAPITALS_EVAL),)),
    "Offline, against the simulator/python#1": Needs(writes_no_cassettes=True),
}


def module_params() -> list:
    params = []
    for b in TEST_MODULES:
        needs = MODULE_NEEDS.get(b.id, Needs())
        marks = [pytest.mark.xfail(reason=needs.xfail, strict=True)] if needs.xfail else []
        params.append(pytest.param(b, needs, id=b.id, marks=marks))
    return params


@pytest.mark.parametrize(("b", "needs"), module_params())
def test_test_modules_pass_against_the_simulator(b, needs, pytester, replicate_env, request):
    text = b.text
    if needs.local_site:
        text = text.replace(needs.local_site, request.getfixturevalue("local_site"))
    for name, content in needs.files:
        (pytester.path / name).write_text(textwrap.dedent(content), encoding="utf-8")
    named = re.match(r"# (\S+\.py)\n", text)  # "# tests/test_prompts.py"
    path = pytester.path / (named.group(1) if named else "test_example.py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    assert_ran(run(pytester, *needs.args), b)
    for pattern in needs.writes:
        assert list(pytester.path.glob(pattern)), f"{b}: no {pattern}"
    if needs.writes_no_cassettes:
        assert not list(pytester.path.glob("**/cassettes")), f"{b}: the simulator's calls were recorded"


def test_a_failed_python_assertion_reads_as_shown(pytester, replicate_env):
    shown = block("Assertions from Python/text#1").text.splitlines()
    source = [line for line in shown if not line.startswith("E ")]  # pytest's 4-column margin, then the code
    pytester.makepyfile(test_example="\n".join([
        "from pytest_replicate import assert_output",
        "",
        "",
        "def test_capital(replicate_provider):",
        '    result = replicate_provider("replicate:meta/llama-2-7b-chat")("What is the capital of France?")',
        *(line[4:] for line in source),
    ]))
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines([re.escape(line) + "$" for line in shown], consecutive=True)
    assert "pytest_replicate/" not in result.stdout.str()


@pytest.mark.parametrize("b", SCRIPTS, ids=ids(SCRIPTS))
def test_scripts_run(b):
    exec(compile(b.text, str(b), "exec"), {})


def test_every_special_case_names_a_readme_block():
    assert set(EVAL_OUTCOMES) | set(MODULE_NEEDS) <= set(ids(BLOCKS))


def test_block_ids_are_unique_across_the_documents():
    seen: dict[str, Block] = {}
    for b in BLOCKS:
        assert b.id not in seen, f"{b} and {seen[b.id]} share an id: give one of their sections another heading"
        seen[b.id] = b


# --- settings, option names, registries -----------------------------------------------------------

TOML = [b for b in BLOCKS if b.lang in ("toml", "ini")]


@pytest.mark.parametrize("b", TOML, ids=ids(TOML))
def test_settings_blocks_name_real_ini_keys(b, pytester):
    assert b.lang == "toml", f"{b}: a [tool.pytest.ini_options] table is TOML"
    pytester.path.joinpath("pyproject.toml").write_text(b.text, encoding="utf-8")
    config = pytester.parseconfig()
    for key, value in tomllib.loads(b.text)["tool"]["pytest"]["ini_options"].items():
        read = config.getini(key)  # numeric keys read as numbers
        assert read in (value, str(value)) or str(read) == value, f"{b}: {key}"


def test_eval_file_patterns_replace_the_default_ones(pytester):
    pytester.path.joinpath("pyproject.toml").write_text(block("Which files are collected/toml#1").text,
                                                        encoding="utf-8")
    eval_file = "prompts: [Hi]\nproviders: [echo]\ntests: [{assert: [{type: equals, value: Hi}]}]\n"
    pytester.makefile(".yaml", **{"evals/greetings": eval_file, "other/greetings": eval_file})
    pytester.makefile(".eval.yaml", **{"other/default": eval_file})
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["evals/greetings.yaml::*", "1 test collected*"])


def test_options_and_ini_keys_in_the_documents_exist(pytester):
    text = "\n".join(document.read_text(encoding="utf-8") for document in DOCUMENTS)
    help_text = pytester.runpytest("--help").stdout.str()
    fixtures = pytester.runpytest("--fixtures").stdout.str()
    options = set(re.findall(r"(?<![\w-])(--replicate-[a-z-]+|--record-mode)\b", text))
    prose = re.sub(r"^```text\n.*?^```$", "", text, flags=re.M | re.S)  # not output (cassette names)
    ini_keys = set(re.findall(r"\b(replicate_[a-z_]+)\b", prose))
    assert options and ini_keys
    for option in options:
        assert re.search(rf"^\s+{option}(?:[= ]|$)", help_text, re.M), f"{option} is not in pytest --help"
    for name in ini_keys:  # or fixture names
        assert re.search(rf"^\s+{name} \(", help_text, re.M) or re.search(rf"^{name} ", fixtures, re.M), \
            f"{name} is neither an ini key in pytest --help nor a fixture"


def section(title: str) -> str:
    """The text under the heading ``title`` (README or a docs page), down to the next heading of its level or above."""
    (document,) = [d for d in DOCUMENTS if re.search(rf"^#+ {re.escape(title)}$", d.read_text(encoding="utf-8"), re.M)]
    lines: list[str] = []
    level = 0
    in_code = False
    for line in document.read_text(encoding="utf-8").splitlines():
        in_code ^= line.lstrip().startswith("```")
        heading = None if in_code else re.match(r"(#+) (.*)", line)
        if heading and level and len(heading.group(1)) <= level:
            break
        if level:
            lines.append(line)
        elif heading and heading.group(2) == title:
            level = len(heading.group(1))
    assert level, f"no section {title!r}"
    return "\n".join(lines)


def table_names(markdown: str) -> list[str]:
    """The backticked names in the first column of the tables in ``markdown``."""
    names = []
    for row in re.findall(r"^\| ([^|]+) \|", markdown, re.M):
        names += re.findall(r"`([^`]+)`", row)
    return names


def test_assertion_tables_name_registered_types():
    from pytest_replicate.assertions.registry import ASSERTION_TYPES

    names = table_names(section("Assertions"))
    assert "equals" in names and "llm-rubric" in names and "rouge-n" in names
    assert sorted(set(ASSERTION_TYPES) - {"similar:cosine", "similar:dot", "similar:euclidean"} - set(names)) == []
    assert [name for name in names if name not in ASSERTION_TYPES] == []


def test_the_provider_table_names_every_kind_of_provider_id():
    from pytest_replicate.providers.registry import check_provider_id
    from pytest_replicate.providers.replicate import PROVIDER_CLASSES

    forms = table_names(section("Replicate models"))
    version = "a" * 64
    for form in forms:
        for concrete in (form.replace("[:VERSION]", ""), form.replace("[", "").replace("]", "")):
            check_provider_id(concrete.replace("OWNER", "o").replace("MODEL", "m").replace("NAME", "n")
                              .replace("VERSION", version))
    kinds = {match.group(1) for form in forms if (match := re.match(r"replicate:([a-z]+):OWNER", form))}
    assert kinds == set(PROVIDER_CLASSES) - {"text"}


def test_the_simulator_options_are_its_command_line(capsys):
    from pytest_replicate.simulator.__main__ import main

    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    listed = re.search(r"^Options: (.*?)\.$", section("The simulator"), re.M | re.S).group(1)
    named = set(re.findall(r"--[a-z-]+", listed))
    assert named == set(re.findall(r"--[a-z-]+", help_text)) - {"--help"}


# --- the cassette workflow ----------------------------------------------------------------------

def greetings_on_llama() -> str:
    """The first example with Llama 2 in place of echo, as the Cassettes section has it."""
    text = block("A first eval file/yaml#1").text.replace("  - echo  ", "  - replicate:meta/llama-2-7b-chat  ")
    assert "llama-2-7b-chat" in text
    return text


@pytest.mark.parametrize("commands", ["Recording against the real API/bash#1", "Cassettes/bash#1"])
def test_the_cassette_commands_record_then_replay_offline(commands, pytester, replicate_env, monkeypatch):
    """The record and replay commands (README and Cassettes page) on the first example with Llama 2, as they say."""
    from helpers import FAKE_TOKEN

    pytester.makefile(".eval.yaml", **{"evals/greetings": greetings_on_llama()})
    outcomes, summaries = [], []
    for command in block(commands).text.splitlines():
        words = command.split("#")[0].split()
        env = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
        args = words[words.index("pytest") + 1:]
        if env.get("CI"):  # replay only: no token, no network
            monkeypatch.setenv("CI", env["CI"])
            monkeypatch.delenv("REPLICATE_API_TOKEN")
            replicate_env.stop()
        else:
            assert env == {"REPLICATE_API_TOKEN": "r8_..."}
            monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
        result = run(pytester, *args)
        outcomes.append(result.parseoutcomes())
        summaries.append(re.search(r"^\d+ replayed, .*$", result.stdout.str(), re.M).group())
    assert outcomes[0] == outcomes[1] == outcomes[2]  # the same verdicts, live and replayed
    assert summaries == ["0 replayed, 3 recorded, 0 missed (record mode: once)",
                         "0 replayed, 3 recorded, 0 missed (record mode: rewrite)",
                         "3 replayed, 0 recorded, 0 missed (record mode: none)"]
    shown = [line.strip() for line in block("Cassettes/text#1").text.splitlines() if line.startswith(" " * 6)]
    folder = pytester.path / "evals" / "cassettes" / "greetings.eval"
    assert sorted(path.name for path in folder.iterdir()) == sorted(shown)


def test_the_simulator_walkthrough_starts_records_and_replays(pytester, monkeypatch):
    """The Simulator page's walkthrough: start it, record the first example against it, replay offline."""
    walkthrough = "Start, record, replay"
    (start,), (record,), (replay,) = (block(f"{walkthrough}/bash#{n}").text.splitlines() for n in (1, 2, 3))
    shown_start = block(f"{walkthrough}/text#1").text.strip()
    recorded, replayed = (block(f"{walkthrough}/text#{n}").text.splitlines()[-1] for n in (2, 3))
    assert start.startswith("python -m pytest_replicate.simulator ")
    pytester.makefile(".eval.yaml", **{"evals/greetings": greetings_on_llama()})
    process = subprocess.Popen([sys.executable, *start.split()[1:]], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        port = re.fullmatch(re.escape(shown_start).replace("PORT", r"(\d+)"), line).group(1)
        words = record.replace("PORT", port).split()
        for word in words[: words.index("pytest")]:
            monkeypatch.setenv(*word.split("=", 1))
        result = run(pytester, *words[words.index("pytest") + 1:])
        result.stdout.fnmatch_lines([recorded])
        live = result.parseoutcomes()
    finally:
        process.terminate()
        process.wait(timeout=10)
    words = replay.split()
    assert words[: words.index("pytest")] == ["CI=true"]
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    monkeypatch.delenv("REPLICATE_BASE_URL")  # the simulator is gone: replay makes no call
    result = run(pytester, *words[words.index("pytest") + 1:])
    result.stdout.fnmatch_lines([replayed])
    assert result.parseoutcomes() == live  # the recorded verdicts, replayed


def test_the_ci_command_replays_and_writes_its_reports(pytester, replicate_env, monkeypatch):
    """The README's CI command: replay only, no token, and the reports it names are written."""
    pytester.makefile(".eval.yaml", **{"evals/greetings": greetings_on_llama()})
    live = run(pytester, "evals/").parseoutcomes()  # recorded (record mode once)
    (command,) = block("In CI/bash#1").text.splitlines()
    words = command.split()
    assert words[: words.index("pytest")] == ["CI=true"]
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    replicate_env.stop()
    result = run(pytester, *words[words.index("pytest") + 1:])
    assert result.parseoutcomes() == live
    result.stdout.fnmatch_lines(["3 replayed, 0 recorded, 0 missed (record mode: none)"])
    for option in words:
        if option.startswith("--") and "=" in option:
            assert (pytester.path / option.split("=", 1)[1]).is_file(), option


MISSED = """\
prompts: ["What is the capital of France?"]
providers:
  - id: replicate:meta/llama-2-7b-chat
    config: {temperature: 0.01}
tests:
  - description: capital of France
    assert: [{type: icontains, value: paris}]
"""


def test_a_cassette_miss_reads_as_shown(pytester, replicate_env, monkeypatch):
    pytester.makefile(".eval.yaml", **{"evals/suite": MISSED})
    run(pytester).assert_outcomes(passed=1)
    pytester.makefile(".eval.yaml", **{"evals/suite": MISSED.replace("0.01", "0.2")})
    monkeypatch.setenv("CI", "true")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    shown = block("Cassettes/text#2").text.splitlines()
    # The message is the failure's headline and, indented, its error section.
    pattern = "\n".join(" *" + re.escape(line.strip()) for line in shown)
    assert re.search(pattern, result.stdout.str()), result.stdout.str()


def test_the_results_hook_example_writes_every_result(pytester):
    conftest = next(b for b in BLOCKS if b.heading == "Every result, for your own reports" and b.lang == "python")
    pytester.makeconftest(conftest.text)
    pytester.makefile(".eval.yaml", suite=textwrap.dedent("""
        prompts: ["Say {{ word }}"]
        providers: [echo]
        tests:
          - vars: {word: hello}
            assert: [{type: contains, value: hello}]
          - vars: {word: bye}
            assert: [{type: contains, value: hello}]
    """))
    run(pytester).assert_outcomes(passed=1, failed=1)
    lines = (pytester.path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    results = [json.loads(line) for line in lines]
    assert [(r["vars"]["word"], r["passed"], r["outcome"]) for r in results] == [
        ("hello", True, "passed"), ("bye", False, "failed")]
