"""Load an eval file: parse, validate against schema.json, resolve ``file://`` references.

The result is an :class:`EvalSuite` in which every reference is resolved and every piece
of user code is compiled, so problems surface at collection time with a file and line.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

from ..assertions.parse import FILE_PREFIX, parse_assertion
from ..assertions.spec import AssertionSpec
from ..empty import EMPTY
from ..errors import ConfigError, ConfigErrors, display_path, format_path
from ..providers.registry import check_provider_id
from ..templating import register_filter, syntax_error
from ..transforms import UserCode, compile_code, load_file_function
from . import derived, refs, validation, var_files
from .model import (
    MAX_CONCURRENCY,
    NOT_REPEATABLE,
    EvalSuite,
    FileChoices,
    FileVar,
    Prompt,
    ProviderSpec,
    Repeat,
    TestCase,
)
from .parse_cache import ParseCache
from .prompts import load_prompt
from .source import Document, YamlPath, load_yaml, paused_gc, read_file
from .test_files import generated_tests, is_generator, read_tests_file

T = TypeVar("T")

_PATH_HINT = "paths in file:// references are relative to the folder of the file that names them"


def load_eval_file(file: Path, cache: ParseCache | None = None) -> EvalSuite:
    """``file`` read, validated and with its references resolved; expanding it into cases is ``expand``'s job.

    ``cache``: parsed files kept between runs (``parse_cache.py``), for the eval file itself.
    """
    with paused_gc():
        return _load_eval_file(file, cache)


def _load_eval_file(file: Path, cache: ParseCache | None) -> EvalSuite:
    doc = load_yaml(file, cache)
    if not isinstance(doc.data, dict):
        raise ConfigError("an eval file must be a mapping with prompts, providers and tests", file=file, line=1)
    _promptfoo_aliases(doc)
    found = _Problems(validation.problems(doc))
    data = doc.data
    for index, item in enumerate(data.get("derivedMetrics") or () if found.clean("derivedMetrics") else ()):
        found.attempt(partial(_check_derived, doc, ("derivedMetrics", index, "value"), item["value"]))
    if found.clean("nunjucksFilters") and data.get("nunjucksFilters"):  # before prompts, whose templates use them
        found.attempt(lambda: _register_filters(doc))
    default = found.attempt(lambda: _default_test(doc)) if found.clean("defaultTest") else None
    readable = {key: key in data and found.clean(key) for key in ("prompts", "providers")}
    prompts = _load_prompts(doc, found) if readable["prompts"] else []
    providers = _load_providers(doc, found) if readable["providers"] else []
    if readable["providers"] and found.clean("prompts"):  # every prompt read: a filter can be checked
        _check_prompt_filters(doc, prompts, found)
    tests = [_test(raw, source, path, default, problems, found)
             for raw, source, path, problems in _test_entries(doc, found)]
    if found.clean("scenarios"):
        tests += [_test(raw, doc, path, default, problems, found) for raw, path, problems in _scenario_tests(doc, found)]
    found.check(file, tests)
    assert default is not None  # else found.check raised
    if not tests and not data.get("scenarios"):
        tests = [_parse_test({}, doc, ("defaultTest",), default)]
    return EvalSuite(
        file=file,
        description=data.get("description"),
        prompts=prompts,
        providers=providers,
        tests=tests,
        env={key: str(value) for key, value in (data.get("env") or {}).items()},
        min_pass_rate=(data.get("metadata") or {}).get("min_pass_rate"),
        derived_metrics=[(item["name"], item["value"]) for item in data.get("derivedMetrics") or ()],
    )


def _promptfoo_aliases(doc: Document) -> None:
    """What promptfoo resolves before validating: ``$ref`` references, and ``targets`` (its other
    name for ``providers``)."""
    if refs.mentions_refs(doc):
        doc.data = refs.dereference(doc)
    data = doc.data
    if "targets" in data and "providers" not in data:
        data["providers"] = data.pop("targets")
        doc.line_of(("targets", 0, 0))  # index every line, then file them under providers too
        doc.lines.update({("providers",) + path[1:]: line for path, line in list(doc.lines.items())
                          if path[:1] == ("targets",)})


def _check_derived(doc: Document, path: YamlPath, expression: str) -> None:
    try:
        derived.parse(expression)
    except derived.ExpressionError as error:
        raise doc.error(path, f"derived metric {expression!r}: {error}",
                        "promptfoo's JavaScript-function form is not supported; write an arithmetic expression "
                        "over metric names and __count") from None


def _register_filters(doc: Document) -> None:
    """``nunjucksFilters``: each name's Python function (file://filters.py:function, default ``filter``)
    becomes a template filter."""
    for name, reference in doc.data["nunjucksFilters"].items():
        path = ("nunjucksFilters", name)
        if not reference.startswith(FILE_PREFIX):
            reference = FILE_PREFIX + reference  # promptfoo names them by plain paths too
        try:
            function = load_file_function(reference, doc.base_dir, "filter")
            register_filter(name, function, (doc.base_dir / reference[len(FILE_PREFIX):]).resolve().as_posix())
        except ValueError as error:
            raise doc.error(path, str(error), "a filter is file://filters.py:function, called with the "
                                              "filtered value and the filter's arguments; filters are shared "
                                              "by the session's eval files, so give different ones different "
                                              "names") from None


def _default_test(doc: Document) -> TestCase:
    """``defaultTest``: a test mapping, or a file:// reference to one."""
    raw = doc.data.get("defaultTest") or {}
    if not isinstance(raw, str):
        return _parse_test(raw, doc, ("defaultTest",), None)
    source = read_tests_file(_resolve_files(doc, ("defaultTest",), raw)[0])
    if len(source.data) != 1 or not isinstance(source.data[0], dict):
        raise doc.error(("defaultTest",), f"{raw!r} must hold one test mapping (vars, assert, options...)")
    problems = validation.problems(Document(source.file, source.data[0], {(): 1}), "test")
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems, source.file)
    return _parse_test(source.data[0], source, (0,), None)


