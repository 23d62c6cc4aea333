"""Hostile conditions: the token must never show, and odd answers fail only their item, briefly."""

from __future__ import annotations

import json

import pytest
from helpers import FAKE_TOKEN, closed_port, write

from pytest_replicate.simulator import Fault

LOUD = ("--tb=long", "-l", "--full-trace", "-vv", "--junitxml=report.xml", "-rA")
LLAMA2_CREATE = "/v1/models/meta/llama-2-7b-chat/predictions"


def suite(base_url: str, config: str = "", tests: int = 1, provider: str = "replicate:meta/llama-2-7b-chat") -> str:
    text = ('prompts: ["What is the capital of {{ country }}?"]\n'
            f"providers:\n  - id: {provider}\n    config:\n"
            f"      base_url: '{base_url}'\n      apiKey: {FAKE_TOKEN}\n      retry_backoff: 0.01\n"
            "      poll_interval: 0.01\n      wait: 0\n")
    text += "".join(f"      {line}\n" for line in config.strip().splitlines())
    text += "tests:\n" + "".join(f"  - vars: {{country: C{i}}}\n" for i in range(tests))
    return text


def everything_printed(pytester: pytest.Pytester, result: pytest.RunResult) -> str:
    files = [p.read_text(errors="replace") for p in pytester.path.rglob("*")
             if p.is_file() and p.suffix in (".xml", ".yaml") and not p.name.endswith(".eval.yaml")]
    return result.stdout.str() + result.stderr.str() + "".join(files)


@pytest.mark.parametrize("where", ["refused", "redirect loop", "download refused"])
def test_token_never_printed_at_any_verbosity(pytester, write_eval, monkeypatch, simulator, where):
    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    if where == "redirect loop":
        simulator.add_fault(Fault("status", status=302, headers={"Location": LLAMA2_CREATE}, times=100))
    if where == "download refused":  # the image's host closes this download and refuses the retry
        simulator.add_fault(Fault("die", path_prefix="/files/"))
    base = f"http://127.0.0.1:{closed_port()}" if where == "refused" else simulator.url
    write_eval(suite(base, "max_retries: 1", provider="replicate:image:stability-ai/sdxl"
                     if where == "download refused" else "replicate:meta/llama-2-7b-chat"))
    result = pytester.runpytest(*LOUD)
    result.assert_outcomes(failed=1)
    assert FAKE_TOKEN not in everything_printed(pytester, result)
    assert "Traceback" not in result.stdout.str()
    expected = {"refused": "*failed after 2 attempts: could not connect (ConnectError)*",
                "redirect loop": "*was redirected too many times (a redirect loop?)*",
                "download refused": f"*GET {simulator.url}/files/*/out-0.png failed after 2 attempts: could not connect*"
                }[where]
    result.stdout.fnmatch_lines([expected])


def test_malformed_base_url_is_a_config_error_without_the_token(pytester, write_eval, monkeypatch):
    write_eval(suite("htp:/nowhere"))
    result = pytester.runpytest(*LOUD)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*config.base_url must be an http(s) URL such as https://api.replicate.com*"])
    assert FAKE_TOKEN not in everything_printed(pytester, result)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("api_key", "*config.api_key looks like a secret*Did you mean `apiKey`?*"),
        ("REPLICATE_API_TOKEN", "*config.REPLICATE_API_TOKEN looks like a secret*"),
        ("token", "*config.token looks like a secret*"),
        ("my_input", "*config.my_input looks like a secret*"),  # by its value
    ],
)
def test_a_token_under_another_key_is_refused(pytester, write_eval, key, message):
    write_eval(f"prompts: [hi]\nproviders:\n  - id: replicate:meta/llama-2-7b-chat\n    config:\n"
               f"      {key}: {'r8_' + 'x' * 37}\n")
    result = pytester.runpytest(*LOUD)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])
    assert "r8_" + "x" * 37 not in everything_printed(pytester, result)


@pytest.mark.parametrize(("key", "near"), [("temprature", "temperature"), ("max_retires", "max_retries"),
                                           ("poll-interval", "poll_interval"), ("apikey", "apiKey")])
def test_misspelt_keys_suggest_the_known_one(pytester, write_eval, key, near):
    write_eval(f"prompts: [hi]\nproviders:\n  - id: replicate:meta/llama-2-7b-chat\n    config:\n      {key}: 1\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*config.{key}*{near}*"])


