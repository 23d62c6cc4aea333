"""Load an eval file: parse, validate against schema.json, resolve ``file://`` references.

The result is an :class:`EvalSuite` in which every reference is resolved and every piece
of user code is compiled, so problems surface at collection time with a file and line.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..assertions.parse import FILE_PREFIX, parse_assertion
from ..assertions.spec import AssertionSpec
from ..errors import ConfigError
from ..providers.registry import check_provider_id
from ..templating import syntax_error
from ..text import one_line, shorten
from ..transforms import UserCode, compile_code
from . import var_files
from .csv_tests import load_csv_tests
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
from .source import Document, YamlPath, load_yaml, paused_gc, read_file
from .validation import validate

_PATH_HINT = "paths in file:// references are relative to the folder of the file that names them"


def load_eval_file(file: Path) -> EvalSuite:
    """``file`` read, validated and with its references resolved; expanding it into cases is ``expand``'s job."""
    with paused_gc():
        return _load_eval_file(file)


def _load_eval_file(file: Path) -> EvalSuite:
    doc = load_yaml(file)
    if not isinstance(doc.data, dict):
        raise ConfigError("an eval file must be a mapping with prompts, providers and tests", file=file, line=1)
    validate(doc)
    data = doc.data
    default_raw = data.get("defaultTest") or {}
    default = _parse_test(default_raw, doc, ("defaultTest",), None)
    prompts = _load_prompts(doc)
    providers = _load_providers(doc)
    _check_prompt_filters(doc, prompts)
    return EvalSuite(
        file=file,
        description=data.get("description"),
        prompts=prompts,
        providers=providers,
        tests=[_parse_test(raw, source, path, default) for raw, source, path in _test_entries(doc)]
        or [_parse_test({}, doc, ("defaultTest",), default)],
        env={key: str(value) for key, value in (data.get("env") or {}).items()},
        min_pass_rate=(data.get("metadata") or {}).get("min_pass_rate"),
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


def _short_label(text: str, limit: int = 40) -> str:
    return shorten(one_line(text).replace("::", ":"), limit)


def _as_entries(doc: Document, key: str) -> Iterator[tuple[Any, YamlPath]]:
    raw = doc.data[key]
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            yield item, (key, index)
    else:
        yield raw, (key,)


def _load_prompts(doc: Document) -> list[Prompt]:
    prompts: list[Prompt] = []
    for item, path in _as_entries(doc, "prompts"):
        if isinstance(item, dict):
            found = [Prompt(item["raw"], item.get("label") or item.get("id") or _short_label(item["raw"]), item.get("id"))]
        elif item.startswith(FILE_PREFIX):
            found = [p for file in _resolve_files(doc, path, item) for p in _prompts_from_file(file, doc.base_dir)]
        else:
            found = [Prompt(item, _short_label(item))]
        for prompt in found:
            problem = syntax_error(prompt.raw)
            if problem:
                raise doc.error(path, f"prompt {prompt.label!r}: {problem}")
        prompts.extend(found)
    return prompts


def _prompts_from_file(file: Path, base_dir: Path) -> list[Prompt]:
    """A .json file is one (chat) prompt; a text file holds prompts separated by ``---`` lines."""
    text = read_file(file)
    name = file.relative_to(base_dir).as_posix() if file.is_relative_to(base_dir) else file.name
    if file.suffix == ".json":
        return [Prompt(text, name)]
    parts = [part.strip() for part in re.split(r"^---\s*$", text, flags=re.MULTILINE) if part.strip()]
    if len(parts) == 1:
        return [Prompt(parts[0], name)]
    return [Prompt(part, f"{name}#{index}") for index, part in enumerate(parts, 1)]


def _load_providers(doc: Document) -> list[ProviderSpec]:
    providers = []
    for item, path in _as_entries(doc, "providers"):
        if isinstance(item, str):
            item, id_path = {"id": item}, path
        else:
            id_path = path + ("id",)
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
        providers.append(ProviderSpec(item["id"], label, item.get("config") or {}, prompts, transform, doc.line_of(path),
                                      delay=delay / 1000))
    return providers


def _check_prompt_filters(doc: Document, prompts: list[Prompt]) -> None:
    """A provider's ``prompts`` entry that names no prompt would silently drop its cases."""
    known = [prompt.label for prompt in prompts] + [prompt.id for prompt in prompts if prompt.id]
    for item, path in _as_entries(doc, "providers"):
        for index, name in enumerate(item.get("prompts", ()) if isinstance(item, dict) else ()):
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else "prompt ids and labels here: " + ", ".join(map(repr, known))
                raise doc.error(path + ("prompts", index), f"no prompt has the id or label {name!r}", hint)


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


def _compile(doc: Document, path: YamlPath, source: str, default_function: str, what: str) -> UserCode:
    try:
        return compile_code(source, doc.base_dir, default_function=default_function, what=what)
    except ConfigError as error:
        raise doc.locate(error, path) from None


# -- tests -------------------------------------------------------------------------------


def _test_entries(doc: Document) -> Iterator[tuple[dict, Document, YamlPath]]:
    """Every test dict with the document and path to blame for it."""
    raw = doc.data.get("tests")
    if raw is None:
        return
    if isinstance(raw, str):
        for file in _resolve_files(doc, ("tests",), raw):
            yield from _tests_from_file(file)
        return
    for index in range(len(raw)):
        item, path = raw[index], ("tests", index)
        if isinstance(item, dict):
            yield item, doc, path
            raw[index] = None  # parsed: a large suite need not hold its raw and parsed tests at once
            continue
        for file in _resolve_files(doc, path, item):
            yield from _tests_from_file(file)


def _tests_from_file(file: Path) -> Iterator[tuple[dict, Document, YamlPath]]:
    if file.suffix == ".csv":
        source = load_csv_tests(file)
    else:
        source = load_yaml(file)
        if not isinstance(source.data, list):
            raise source.error((), "a tests file must contain a YAML list of tests")
        validate(source, "testList")
    items = source.data or []
    for index in range(len(items)):
        if isinstance(items[index], str):
            raise source.error((index,), "nested file:// test references are not supported")
        yield items[index], source, (index,)
        items[index] = None  # parsed: let the raw test go


def _resolve_vars(doc: Document, path: YamlPath, raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):  # vars: file://vars.yaml
        raw = _load_data_file(doc, path, raw)
        if not isinstance(raw, dict):
            raise doc.error(path, "a vars file must contain a mapping of variable names to values")
    if not raw:
        return {}
    if not any(_has_file_reference(value) for value in raw.values()):
        return raw  # the common case: nothing to read, nothing to copy
    return {name: _resolve_var(doc, path + (name,), value) for name, value in raw.items()}


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
    """Read a var's file as promptfoo does (``var_files.py``): Python's get_var, YAML as JSON,
    images as ``data:`` URIs, video and audio as base64, other text trimmed."""
    found = var_files.kind(file)
    if found == "python":
        code = _compile(doc, path, reference, "get_var", "var")
        return FileVar(reference, get_var=code.function)
    if found == "yaml":
        return FileVar(reference, json.dumps(load_yaml(file).data, ensure_ascii=False, separators=(",", ":")))
    if found == "javascript":
        raise doc.error(path, f"{reference!r} is JavaScript, which promptfoo would run and pytest-replicate does not",
                        "write its get_var as a Python file: get_var(var_name, prompt, other_vars) -> {'output': ...}")
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


def _parse_test(raw: dict, doc: Document, path: YamlPath, default: TestCase | None) -> TestCase:
    options = dict(raw.get("options") or {})
    if "transform" in options:
        options["transform"] = _compile(doc, path + ("options", "transform"), options["transform"], "get_transform", "transform")
    line = doc.line_of(path)
    test = TestCase(
        description=raw.get("description"),
        vars=_resolve_vars(doc, path + ("vars",), raw.get("vars")),
        asserts=[_parse_assertion(item, doc, path + ("assert", i)) for i, item in enumerate(raw.get("assert") or [])],
        options=options,
        threshold=raw.get("threshold"),
        metadata=dict(raw.get("metadata") or {}),
        location=f"{doc.file.name}:{line or 1}",
        file=doc.file,
        path=doc.prefix + tuple(path),
        line=line,
        repeat=_parse_repeat(doc, path + ("repeat",), raw.get("repeat")),
    )
    if default is None:
        return test
    if default.vars:
        test.vars = {**default.vars, **test.vars}
    test.asserts = default.asserts + test.asserts
    test.options = {**default.options, **test.options}
    test.metadata = {**default.metadata, **test.metadata}
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