class _Problems:
    """What is wrong with an eval file, gathered so that one run reports it all.

    A problem inside a test (a mapping under ``tests``, here or in a tests file) belongs to that
    test: its cases are still collected, and fail with it (``TestCase.problem``), as promptfoo
    errors only that test. Any other problem (YAML syntax, prompts, providers, defaultTest, a
    tests file that cannot be read) fails the whole file, with every problem of the file listed.
    """

    def __init__(self, schema: list[ConfigError]) -> None:
        self.of_file = [error for error in schema if _test_index(error.path) is None and _scenario_part(error.path) is None]
        self.schema_of_tests = [error for error in schema if _test_index(error.path) is not None]
        self.schema_of_scenarios: dict[YamlPath, list[ConfigError]] = {}  # by scenarios[i].config[k] / .tests[j]
        for error in schema:
            part = _scenario_part(error.path)
            if part is not None:
                self.schema_of_scenarios.setdefault(part, []).append(error)
        self.of_tests: list[ConfigError] = []  # every test's, for the file's message if the file fails

    def clean(self, key: str) -> bool:
        """Whether the schema found nothing wrong under the top-level ``key`` (so it can be read)."""
        return not any(error.path[:1] == (key,) for error in self.of_file)

    def attempt(self, load: Callable[[], T]) -> T | None:
        """``load()``, or None with its ConfigError noted as a problem of the file."""
        try:
            return load()
        except ConfigErrors as errors:
            self.of_file.extend(errors.problems)
        except ConfigError as error:
            self.of_file.append(error)
        return None

    def check(self, file: Path, tests: list[TestCase]) -> None:
        """Raise every problem at once if any is the file's; the tests' alone let the file load."""
        if not self.of_file:
            return
        def order(error: ConfigError) -> tuple:  # the file's own problems first, by line
            return error.file is not None and Path(error.file) != file, error.line or 0, error.location

        problems = sorted(self.of_file + self.of_tests, key=order)
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems, file)


