"""The cassette file format: vcrpy's YAML, made to diff well in review.

A vcrpy serializer (``serialize(cassette_dict) -> str``, ``deserialize(str) -> dict``, passed
as the cassette's ``serializer=``) that keeps vcrpy's document (``interactions``, ``version``,
``metadata``) and changes three things:

* JSON bodies are YAML structures with sorted keys (``body: {json: ...}``), not one folded
  string; multi-line strings are literal blocks and no line is folded, so a changed value
  changes its own lines only.
* Volatile values, which differ on every recording of the same outputs, are written once, on
  the document's single ``volatile:`` line, and everywhere else by a placeholder:
  ``{prediction-1}`` for a prediction's id (in its URLs, its polls' paths, its logs, the
  adoption choices in ``metadata``), ``{prediction-1.created_at}`` (and ``started_at``,
  ``completed_at`` and the ``metrics`` of time), ``{file-1}`` for an output file's URL
  (signed and expiring). Loading puts the values back, so replay sees what
  was recorded: ids stay unique across the session's cassettes (calls claim predictions by
  id) and time-billed costs keep their ``predict_time``.
* Response headers that only say when or through which edge a reply came (``date``...) are
  not kept. Nor are polls that found a prediction still running when a later poll followed
  (:func:`still_running`; the cassette holds them back): how many polls a prediction took is
  timing, and a replay's first poll gets the next recorded answer anyway.

Files in vcrpy's own YAML format (cassettes recorded before this format) load unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import yaml

from . import quick_yaml, vcrpy

_SafeDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's when PyYAML has it

# Headers that differ on every reply and that replay has no use for.
VOLATILE_HEADERS = frozenset({"date", "age", "expires", "cf-ray", "x-request-id", "server-timing", "nel",
                              "report-to", "set-cookie"})
# A prediction's fields that tell when and how fast, never what.
_VOLATILE_FIELDS = (("created_at",), ("started_at",), ("completed_at",), ("metrics", "predict_time"),
                    ("metrics", "total_time"), ("metrics", "tokens_per_second"))
_RUNNING = ("starting", "processing")
_PLACEHOLDER = re.compile(r"\{((?:prediction|file)-\d+(?:\.[a-z_.]+)?(?:~\d+)?)\}")


class _Line(dict[str, Any]):
    """A mapping written on one line (flow style)."""


class _Dumper(_SafeDumper):
    """Sorted keys, no folding, literal blocks for multi-line text, a list of numbers (an
    embedding) on one line.

    Two shortcuts that leave the text as it was (a save is on every recorded item's way): no
    anchors are looked for, since :meth:`_Volatile.hide` makes every mapping and list of a
    document afresh, so none can appear twice; and a scalar's implicit tag, which PyYAML works
    out twice per scalar from the scalar alone, is remembered (the same keys and words recur).
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and isinstance(value, str):
            return _scalar_tag(value, implicit)
        return super().resolve(kind, value, implicit)


@lru_cache(maxsize=4096)
def _scalar_tag(value: str, implicit: tuple[bool, bool]) -> str:
    return str(_RESOLVER.resolve(yaml.ScalarNode, value, implicit))


def _represent_str(dumper: _Dumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_line(dumper: _Dumper, value: _Line) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


def _represent_list(dumper: _Dumper, value: list[Any]) -> yaml.Node:
    numbers = bool(value) and all(isinstance(item, (int, float)) and not isinstance(item, bool) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=numbers)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Line, _represent_line)
_Dumper.add_representer(list, _represent_list)
_RESOLVER = yaml.resolver.Resolver()  # PyYAML's implicit tags, which SafeDumper uses unchanged


def serialize(cassette_dict: dict[str, Any]) -> str:
    """vcrpy's cassette document (bodies already redacted) as reviewable YAML."""
    document = {**cassette_dict, "interactions": [_readable(item) for item in cassette_dict["interactions"]]}
    volatile = _Volatile()
    for interaction in document["interactions"]:
        volatile.collect(interaction["response"]["body"].get("json"))
    document = volatile.hide(document)
    if volatile.values:
        document["volatile"] = _Line(volatile.values)
    return yaml.dump(document, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=2**31 - 1)


def deserialize(cassette_string: str) -> Any:
    """The document vcrpy expects, from this format or vcrpy's own.

    Read by :mod:`quick_yaml` when the text has the shape :func:`serialize` writes (replay reads
    a cassette per item), else by vcrpy's YAML loader, which also says what is wrong with a file.
    """
    document = quick_yaml.load(cassette_string)
    if document is None:
        vcrpy.ensure()
        from vcr.serializers import yamlserializer

        document = yamlserializer.deserialize(cassette_string)
    if not isinstance(document, dict):
        return document  # vcrpy says what is wrong with it
    values = document.pop("volatile", None)
    if isinstance(values, dict) and values:
        document = _restore(document, values)
    for interaction in document.get("interactions") or ():
        request, response = interaction["request"], interaction["response"]
        if _is_json(request.get("body")):
            request["body"] = _json_text(request["body"]["json"])
        if _is_json(response.get("body")):
            response["body"] = {"string": _json_text(response["body"]["json"])}
    return document


def still_running(body: bytes) -> bool:
    """Whether a response ``body`` is a prediction still starting or processing."""
    try:
        value = json.loads(body)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("status") in _RUNNING


def _readable(interaction: dict[str, Any]) -> dict[str, Any]:
    request, response = dict(interaction["request"]), dict(interaction["response"])
    body = _parsed(request.get("body"), request.get("headers") or {})
    if body is not None:
        request["body"] = {"json": body}
    response["headers"] = {name: values for name, values in (response.get("headers") or {}).items()
                           if name.lower() not in VOLATILE_HEADERS}
    response_body = dict(response.get("body") or {})
    parsed = _parsed(response_body.get("string"), response["headers"])
    response["body"] = {"json": parsed} if parsed is not None else response_body
    return {**interaction, "request": request, "response": response}


def _parsed(body: Any, headers: Mapping[str, Any]) -> Any:
    """A JSON object or array body, parsed; None for anything else (kept as it is)."""
    content_type = next((values for name, values in headers.items() if name.lower() == "content-type"), None)
    if not body or not isinstance(body, (str, bytes)) or "json" not in str(content_type or "").lower():
        return None
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, (dict, list)) else None


