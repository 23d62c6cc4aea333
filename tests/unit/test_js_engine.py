"""The embedded JavaScript engine: JSON in and out, a time limit, no file or module access,
calls from many threads, and CommonJS / ES module files."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("py_mini_racer")  # the js extra; the dev extra installs it

from pytest_replicate.assertions.checks.javascript import function_body
from pytest_replicate.jscompat.engine import Engine, JsError, engine
from pytest_replicate.jscompat.modules import commonjs
from pytest_replicate.transforms import load_file_function


def test_values_cross_as_json_both_ways() -> None:
    echo = engine().inline(("value",), "return value", "echo")
    value = {"text": "héllo ✓", "n": 3, "x": 1.5, "ok": True, "none": None, "list": [1, "a", {"b": []}]}
    assert echo(value) == value
    assert engine().inline((), "return undefined", "nothing")() is None


def test_a_function_is_called_with_any_number_of_arguments() -> None:
    join = engine().inline(("a", "b", "c"), "return [a, b, c === undefined ? 'missing' : c]", "join")
    assert join(1, "two") == [1, "two", "missing"]
    assert join(1, 2, 3) == [1, 2, 3]


def test_a_returned_promise_is_awaited() -> None:
    later = engine().inline(("x",), "return new Promise((resolve) => setTimeout(() => resolve(x * 2), 1))", "later")
    assert later(21) == 42


def test_an_endless_loop_is_stopped_and_the_engine_still_works() -> None:
    fast = Engine(time_limit=0.3)
    try:
        loop = fast.inline((), "while (true) {}", "loop")
        with pytest.raises(JsError, match=r"took longer than 0.3 s and was stopped"):
            loop()
        assert fast.inline(("x",), "return x + 1", "after")(1) == 2
    finally:
        fast.close()


def test_a_promise_that_never_settles_is_stopped() -> None:
    fast = Engine(time_limit=0.3)
    try:
        with pytest.raises(JsError, match="took longer than"):
            fast.inline((), "return new Promise(() => {})", "never")()
    finally:
        fast.close()


@pytest.mark.parametrize("code", ["return require('fs')", "return process.mainModule.require('child_process')"])
def test_there_is_no_module_or_file_access(code: str) -> None:
    with pytest.raises(JsError, match=r"Error: require\('\w+'\) is not available: .*without file, network"):
        engine().inline((), code, "reads")()


def test_fetch_does_not_exist() -> None:
    with pytest.raises(JsError, match="ReferenceError: fetch is not defined"):
        engine().inline((), "return fetch('http://example.com')", "fetch")()


def test_errors_are_the_javascript_error_s_own_words() -> None:
    with pytest.raises(JsError, match=r"^TypeError: Cannot read properties of undefined \(reading 'x'\)$"):
        engine().inline(("o",), "return o.missing.x", "bad")({})
    with pytest.raises(JsError, match=r"^uncaught string: plain$"):
        engine().inline((), "throw 'plain'", "throws")()
    with pytest.raises(JsError, match=r"^SyntaxError: "):
        engine().inline((), "return (", "syntax")


def test_calls_from_many_threads_each_get_their_own_answer() -> None:
    square = engine().inline(("n",), "let s = 0; for (let i = 0; i < 1000; i++) s += 1; return n * n + s - 1000", "sq")
    results: dict[int, list[int]] = {}

    def work(worker: int) -> None:
        results[worker] = [square(worker * 100 + i) for i in range(40)]

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {worker: [(worker * 100 + i) ** 2 for i in range(40)] for worker in range(6)}


def test_file_functions_commonjs_and_es_modules(tmp_path: Path) -> None:
    (tmp_path / "common.js").write_text("module.exports = (a, b) => a + b;\nmodule.exports.neg = (a) => -a;\n")
    (tmp_path / "named.cjs").write_text("exports.twice = (a) => a * 2;\n")
    (tmp_path / "mod.mjs").write_text(
        "export default async function (a) { return a + 1; }\n"
        "export const half = (a) => a / 2;\n"
        "function third(a) { return a / 3; }\n"
        "export { third as divide };\n")
    load = lambda ref: load_file_function(ref, tmp_path, "get_transform")  # noqa: E731
    assert load("file://common.js")(2, 3) == 5
    assert load("file://common.js:neg")(2) == -2
    assert load("file://named.cjs:twice")(4) == 8
    assert load("file://mod.mjs")(1) == 2
    assert load("file://mod.mjs:half")(3) == 1.5
    assert load("file://mod.mjs:divide")(9) == 3
    with pytest.raises(ValueError, match=r"named\.cjs must export a function"):
        load("file://named.cjs")


def test_an_es_module_import_is_refused_with_its_line() -> None:
    with pytest.raises(ValueError, match=r"x.mjs, line 2: import is not available"):
        commonjs("// helpers\nimport { a } from './a.mjs';\nexport default a;\n", "x.mjs")


@pytest.mark.parametrize(("value", "body"), [
    ("output.length > 5", "return output.length > 5"),
    ("output === 'a;b';;  ", "return output === 'a;b'"),
    ("const s = JSON.parse(output).score; s > 0.5", "const s = JSON.parse(output).score; return s > 0.5"),
    ("const s = output; s === 'a;b'", "const s = output; return s === 'a;b'"),
    ("let x = 1", "let x = 1"),
    ("const n = 2;\nreturn n > 1\n", "const n = 2;\nreturn n > 1"),
])
def test_an_assertion_value_becomes_promptfoo_s_function_body(value: str, body: str) -> None:
    assert function_body(value) == body


def test_a_module_runs_once_and_its_functions_share_its_state(tmp_path: Path) -> None:
    (tmp_path / "counter.js").write_text(
        "let count = 0;\nexports.bump = () => ++count;\nexports.read = () => count;\n")
    bump = load_file_function("file://counter.js:bump", tmp_path, "get_transform")
    read = load_file_function("file://counter.js:read", tmp_path, "get_transform")
    bump()
    bump()
    assert read() == 2