def _scenario_part(path: YamlPath) -> YamlPath | None:
    """``scenarios[i].config[k]`` or ``scenarios[i].tests[j]`` if a main file's error path is inside one, else None."""
    if len(path) > 4 and path[0] == "scenarios" and path[2] in ("config", "tests") and isinstance(path[3], int):
        return path[:4]
    return None


def _test_index(path: YamlPath) -> int | None:
    """The index of the test a main file's error path is under (``tests[3]...``), else None."""
    return path[1] if len(path) > 1 and path[0] == "tests" and isinstance(path[1], int) else None


def _test(raw: dict, doc: Document, path: YamlPath, default: TestCase | None, problems: list[ConfigError],
          found: _Problems) -> TestCase:
    """The test at ``path``: parsed, or (it has ``problems``, or parsing finds some) a test whose
    cases fail with them."""
    # The parts the schema found fault with are not read; the others are, for their own problems.
    at = len(doc.prefix) + len(path)
    faulty = {error.path[at:] for error in problems}
    try:
        test = _parse_test(raw, doc, path, default, faulty)
        if not problems:
            return test
    except ConfigErrors as errors:
        problems = problems + errors.problems
    except ConfigError as error:
        problems = [*problems, error]
    problems.sort(key=lambda error: (error.line or 0, error.location))
    found.of_tests.extend(problems)
    return _broken_test(raw, doc, path, default, problems)


def _broken_test(raw: dict, doc: Document, path: YamlPath, default: TestCase | None,
                 problems: list[ConfigError]) -> TestCase:
    """A test that cannot run: its cases are named as usual (description, or its vars as written)
    so they can be selected, and fail with its problems."""
    variables: dict[str, Any] = raw["vars"] if isinstance(raw.get("vars"), dict) else {}
    if default is not None:
        variables = {**default.vars, **variables}
    description = raw.get("description")
    line = doc.line_of(path)
    return TestCase(
        description=description if isinstance(description, str) else None,
        vars=variables, asserts=[], options=EMPTY, threshold=None, metadata=EMPTY,
        file=doc.file, path=doc.prefix + tuple(path), line=line,
        problem=problems[0] if len(problems) == 1 else ConfigErrors(
            problems, f"{format_path(doc.prefix + tuple(path)) or 'the test'} of {display_path(doc.file)}"),
    )


# -- file references ---------------------------------------------------------------------


def _resolve_files(doc: Document, path: YamlPath, reference: str) -> list[Path]:
    """The files a ``file://`` reference names (globs allowed), or a ConfigError."""
    target = reference[len(FILE_PREFIX) :]
    if not target.strip():
        raise doc.error(path, f"{reference!r} names no file: the path after file:// is empty",
                        "write the path relative to this file's folder, such as file://cases.yaml")
    if any(char in target for char in "*?["):
        matches = sorted(p for p in doc.base_dir.glob(target) if p.is_file())
        if not matches:
            raise doc.error(path, f"no file matches {reference!r}", _PATH_HINT)
        return matches
    file = doc.base_dir / target
    if file.is_dir():
        raise doc.error(path, f"{reference!r} is a directory, not a file",
                        f"name a file inside it, or a glob such as {reference.rstrip('/')}/*.txt")
    if not file.is_file():
        raise doc.error(path, f"file not found: {reference!r} (looked for {file})", _PATH_HINT)
    return [file]


def _load_data_file(doc: Document, path: YamlPath, reference: str) -> Any:
    """Contents of a referenced file: parsed for .json/.yaml/.yml, text otherwise."""
    file = _resolve_files(doc, path, reference)[0]
    if file.suffix == ".json":
        try:
            return json.loads(read_file(file))
        except json.JSONDecodeError as error:
            raise ConfigError(f"invalid JSON: {error.msg}", file=file, line=error.lineno) from None
    if file.suffix in (".yaml", ".yml"):
        return load_yaml(file).data
    return read_file(file)


# -- prompts and providers ---------------------------------------------------------------


