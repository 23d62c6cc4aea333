"""Read ``prompts`` in every form promptfoo 0.123.1 accepts (``src/prompts/index.ts`` and its processors).

- a string: the prompt's text, unless it names a file: ``file://...``, or a bare path or glob
  that names existing files (promptfoo's ``maybeFilePath``: a path ending in a prompt file's
  extension, or holding ``/`` or ``*``, with no newline);
- a mapping ``{raw | id, label, config}``: ``raw`` (else ``id``) is read as a string is; ``label``
  names its prompts (``label#N`` for a file of several; a glob's prompts are named by their files,
  as in promptfoo), ``config`` is merged over the provider's config for its cases;
- a mapping of paths to labels: ``{file://a.txt: first, file://b.txt: second}``.

A file is read by its extension, as promptfoo's processors do: ``.txt`` (and files of other
extensions) holds prompts separated by ``---`` lines, each trimmed; ``.md`` and ``.j2`` are
one prompt each, as written; ``.json`` and ``.yaml`` are one (chat) prompt, compact JSON;
``.jsonl`` one prompt per line; ``.csv`` one per row (a ``prompt`` column and an optional
``label``) or per line; ``.py:function`` (or another language's file, through
``transforms.load_file_function``) is a prompt function, called per case with
``{vars, provider: {id, label}, config}``; a ``.py`` file without a function is run as a
script with that context as JSON in its first argument, its output the prompt.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError, YamlPath
from ..text import one_line, shorten
from ..transforms import load_file_function
from .model import Prompt
from .source import Document, load_yaml, read_file

FILE_PREFIX = "file://"
# promptfoo's VALID_FILE_EXTENSIONS: a bare string ending in one of these is a file.
_FILE_EXTENSIONS = (".cjs", ".cts", ".j2", ".js", ".json", ".jsonl", ".md", ".mjs", ".mts", ".py", ".ts",
                    ".txt", ".yml", ".yaml", ".csv")
_EXECUTABLES = (".sh", ".bash", ".exe", ".bat", ".cmd", ".ps1", ".rb", ".pl")
_FUNCTION_FILES = re.compile(r"\.(py|js|cjs|mjs|ts|cts|mts|go|rb):([\w.]+)$")
SCRIPT_TIMEOUT = 60.0  # seconds, promptfoo's default for prompt scripts


def load_prompt(doc: Document, item: Any, path: YamlPath) -> list[Prompt]:
    """The prompts one entry of ``prompts`` stands for (a file may hold several)."""
    if isinstance(item, dict):
        raw = item.get("raw") or item.get("id")
        if not isinstance(raw, str) or not raw:
            raise doc.error(path, "a prompt mapping needs 'raw' (the prompt's text or file) or 'id'",
                            "write {raw: 'Say {{x}}', label: greeting} or {id: file://prompt.txt, label: greeting}")
        found = _read(doc, path, raw, item.get("label"), item.get("config"))
        if "raw" in item and "id" in item and len(found) == 1:  # a text prompt is named by its id
            found = [replace(found[0], id=item["id"], label=item.get("label") or item["id"])]
        return found
    return _read(doc, path, item, None, None)


# promptfoo's prompts kept elsewhere, fetched by promptfoo when it runs.
_REMOTE_PROMPTS = {"portkey://": "Portkey", "langfuse://": "Langfuse", "helicone://": "Helicone", "exec:": "executable"}


def _read(doc: Document, path: YamlPath, raw: str, label: str | None, config: Any) -> list[Prompt]:
    config = dict(config) if isinstance(config, Mapping) and config else None
    remote = next((name for prefix, name in _REMOTE_PROMPTS.items() if raw.startswith(prefix)), None)
    if remote is not None:
        raise doc.error(path, f"promptfoo's {remote} prompts are not supported: this plugin does not fetch or run "
                              "programs to make prompts", "copy the prompt into a file and name it with file://, "
                                                           "or write a prompt function: file://prompts.py:function")
    reference = _file_reference(doc, raw)
    if reference is None:
        return [Prompt(raw, label or _short_label(raw), config=config)]
    target, function = reference
    files = _matching(doc, path, raw, target)
    if _is_glob(target):
        label = None  # as in promptfoo, a glob's prompts are named by their files, whatever the label
    prompts = [prompt for file in files for prompt in _from_file(doc, path, file, function, label)]
    if not prompts:
        raise doc.error(path, f"there are no prompts in {raw!r}", "a prompts file holds text; check that it is not empty")
    return [replace(prompt, config=config) for prompt in prompts] if config else prompts


def _file_reference(doc: Document, raw: str) -> tuple[str, str | None] | None:
    """(path or glob, function name) if ``raw`` names files, as promptfoo's ``maybeFilePath`` reads it;
    a bare string that looks like a path but names no file stays text."""
    explicit = raw.startswith(FILE_PREFIX)
    target = raw[len(FILE_PREFIX):] if explicit else raw
    if not explicit and ("\n" in raw or not _looks_like_path(raw)):
        return None
    function = None
    match = _FUNCTION_FILES.search(target)
    if match:
        function, target = match.group(2), target[: match.start(2) - 1]
    if not explicit and not _exists(doc.base_dir, target):
        return None
    return target, function


def _looks_like_path(raw: str) -> bool:
    last = raw.split(":")
    ends = any(token.endswith(ext) for token in last[-2:] for ext in _FILE_EXTENSIONS)
    return ends or "*" in raw or "/" in raw or "\\" in raw


def _exists(base_dir: Path, target: str) -> bool:
    """Whether a bare string names files; prompt text that only looks like a path names none."""
    if not target.strip():
        return False
    try:
        if _is_glob(target):
            return any(match.is_file() for match in base_dir.glob(target))
        return (base_dir / target).is_file()
    except (OSError, ValueError, NotImplementedError):  # a name too long to be a file, an absolute pattern
        return False


def _is_glob(target: str) -> bool:
    return any(char in target for char in "*?[")


def _matching(doc: Document, path: YamlPath, raw: str, target: str) -> list[Path]:
    if not target.strip():
        raise doc.error(path, f"{raw!r} names no file: the path after file:// is empty",
                        "write the path relative to this file's folder, such as file://prompt.txt")
    if _is_glob(target):
        try:
            files = sorted(match for match in doc.base_dir.glob(target) if match.is_file())
        except (ValueError, NotImplementedError):
            raise doc.error(path, f"{raw!r} is not a glob this plugin can expand",
                            "write the glob relative to this file's folder, such as file://prompts/*.txt") from None
        if not files:
            raise doc.error(path, f"no file matches {raw!r}",
                            "paths in file:// references are relative to the folder of the file that names them")
        return files
    file = doc.base_dir / target
    if file.is_dir():
        raise doc.error(path, f"{raw!r} is a directory, not a file", f"name a file inside it, or a glob such as {raw.rstrip('/')}/*.txt")
    if not file.is_file():
        raise doc.error(path, f"file not found: {raw!r} (looked for {file})",
                        "paths in file:// references are relative to the folder of the file that names them")
    return [file]


def _name(file: Path, base_dir: Path) -> str:
    return file.relative_to(base_dir).as_posix() if file.is_relative_to(base_dir) else file.name


def _from_file(doc: Document, path: YamlPath, file: Path, function: str | None, label: str | None) -> list[Prompt]:
    name = _name(file, doc.base_dir)
    suffix = file.suffix.lower()
    if function is not None or suffix in (".js", ".cjs", ".mjs", ".ts", ".cts", ".mts"):
        return [_prompt_function(doc, path, file, name, function, label)]
    if suffix == ".py":
        return [Prompt(read_file(file), label or name, function=_script(file, name))]
    if suffix in _EXECUTABLES:
        raise doc.error(path, f"promptfoo's executable prompts ({name}) are not supported: pytest-replicate does not "
                              "run programs to make prompts", "write the prompt function in Python: file://prompt.py:function")
    text = read_file(file)
    if suffix in (".md", ".j2"):
        return [Prompt(text, label or name)]
    if suffix == ".json":
        return [Prompt(_compact_json(text), label or name)]
    if suffix in (".yaml", ".yml"):
        return [Prompt(json.dumps(load_yaml(file).data, ensure_ascii=False, separators=(",", ":")), label or name)]
    if suffix == ".jsonl":
        lines = [line for line in re.split(r"\r?\n", text) if line]
        return [Prompt(line, label or name if len(lines) == 1 else f"{label or name}#{index}")
                for index, line in enumerate(lines, 1)]
    if suffix == ".csv":
        return _csv_prompts(text, label or name)
    parts = [part.strip() for part in re.split(r"^---\s*$", text, flags=re.MULTILINE) if part.strip()]
    if len(parts) == 1:
        return [Prompt(parts[0], label or name)]
    return [Prompt(part, f"{label or name}#{index}") for index, part in enumerate(parts, 1)]


def _compact_json(text: str) -> str:
    """A JSON prompt file as promptfoo keeps it: ``JSON.stringify(JSON.parse(text))``, or the text if it is not JSON."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return text