def test_model_specific_inputs_still_pass_through(pytester, write_eval, replicate_env):
    write_eval("prompts: [hi]\nproviders:\n  - id: replicate:meta/llama-2-7b-chat\n    config:\n"
               "      max_tokens: 5\n      min_new_tokens: 2\n      presence_penalty: 0.1\n      min_length: 1\n")
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("body", "came"),
    [
        ("<html>busy</html>", "*got text/html '<html>busy</html>'*"),
        ([], "*got JSON list '[[]]'*"),
        ({}, "*got an object without id and status (keys: none)*"),
        ({"id": "p1"}, "*got an object without status (keys: id)*"),
        ({"status": "succeeded"}, "*got an object without id (keys: status)*"),
        ({"id": "p1", "status": "done"}, "*got unknown status 'done'*"),
    ],
)
def test_unexpected_create_answers_fail_only_their_item(pytester, write_eval, simulator, body, came):
    simulator.add_fault(Fault("shape", method="POST", body=body if isinstance(body, str) else json.dumps(body)))
    write_eval(suite(simulator.url, tests=2))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        f"*expected a prediction object (JSON with id and status) from POST {simulator.url}{LLAMA2_CREATE}, "
        f"{came[1:]}"])
    assert "Traceback" not in result.stdout.str()


def test_a_server_that_is_down_fails_the_rest_fast(pytester, write_eval):
    write_eval(suite(f"http://127.0.0.1:{closed_port()}", "max_retries: 1", tests=4))
    result = pytester.runpytest("--replicate-concurrency=1")
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(["*could not connect (ConnectError)*"])
    result.stdout.fnmatch_lines(["*is unreachable: the last 3 connection attempts failed (ConnectError)*"])


def test_token_never_printed_by_ctrl_c_with_full_trace(pytester, write_eval, monkeypatch, simulator):
    """pytest shows every frame's arguments for a KeyboardInterrupt under --full-trace."""
    import signal
    import subprocess
    import sys
    import time

    monkeypatch.setenv("REPLICATE_API_TOKEN", FAKE_TOKEN)
    simulator.latency = 30  # Prefer: wait holds the create
    write_eval(suite(simulator.url).replace("wait: 0", "wait: 60"))
    with open(pytester.path / "out.txt", "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-p", "pytest_replicate.pytest.plugin", *LOUD, "--replicate-concurrency=1"],
            cwd=pytester.path, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 20
        while not simulator.predictions_created() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    printed = (pytester.path / "out.txt").read_text(errors="replace")
    assert "KeyboardInterrupt" in printed
    assert FAKE_TOKEN not in printed


DEEP = "[" * 5000 + "]" * 5000


def _prediction_with_output(output: str) -> str:
    return '{"id": "p1", "status": "succeeded", "output": ' + output + "}"


@pytest.mark.parametrize("where", ["create", "error", "output", "output under the parse limit"])
def test_deeply_nested_answers_fail_only_their_item(pytester, write_eval, simulator, where):
    if where == "create":
        simulator.add_fault(Fault("shape", method="POST", body=DEEP))
    elif where == "error":
        simulator.add_fault(Fault("status", status=422, method="POST", body=DEEP))
    else:
        depth = 5000 if where == "output" else 900  # json.loads reads 900 levels; walking them may not
        simulator.add_fault(Fault("shape", method="POST", body=_prediction_with_output("[" * depth + "]" * depth)))
    write_eval(suite(simulator.url, tests=2))
    result = pytester.runpytest("--replicate-concurrency=1")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the server's answer is nested too deeply to read*"])
    assert "RecursionError" not in result.stdout.str() and "Traceback" not in result.stdout.str()


def test_a_recursive_schema_in_is_json_fails_cleanly(pytester, write_eval):
    write_eval("prompts: ['[[[1]]]']\nproviders: [echo]\n"
               "tests: [{assert: [{type: is-json, value: {$ref: '#', type: array, items: {$ref: '#'}}}]}]\n")
    result = pytester.runpytest()
    assert "RecursionError" not in result.stdout.str() and "Traceback" not in result.stdout.str()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the schema cannot be checked: its $ref leads back to itself without end*"])