def _as_entries(doc: Document, key: str) -> Iterator[tuple[Any, YamlPath]]:
    raw = doc.data[key]
    if key == "prompts" and isinstance(raw, dict):  # promptfoo's {path: label} form
        for name, label in raw.items():
            yield {"raw": name, "label": label}, (key, name)
        return
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            yield item, (key, index)
    else:
        yield raw, (key,)


def _load_prompts(doc: Document, found: _Problems) -> list[Prompt]:
    prompts: list[Prompt] = []
    for item, path in _as_entries(doc, "prompts"):
        prompts.extend(found.attempt(partial(_load_prompt, doc, item, path)) or [])
    return prompts


def _load_prompt(doc: Document, item: Any, path: YamlPath) -> list[Prompt]:
    found = load_prompt(doc, item, path)
    for prompt in found:
        problem = syntax_error(prompt.raw) if prompt.function is None else None
        if problem:
            raise doc.error(path, f"prompt {prompt.label!r}: {problem}")
    return found


def _load_providers(doc: Document, found: _Problems) -> list[ProviderSpec]:
    providers = []
    for item, path in _as_entries(doc, "providers"):
        provider = found.attempt(partial(_load_provider, doc, item, path))
        if provider is not None:
            providers.append(provider)
    return providers


def _load_provider(doc: Document, item: Any, path: YamlPath, *, check_id: bool = True) -> ProviderSpec:
    if isinstance(item, str):
        item, id_path = {"id": item}, path
    elif "id" not in item:  # promptfoo's {provider-id: {config, label...}}
        (key, options), = item.items()
        item, path = {"id": key, **options}, path + (key,)
        id_path = path
    else:
        id_path = path + ("id",)
    if check_id:
        _check_provider_id(doc, id_path, item["id"])
    transform = None
    if "transform" in item:
        transform = _compile(doc, path + ("transform",), item["transform"], "get_transform", "provider transform")
    prompts = tuple(item["prompts"]) if "prompts" in item else None
    label = item.get("label") or _default_provider_label(item["id"])
    delay = item.get("delay", 0)
    if not 0 <= delay <= MAX_DELAY_MS:  # the schema lets nan and inf through
        raise doc.error(path + ("delay",), f"expected milliseconds from 0 to {MAX_DELAY_MS} (one hour), got {delay!r}")
    _check_max_concurrency(doc, path, item.get("config") or {})
    return ProviderSpec(item["id"], label, item.get("config") or {}, prompts, transform, doc.line_of(path),
                        delay=delay / 1000, env={key: str(value) for key, value in (item.get("env") or {}).items()})


def _test_provider(doc: Document, item: Any, path: YamlPath) -> ProviderSpec:
    """A test's ``provider``; without an id, an override of the column's provider (``ProviderSpec.OVERRIDE``)."""
    if isinstance(item, dict) and "id" not in item:
        return _load_provider(doc, {"id": ProviderSpec.OVERRIDE, **item}, path, check_id=False)
    return _load_provider(doc, item, path)


def _check_prompt_filters(doc: Document, prompts: list[Prompt], found: _Problems) -> None:
    """A provider's ``prompts`` entry that names no prompt would silently drop its cases."""
    known = [prompt.label for prompt in prompts] + [prompt.id for prompt in prompts if prompt.id]
    for item, path in _as_entries(doc, "providers"):
        for index, name in enumerate(item.get("prompts", ()) if isinstance(item, dict) else ()):
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "prompt ids and labels here: " + ", ".join(map(repr, known))
                found.of_file.append(doc.error(path + ("prompts", index), f"no prompt has the id or label {name!r}", hint))


MAX_DELAY_MS = 3_600_000


def _check_max_concurrency(doc: Document, path: YamlPath, config: Any) -> None:
    """``config.max_concurrency`` bounds the scheduler: a whole number, 1 or more (0 would never run)."""
    if not isinstance(config, dict) or config.get(MAX_CONCURRENCY) is None:
        return
    limit = config[MAX_CONCURRENCY]
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not float(limit).is_integer() or limit < 1:
        raise doc.error(path + ("config", MAX_CONCURRENCY), f"expected a whole number, 1 or more, got {limit!r}")