def _csv_prompts(text: str, name: str) -> list[Prompt]:
    """promptfoo's prompts CSV: a ``prompt`` column (and ``label``), or one prompt per line."""
    if "," not in text:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        rows = [{"prompt": line} for line in lines]
    else:
        rows = [row for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if (row.get("prompt") or "").strip()]
    return [Prompt(row["prompt"].strip(), (row.get("label") or "").strip() or f"{name}#{index}")
            for index, row in enumerate(rows, 1)]


def _prompt_function(doc: Document, path: YamlPath, file: Path, name: str, function: str | None,
                     label: str | None) -> Prompt:
    reference = f"{FILE_PREFIX}{file}" + (f":{function}" if function else "")
    try:
        called = load_file_function(reference, doc.base_dir, function or "default")
    except ValueError as error:
        raise doc.error(path, str(error), "a prompt function is file://prompts.py:function_name, "
                                          "called with {vars, provider, config}") from None
    shown = f"{name}:{function}" if function else name
    return Prompt(f"{FILE_PREFIX}{shown}", label or shown, function=called)


def _script(file: Path, name: str) -> Any:
    """promptfoo's legacy Python prompt: the whole file run with the context as JSON, its output the prompt."""
    def run(context: Mapping[str, Any]) -> str:
        try:
            done = subprocess.run([sys.executable, str(file), json.dumps(context, default=str)], capture_output=True,
                                  text=True, timeout=SCRIPT_TIMEOUT, cwd=file.parent, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{name} ran longer than {SCRIPT_TIMEOUT:.0f} s") from None
        if done.returncode != 0:
            raise RuntimeError(f"{name} exited with status {done.returncode}: {done.stderr.strip()[-500:]}")
        return done.stdout.rstrip("\n")
    return run


def _short_label(text: str, limit: int = 40) -> str:
    return shorten(one_line(text).replace("::", ":"), limit)


def called(prompt: Prompt, variables: Mapping[str, Any], provider_id: str, provider_label: str) -> Prompt:
    """A prompt function's prompt for one case, as promptfoo's ``renderPrompt`` takes it: a string is
    the prompt; ``{prompt, config}`` gives the prompt (JSON unless a string) and config merged over
    the prompt's; any other value is sent as its JSON. The result is then rendered as any prompt is.
    A function that raises or returns something else is a ConfigError for that case."""
    assert prompt.function is not None
    context = {"vars": dict(variables), "provider": {"id": provider_id, "label": provider_label},
               "config": dict(prompt.config or {})}
    try:
        result = prompt.function(context)
    except (Exception, SystemExit) as error:  # the user's code: fails this case only
        raise ConfigError(f"prompt function {prompt.label!r} raised {type(error).__name__}: {error}") from None
    config = dict(prompt.config or {})
    if isinstance(result, str):
        text = result
    elif isinstance(result, dict) and "prompt" in result:
        inner = result["prompt"]
        text = inner if isinstance(inner, str) else _js_json(inner)
        if isinstance(result.get("config"), Mapping):
            config.update(result["config"])
    elif isinstance(result, (dict, list, int, float, bool)) and result is not None:
        text = _js_json(result)
    else:
        raise ConfigError(f"prompt function {prompt.label!r} returned {shorten(repr(result), 60)}",
                          hint="a prompt function returns the prompt's text, a list of chat messages, "
                               "or {prompt: ..., config: {...}}")
    return replace(prompt, raw=text, config=config or None, function=None)


def _js_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