def test_deeply_nested_json_in_an_output_fails_its_assertions_cleanly(pytester, write_eval):
    write_eval(f"prompts: ['{DEEP}']\nproviders: [echo]\n"
               "tests: [{assert: [{type: is-json}]}, {assert: [{type: contains-json}]}, {assert: [{type: equals, value: [1]}]}]\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=2, passed=1)  # contains-json finds the innermost levels, which read
    result.stdout.fnmatch_lines(["*output is not valid JSON (nested too deeply to read)*"])
    assert "RecursionError" not in result.stdout.str() and "Traceback" not in result.stdout.str()


def test_polls_go_to_the_base_urls_origin_not_to_the_urls_an_answer_names(pytester, write_eval):
    """The simulator names itself 127.0.0.1 in a prediction's ``urls``; the base URL says localhost."""
    from pytest_replicate.simulator import Simulator

    with Simulator(latency=0.3) as server:
        port = server.url.rsplit(":", 1)[1]
        write_eval(suite(f"http://localhost:{port}"))
        result = pytester.runpytest("-q")
        result.assert_outcomes(passed=1)
        polls = [request for request in server.requests if request.method == "GET"]
        assert polls and all(request.path.startswith("/v1/predictions/") for request in polls)
        assert {request.headers.get("host") for request in server.requests} == {f"localhost:{port}"}


def test_a_redirect_to_another_origin_is_refused_and_says_so(pytester, write_eval, simulator):
    from pytest_replicate.simulator import Simulator

    with Simulator() as other:
        simulator.add_fault(Fault("status", status=307, headers={"Location": other.url + LLAMA2_CREATE}))
        write_eval(suite(simulator.url))
        result = pytester.runpytest(*LOUD)
        result.assert_outcomes(failed=1)
        assert other.requests == []  # the token never went there, nor the request
    result.stdout.fnmatch_lines([
        f"*the API at {simulator.url} redirected POST {LLAMA2_CREATE} to another origin, {other.url}; the API token "
        f"is sent only to {simulator.url}*Check REPLICATE_BASE_URL or config.base_url*"])
    assert "no Replicate API token" not in result.stdout.str()
    assert FAKE_TOKEN not in everything_printed(pytester, result)


# A token not shaped like Replicate's (too short for the r8_ pattern): only knowing it hides it.
UNSHAPED_TOKEN = "r8_envtok42"
FILE_TOKEN = "r8_" + "F" * 37


def test_a_collection_error_quoting_a_token_hides_it(pytester, write_eval, monkeypatch):
    monkeypatch.setenv("REPLICATE_API_TOKEN", UNSHAPED_TOKEN)
    write_eval(f"""\
        prompts: ["{{{{ q }}}}"]
        providers: [echo]
        tests:
          - vars: {{q: hi}}
            assert: [{{type: regex, value: "({UNSHAPED_TOKEN}"}}]
        """)
    write_eval(f"""\
        prompts: ["{{{{ q }}}}"]
        providers: [{{id: replicate:meta/llama-2-7b-chat, config: {{apiKey: {FILE_TOKEN}}}}}]
        tests:
          - vars: {{q: hi}}
            assert: [{{type: regex, value: "({FILE_TOKEN}"}}]
        """, name="other.eval.yaml")
    result = pytester.runpytest(*LOUD)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*tests[[]0[]].assert[[]0[]].value: invalid regular expression /(<REDACTED>/*"])
    printed = everything_printed(pytester, result)
    assert UNSHAPED_TOKEN not in printed and FILE_TOKEN not in printed


@pytest.mark.parametrize("args", [("-q",), ("-l", "--tb=long"), ("-rA", "-vv")])
def test_fixture_results_and_reports_hide_the_token(pytester, replicate_env, monkeypatch, args):
    """The same output an eval item redacts: assert_output's report, a ModelResult's repr (assertion
    rewriting shows it, -l shows it as a local), with the token from the environment and one given
    to the provider's config (read from another variable, so the test's own source shows neither)."""
    monkeypatch.setenv("REPLICATE_API_TOKEN", UNSHAPED_TOKEN)
    monkeypatch.setenv("MY_KEY", "r8_cfgtok99")
    pytester.makepyfile(test_leak="""
        import os
        from pytest_replicate import assert_output

        def test_env_token(replicate_provider, replicate_session):
            result = replicate_provider("replicate:meta/llama-2-7b-chat")(
                "Repeat {{ t }}", vars={"t": os.environ["REPLICATE_API_TOKEN"]})
            assert_output(result, "contains", "nothing like this")

        def test_session_assert_output(replicate_session):
            replicate_session.assert_output("echo " + os.environ["REPLICATE_API_TOKEN"], "contains", "nothing")

        def test_config_token(replicate_provider):
            llm = replicate_provider("replicate:meta/llama-2-7b-chat", apiKey=os.environ["MY_KEY"])
            result = llm("Repeat {{ t }}", vars={"t": os.environ["MY_KEY"]})
            assert result.text == "x"

        def test_run_case(replicate_session):
            from pytest_replicate import load_suite

            result = replicate_session.run_case(load_suite("leak.eval.yaml")[0], check=False)
            assert result.passed
    """)
    write(pytester, "leak.eval.yaml", """
        prompts: ["Repeat {{ t }}"]
        providers: [replicate:meta/llama-2-7b-chat]
        tests:
          - vars: {t: file://token.txt}
            assert: [{type: contains, value: nothing like this}]
    """)
    write(pytester, "token.txt", UNSHAPED_TOKEN)
    result = pytester.runpytest(*args, "--junitxml=report.xml", "test_leak.py")
    result.assert_outcomes(failed=4)
    printed = everything_printed(pytester, result)
    assert "<REDACTED>" in printed
    assert UNSHAPED_TOKEN not in printed and "r8_cfgtok99" not in printed