def _check_provider_id(doc: Document, path: YamlPath, provider_id: str) -> None:
    try:
        check_provider_id(provider_id)
    except ConfigError as error:
        raise doc.locate(error, path) from None


def _default_provider_label(provider_id: str) -> str:
    """The id, with a 64-hex version shortened so item names stay readable."""
    return re.sub(r":([0-9a-f]{12})[0-9a-f]{52}$", r":\1", provider_id)


def _compile(doc: Document, path: YamlPath, source: str, default_function: str, what: str,
             params: tuple[str, str] = ("output", "context")) -> UserCode:
    try:
        return compile_code(source, doc.base_dir, default_function=default_function, what=what, params=params)
    except ConfigError as error:
        raise doc.locate(error, path) from None


# -- tests -------------------------------------------------------------------------------


def _test_entries(doc: Document, found: _Problems) -> Iterator[tuple[Any, Document, YamlPath, list[ConfigError]]]:
    """Every test with the document and path to blame for it, and the schema's problems with it;
    a tests file that cannot be read is a problem of the file."""
    raw = doc.data.get("tests")
    if raw is None or (not found.clean("tests") and not isinstance(raw, list)):
        return
    if isinstance(raw, (str, dict)):
        yield from _tests_from_files(doc, ("tests",), raw, found, whole=True)
        return
    by_test: dict[int, list[ConfigError]] = {}
    for error in found.schema_of_tests:
        by_test.setdefault(_test_index(error.path) or 0, []).append(error)
    for index in range(len(raw)):
        item, path = raw[index], ("tests", index)
        if isinstance(item, dict) and "path" not in item:
            yield item, doc, path, by_test.get(index, [])
            raw[index] = None  # parsed: a large suite need not hold its raw and parsed tests at once
        elif index in by_test:  # not a test: a generator or reference the schema refused, no cases to fail
            found.of_file.extend(by_test[index])
        else:
            yield from _tests_from_files(doc, path, item, found)


def _tests_from_files(doc: Document, path: YamlPath, reference: str | dict, found: _Problems, *,
                      whole: bool = False) -> Iterator[tuple[Any, Document, YamlPath, list[ConfigError]]]:
    """The tests of a file reference (a glob: of each file), or of a generator (``x.py:function``,
    or ``{path, config}``); ``whole``: the reference is all of ``tests``."""
    for source in _test_sources(doc, path, reference, found, whole):
        by_test: dict[int, list[ConfigError]] = {}
        for error in validation.problems(source, "testList") if source.file.suffix != ".csv" else ():
            by_test.setdefault(error.path[0] if error.path and isinstance(error.path[0], int) else 0, []).append(error)
        items = source.data or []
        for index in range(len(items)):
            if isinstance(items[index], dict) and "path" not in items[index]:
                yield items[index], source, (index,), by_test.get(index, [])
                items[index] = None  # parsed: let the raw test go
            elif index in by_test:
                found.of_file.extend(by_test[index])
            else:  # a string the schema accepts: a file:// reference
                found.of_file.append(source.error((index,), "nested test files and generators are not supported",
                                                  "name every tests file from the eval file"))


def _test_sources(doc: Document, path: YamlPath, reference: str | dict, found: _Problems,
                  whole: bool) -> Iterator[Document]:
    config = reference.get("config") if isinstance(reference, dict) else None
    target: str = reference["path"] if isinstance(reference, dict) else reference  # {path: gen.py:fn, config}
    remote = validation.remote_source(target)
    if remote is not None:
        found.of_file.append(doc.error(path, *validation.remote_refusal(remote)))
        return
    if not target.startswith(FILE_PREFIX):  # promptfoo reads tests from plain paths and globs too
        target = FILE_PREFIX + target
    if is_generator(target):
        source = found.attempt(partial(_generated, doc, path, target, config))
        if source is not None:
            yield source
        return
    for file in found.attempt(partial(_resolve_files, doc, path, target)) or []:
        source = found.attempt(partial(read_tests_file, file, whole=whole))
        if source is not None:
            yield source