def _is_json(body: Any) -> bool:
    return isinstance(body, dict) and set(body) == {"json"}


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Volatile:
    """The volatile values of one cassette, by placeholder name, found in the predictions it holds."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._ids: dict[str, str] = {}  # prediction id -> its placeholder
        self._urls: dict[str, str] = {}  # output file URL -> its placeholder

    def collect(self, body: Any) -> None:
        """Note the predictions in a response body (one, or a page of ``results``), and replace
        their volatile fields with placeholders, in place."""
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            for prediction in body["results"]:
                self.collect(prediction)
        if not (isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"] and "status" in body):
            return
        alias = self._ids.get(body["id"]) or self._name(f"prediction-{len(self._ids) + 1}", body["id"])
        self._ids[body["id"]] = alias
        for path in _VOLATILE_FIELDS:
            *parents, last = path
            holder: Any = body
            for key in parents:
                holder = holder.get(key) if isinstance(holder, dict) else None
            if isinstance(holder, dict) and holder.get(last) is not None:
                holder[last] = _placeholder(self._name(f"{alias}.{'.'.join(path)}", holder[last]))
        for url in _urls(body.get("output")):
            self._urls.setdefault(url, self._name(f"file-{len(self._urls) + 1}", url))

    def _name(self, base: str, value: Any) -> str:
        """``base`` for ``value`` (``base~2`` and on if ``base`` already stands for another value)."""
        name, n = base, 1
        while name in self.values and self.values[name] != value:
            n += 1
            name = f"{base}~{n}"
        self.values[name] = value
        return name

    def hide(self, value: Any) -> Any:
        """``value`` with every id and file URL in its strings replaced by their placeholders."""
        ids = sorted(self._ids.items(), key=lambda item: -len(item[0]))

        def hide_text(text: str) -> str:
            if text in self._urls:
                return _placeholder(self._urls[text])
            for real, alias in ids:
                text = text.replace(real, _placeholder(alias))
            return text

        return _map_strings(value, hide_text)


def _placeholder(name: str) -> str:
    return "{" + name + "}"


def _urls(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output] if output.startswith(("https://", "http://")) else []
    if isinstance(output, list):
        return [url for item in output for url in _urls(item)]
    if isinstance(output, dict):
        return [url for item in output.values() for url in _urls(item)]
    return []


def _restore(value: Any, values: Mapping[str, Any]) -> Any:
    """``value`` with the placeholders in its strings replaced by what they stand for."""
    def restore_text(text: str) -> Any:
        if "{" not in text:
            return text
        whole = _PLACEHOLDER.fullmatch(text)
        if whole and whole[1] in values:
            return values[whole[1]]  # typed: a number stays a number
        return _PLACEHOLDER.sub(lambda match: str(values.get(match[1], match[0])), text)

    return _map_strings(value, restore_text)


def _map_strings(value: Any, change: Callable[[str], Any]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_map_strings(item, change) for item in value]
    if isinstance(value, dict):
        return {key: _map_strings(item, change) for key, item in value.items()}
    return value