def _generated(doc: Document, path: YamlPath, reference: str, config: Any) -> Document:
    try:
        return generated_tests(reference, doc.base_dir, config)
    except ConfigError as error:
        raise doc.locate(error, path) from None


def _scenario_tests(doc: Document, found: _Problems) -> Iterator[tuple[dict, YamlPath, list[ConfigError]]]:
    """promptfoo's ``scenarios``: each of a scenario's ``config`` entries with each of its ``tests``,
    merged as promptfoo's ``mergeScenarioTest`` does (vars, options and metadata key by key, the
    config's assertions first), after the file's own tests."""
    for index, scenario in enumerate(doc.data.get("scenarios") or ()):
        at: YamlPath = ("scenarios", index)
        scenarios = found.attempt(partial(_scenario_files, doc, at, scenario)) or [] if isinstance(scenario, str) \
            else [scenario]
        for scenario in scenarios:
            if not isinstance(scenario, dict) or not isinstance(scenario.get("config"), list):
                found.of_file.append(doc.error(at, "a scenario is a mapping with config (a list) and tests"))
                continue
            for index_of_data, data in enumerate(scenario["config"]):
                for number, test in enumerate(scenario.get("tests") or [{}]):
                    # the schema's findings in either part are this merged test's (a file's scenarios: none)
                    problems = [*found.schema_of_scenarios.get(at + ("config", index_of_data), ()),
                                *found.schema_of_scenarios.get(at + ("tests", number), ())] if isinstance(
                                    doc.data["scenarios"][index], dict) else []
                    yield _merged_scenario_test(data, test), at + ("tests", number), problems


def _scenario_files(doc: Document, path: YamlPath, reference: str) -> list[dict]:
    """The scenarios of ``scenarios: [file://...]`` entries (a file holds one or a list), checked by the schema."""
    scenarios: list[dict] = []
    for file in _resolve_files(doc, path, reference):
        source = load_yaml(file)  # JSON is YAML too
        items = source.data if isinstance(source.data, list) else [source.data]
        problems = [error for index, item in enumerate(items) for error in validation.problems(
            Document(file, item, {(): source.line_of((index,) if source.data is items else ()) or 1}), "scenario")]
        if problems:
            raise problems[0] if len(problems) == 1 else ConfigErrors(problems, file)
        scenarios.extend(items)
    return scenarios


def _merged_scenario_test(data: dict, test: dict) -> dict:
    merged = {**data, **test}
    for key in ("vars", "options", "metadata"):
        if isinstance(data.get(key), dict) or isinstance(test.get(key), dict):
            merged[key] = {**(data.get(key) or {}), **(test.get(key) or {})}
    if "assert" in data or "assert" in test:
        merged["assert"] = [*(data.get("assert") or ()), *(test.get("assert") or ())]
    return merged


def _resolve_vars(doc: Document, path: YamlPath, raw: Any) -> dict[str, Any]:
    if isinstance(raw, (list, str)):  # vars: [a.yaml, more/*.yaml]: promptfoo's vars files, merged, later files win
        merged: dict[str, Any] = {}
        for index, reference in enumerate([raw] if isinstance(raw, str) else raw):
            where = path if isinstance(raw, str) else path + (index,)
            reference = reference if reference.startswith(FILE_PREFIX) else FILE_PREFIX + reference
            for file in _resolve_files(doc, where, reference):
                merged.update(_vars_file(doc, where, f"{FILE_PREFIX}{_relative(file, doc.base_dir)}"))
        raw = merged
    if not raw:
        return {}
    if not any(_has_file_reference(value) for value in raw.values()):
        return raw  # the common case: nothing to read, nothing to copy
    return {name: _resolve_var(doc, path + (name,), value) for name, value in raw.items()}


def _vars_file(doc: Document, path: YamlPath, reference: str) -> dict[str, Any]:
    found = _load_data_file(doc, path, reference)
    if not isinstance(found, dict):
        raise doc.error(path, "a vars file must contain a mapping of variable names to values")
    return found


def _has_file_reference(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(FILE_PREFIX)
    return isinstance(value, list) and any(isinstance(item, str) and item.startswith(FILE_PREFIX) for item in value)


def _resolve_var(doc: Document, path: YamlPath, value: Any) -> Any:
    """``file://`` values become :class:`FileVar`; a glob becomes one case per file, as in promptfoo."""
    if isinstance(value, str) and value.startswith(FILE_PREFIX):
        files = _resolve_files(doc, path, value)
        if _is_glob(value):
            return FileChoices(_file_var(doc, path, f"{FILE_PREFIX}{_relative(file, doc.base_dir)}", file) for file in files)
        return _file_var(doc, path, value, files[0])
    if isinstance(value, list):
        resolved = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.startswith(FILE_PREFIX):
                if _is_glob(item):
                    raise doc.error(path + (index,), "a file:// glob inside a list of values is not supported",
                                    "give the glob as the var's whole value: each matching file becomes a case")
                item = _file_var(doc, path + (index,), item, _resolve_files(doc, path + (index,), item)[0])
            resolved.append(item)
        return resolved
    return value


def _is_glob(reference: str) -> bool:
    return any(char in reference for char in "*?[")


def _relative(file: Path, base_dir: Path) -> str:
    return file.relative_to(base_dir).as_posix() if file.is_relative_to(base_dir) else file.as_posix()


def _file_var(doc: Document, path: YamlPath, reference: str, file: Path) -> FileVar:
    """Read a var's file as promptfoo does (``var_files.py``): a code file's function, YAML as JSON,
    images as ``data:`` URIs, video and audio as base64, other text trimmed."""
    found = var_files.kind(file)
    if found in ("python", "javascript"):
        code = _compile(doc, path, reference, "get_var", "var")
        return FileVar(reference, get_var=code.function, trimmed=found == "python")
    if found == "yaml":
        return FileVar(reference, json.dumps(load_yaml(file).data, ensure_ascii=False, separators=(",", ":")))
    if found == "pdf":
        raise doc.error(path, f"{reference!r} is a PDF, whose text promptfoo would extract and pytest-replicate "
                              "does not", "save its text as a .txt file and name that")
    try:
        if found in ("image", "video", "audio"):
            return FileVar(reference, var_files.media_text(file, found), media=True)
        return FileVar(reference, _file_text(file, file.stat().st_mtime_ns))
    except ConfigError as error:  # named by the file: say which var of which test names it
        raise doc.error(path, f"{reference!r}: {error.message}", error.hint) from None


@lru_cache(maxsize=1024)
def _file_text(file: Path, mtime_ns: int) -> str:
    """A var file's trimmed text; read once however many tests name it."""
    return read_file(file).strip()


def _parse_test(raw: dict, doc: Document, path: YamlPath, default: TestCase | None,
                faulty: Collection[YamlPath] = ()) -> TestCase:
    """The test ``raw``, with defaultTest merged in; a ConfigError (ConfigErrors: several) names
    every problem of its parts (transform, vars, each assertion, repeat). Parts under a path in
    ``faulty`` (relative to the test: the schema's findings) are not read."""
    problems: list[ConfigError] = []

    def part(at: YamlPath, load: Callable[[], T], fallback: T) -> T:
        if faulty and any(bad[: len(at)] == at or at[: len(bad)] == bad for bad in faulty if bad):
            return fallback
        try:
            return load()
        except ConfigError as error:
            problems.append(error)
            return fallback

    options = dict(raw["options"]) if isinstance(raw.get("options"), dict) and raw["options"] else EMPTY
    if "postprocess" in options:  # promptfoo's old name for transform
        options.setdefault("transform", options.pop("postprocess"))
    for key, params in (("transform", ("output", "context")), ("transformVars", ("vars", "context"))):
        if key in options:
            options[key] = part(("options", key), partial(
                _compile, doc, path + ("options", key), options[key], "get_transform", key, params=params), None)
    line = doc.line_of(path)
    test = TestCase(
        description=raw.get("description"),
        vars=part(("vars",), lambda: _resolve_vars(doc, path + ("vars",), raw.get("vars")), {}),
        asserts=[spec for i, item in enumerate(raw["assert"] if isinstance(raw.get("assert"), list) else [])
                 if (spec := part(("assert", i), partial(_parse_assertion, item, doc, path + ("assert", i)),
                                  None))],
        options=options,
        threshold=raw.get("threshold"),
        metadata=dict(raw["metadata"]) if raw.get("metadata") else EMPTY,
        file=doc.file,
        path=doc.prefix + tuple(path),
        line=line,
        repeat=part(("repeat",), lambda: _parse_repeat(doc, path + ("repeat",), raw.get("repeat")), None),
        provider=part(("provider",), partial(_test_provider, doc, raw["provider"], path + ("provider",)), None)
        if raw.get("provider") is not None else None,
        providers=tuple(raw["providers"]) if isinstance(raw.get("providers"), list) else None,
        prompts=tuple(raw["prompts"]) if isinstance(raw.get("prompts"), list) else None,
        provider_output=raw.get("providerOutput") or None,
        scoring=part(("assertScoringFunction",), lambda: _compile(
            doc, path + ("assertScoringFunction",), raw["assertScoringFunction"], "get_assert", "assertScoringFunction"),
            None) if isinstance(raw.get("assertScoringFunction"), str) else None,
    )
    if test.repeat is None and isinstance(options.get("repeat"), int):
        test.repeat = Repeat(options["repeat"])
    if problems:
        raise problems[0] if len(problems) == 1 else ConfigErrors(problems, doc.file)
    if default is None:
        return test
    if default.vars:  # merged only where defaultTest has something: 100,000 tests need no copies
        test.vars = {**default.vars, **test.vars}
    if default.asserts and not options.get("disableDefaultAsserts"):
        test.asserts = default.asserts + test.asserts
    if default.options:
        test.options = {**default.options, **test.options}
    if default.metadata:
        test.metadata = {**default.metadata, **test.metadata}
    test.provider = test.provider or default.provider
    test.providers = default.providers if test.providers is None else test.providers
    test.prompts = default.prompts if test.prompts is None else test.prompts
    test.scoring = test.scoring or default.scoring
    if test.threshold is None:
        test.threshold = default.threshold
    if test.repeat is None:
        test.repeat = default.repeat
    if test.repeat is not None and any(spec.type == "select-best" for spec in test.asserts):
        raise doc.error(path + ("repeat",) if "repeat" in raw else path, NOT_REPEATABLE,
                        "move the select-best assertion to a test without repeat")
    return test


def _parse_repeat(doc: Document, path: YamlPath, raw: Any) -> Repeat | None:
    """A validated ``repeat``: ``N`` or ``{count, reducer, threshold}``, with the reducer able to run."""
    if raw is None:
        return None
    if isinstance(raw, int):
        return Repeat(raw)
    reducer = raw.get("reducer", "all")
    name, k = (reducer, None) if isinstance(reducer, str) else next(iter(reducer.items()))
    repeat = Repeat(raw["count"], name, k, raw.get("threshold"))
    if repeat.threshold is not None and name not in ("mean", "pass_at"):
        raise doc.error(path + ("threshold",), f"the {name} reducer has no threshold: it counts passing samples",
                        "a threshold goes with reducer: mean or reducer: {pass_at: K}")
    problem = repeat.problem()
    if problem is not None:
        raise doc.error(path + ("reducer",), problem, f"raise count to {k} or more, or lower {name}")
    return repeat


def _parse_assertion(raw: dict, doc: Document, path: YamlPath) -> AssertionSpec:
    def load_file(at: YamlPath, reference: str) -> Any:
        return _load_data_file(doc, at, reference)

    try:
        return parse_assertion(raw, path, base_dir=doc.base_dir, load_file=load_file)
    except ConfigError as error:
        raise doc.locate(error) from None
