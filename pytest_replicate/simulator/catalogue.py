"""Which models the simulator serves, their versions, input schemas and canned answers.

The catalogue is data: the built-in one below covers the models of the docs and the
example suite, and ``--models FILE`` (JSON or YAML, see :func:`load_catalogue`) adds or
replaces models without code. Each model's input schema drives validation (422s shaped
like Replicate's) and the ``openapi_schema`` of its version objects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

Kind = Literal["text", "grader", "image", "moderation", "embedding"]
KINDS: tuple[str, ...] = get_args(Kind)
FieldType = Literal["string", "integer", "number", "boolean", "array", "file"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class InputField:
    """One model input, as a Cog model declares it (``file`` is a string URI)."""

    type: FieldType
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class CannedAnswer:
    """A fixed output for prompts that contain ``when`` (case-insensitive); with ``outputs``, the
    n-th prediction of one prompt answers ``outputs[n % len(outputs)]`` (a model whose answers
    vary from sample to sample, yet predictably)."""

    when: str
    output: Any = None
    outputs: tuple[Any, ...] = ()

    def answer(self, turn: int) -> Any:
        return self.outputs[turn % len(self.outputs)] if self.outputs else self.output


@dataclass(frozen=True)
class ModelSpec:
    """One simulated model. ``versions[0]`` is the latest version."""

    owner: str
    name: str
    kind: Kind
    versions: tuple[str, ...]
    # False for models that Replicate only runs by version (404 on /v1/models/.../predictions).
    official: bool = True
    inputs: Mapping[str, InputField] = field(default_factory=dict)
    answers: tuple[CannedAnswer, ...] = ()
    # Seconds from creation to a terminal status; None uses the Simulator's latency.
    latency: float | None = None
    description: str = ""

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def latest_version(self) -> str:
        return self.versions[0]

    def canned(self, prompt: str, turn: int = 0) -> Any | None:
        """The canned output for ``prompt``, if one of this model's answers matches; ``turn``
        counts the predictions of this prompt before this one."""
        lowered = prompt.lower()
        for answer in self.answers:
            if answer.when.lower() in lowered:
                return answer.answer(turn)
        return None


@dataclass(frozen=True)
class Deployment:
    owner: str
    name: str
    model: str  # "owner/name" of a catalogue model
    version: str | None = None  # None runs the model's latest version

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Catalogue:
    """Models and deployments by "owner/name"; later additions replace earlier ones."""

    models: dict[str, ModelSpec] = field(default_factory=dict)
    deployments: dict[str, Deployment] = field(default_factory=dict)

    def add(self, models: Iterable[ModelSpec] = (), deployments: Iterable[Deployment] = ()) -> Catalogue:
        for spec in models:
            self.models[spec.ref] = spec
        for deployment in deployments:
            self.deployments[deployment.ref] = deployment
        return self

    def merged(self, other: Catalogue) -> Catalogue:
        return Catalogue(dict(self.models), dict(self.deployments)).add(other.models.values(),
                                                                        other.deployments.values())

    def find_version(self, version: str) -> tuple[ModelSpec, str] | None:
        """Resolve ``<hash>`` or ``owner/name:<hash>`` to (model, hash), or None if unknown."""
        ref, sep, digest = version.rpartition(":")
        if not sep:
            digest = version
        for spec in self.models.values():
            if digest in spec.versions and (not sep or ref == spec.ref):
                return spec, digest
        return None

    def describe(self) -> str:
        """One line per model and deployment, for ``--list-models``."""
        lines = []
        for spec in sorted(self.models.values(), key=lambda s: s.ref):
            how = "official" if spec.official else "version-only"
            lines.append(f"{spec.ref:<42} {spec.kind:<10} {how:<12} {spec.latest_version}")
        for deployment in sorted(self.deployments.values(), key=lambda d: d.ref):
            lines.append(f"{deployment.ref:<42} deployment -> {deployment.model}")
        return "\n".join(lines)


def stand_in_version(label: str) -> str:
    """A fixed 64-hex version id for a model whose real version we do not pin."""
    return hashlib.sha256(label.encode()).hexdigest()


# --- input schemas of the built-in models ------------------------------------------------

def _f(type_: FieldType, default: Any = None, low: float | None = None, high: float | None = None,
       *, choices: tuple[Any, ...] | None = None, required: bool = False, doc: str = "") -> InputField:
    return InputField(type_, default, low, high, choices, required, doc)


_PROMPT = _f("string", required=True, doc="Prompt to send to the model.")
_SAMPLING = {
    "temperature": _f("number", 0.7, 0, 5, doc="Randomness of outputs; 0 is deterministic."),
    "top_p": _f("number", 0.95, 0, 1, doc="Nucleus sampling."),
    "top_k": _f("integer", 0, -1, doc="Top-k sampling; 0 or -1 disables it."),
    "stop_sequences": _f("string", doc="Comma-separated sequences that stop generation."),
    "seed": _f("integer", doc="Random seed; leave blank to randomize."),
}
LLAMA2_INPUTS = {
    "prompt": _PROMPT,
    "system_prompt": _f("string", "You are a helpful assistant."),
    "max_new_tokens": _f("integer", 128, 1, 4096, doc="Maximum number of tokens to generate."),
    "min_new_tokens": _f("integer", -1, -1, doc="Minimum number of tokens; -1 disables it."),
    # Older llama-2 versions named the limit max_length; the docs' examples still send it.
    "max_length": _f("integer", None, 1, 4096, doc="Legacy name of max_new_tokens."),
    "repetition_penalty": _f("number", 1.15, 0, 5),
    **_SAMPLING,
    "debug": _f("boolean", False),
}
LLAMA3_INPUTS = {
    "prompt": _PROMPT,
    "system_prompt": _f("string", "You are a helpful assistant"),
    "max_tokens": _f("integer", 512, 1, 8192, doc="Maximum number of tokens to generate."),
    "min_tokens": _f("integer", 0, 0, doc="Minimum number of tokens to generate."),
    "max_new_tokens": _f("integer", None, 1, 8192, doc="Deprecated alias of max_tokens."),
    "min_new_tokens": _f("integer", None, -1, doc="Deprecated alias of min_tokens."),
    **_SAMPLING,
    "temperature": _f("number", 0.6, 0, 5),
    "top_p": _f("number", 0.9, 0, 1),
    "top_k": _f("integer", 50, -1),
    "presence_penalty": _f("number", 0.0),
    "frequency_penalty": _f("number", 0.0),
    "length_penalty": _f("number", 1.0, 0, 5),
    "repetition_penalty": _f("number", None, 0, 5, doc="Accepted for compatibility with older clients."),
    "prompt_template": _f("string", "{prompt}"),
    "log_performance_metrics": _f("boolean", False),
}
GEMMA_INPUTS = {
    "prompt": _PROMPT,
    "max_new_tokens": _f("integer", 200, 1, 4096),
    "min_new_tokens": _f("integer", -1, -1),
    "repetition_penalty": _f("number", 1.0, 0, 5),
    **_SAMPLING,
}
MISTRAL_INPUTS = {**LLAMA3_INPUTS, "max_new_tokens": _f("integer", 512, 1, 32768),
                  "min_new_tokens": _f("integer", -1, -1)}
SDXL_INPUTS = {
    "prompt": _f("string", "An astronaut riding a rainbow unicorn"),
    "negative_prompt": _f("string", ""),
    "image": _f("file", doc="Input image for img2img or inpaint mode."),
    "mask": _f("file", doc="Input mask for inpaint mode."),
    "width": _f("integer", 1024, 64, 2048),
    "height": _f("integer", 1024, 64, 2048),
    "num_outputs": _f("integer", 1, 1, 4),
    "scheduler": _f("string", "K_EULER", choices=("DDIM", "DPMSolverMultistep", "HeunDiscrete",
                                                   "KarrasDPM", "K_EULER_ANCESTRAL", "K_EULER", "PNDM")),
    "num_inference_steps": _f("integer", 50, 1, 500),
    "guidance_scale": _f("number", 7.5, 1, 50),
    "prompt_strength": _f("number", 0.8, 0, 1),
    "seed": _f("integer"),
    "refine": _f("string", "no_refiner",
                 choices=("no_refiner", "expert_ensemble_refiner", "base_image_refiner")),
    "high_noise_frac": _f("number", 0.8, 0, 1),
    "refine_steps": _f("integer"),
    "apply_watermark": _f("boolean", True),
    "lora_scale": _f("number", 0.6, 0, 1),
    "disable_safety_checker": _f("boolean", False),
}
FLUX_INPUTS = {
    "prompt": _PROMPT,
    "aspect_ratio": _f("string", "1:1", choices=("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4",
                                                 "3:4", "4:3", "9:16", "9:21")),
    "num_outputs": _f("integer", 1, 1, 4),
    "num_inference_steps": _f("integer", 4, 1, 4),
    "seed": _f("integer"),
    "output_format": _f("string", "webp", choices=("webp", "jpg", "png")),
    "output_quality": _f("integer", 80, 0, 100),
    "go_fast": _f("boolean", True),
    "megapixels": _f("string", "1", choices=("1", "0.25")),
    "disable_safety_checker": _f("boolean", False),
}
GUARD_INPUTS = {
    "prompt": _f("string", "I forgot how to kill a process in Linux, can you help?"),
    "assistant": _f("string", doc="Assistant response to classify."),
}
GUARD4_INPUTS = {**GUARD_INPUTS, "image": _f("file"), "max_new_tokens": _f("integer", 128, 1, 4096)}
EMBEDDING_INPUTS = {
    "text": _f("string", doc="A single string to encode."),
    "text_batch": _f("string", doc="A JSON-formatted list of strings to encode."),
}
VISION_INPUTS = {
    "image": _f("file", required=True, doc="Input image."),
    "prompt": _PROMPT,
    "max_tokens": _f("integer", 1024, 0),
    "temperature": _f("number", 0.2, 0),
    "top_p": _f("number", 1.0, 0, 1),
}

# Inputs of a catalogue-file model that does not list its own.
DEFAULT_INPUTS: dict[str, dict[str, InputField]] = {
    "text": LLAMA3_INPUTS, "grader": LLAMA3_INPUTS, "image": SDXL_INPUTS,
    "moderation": GUARD_INPUTS, "embedding": EMBEDDING_INPUTS,
}


def _model(ref: str, kind: Kind, inputs: Mapping[str, InputField], *versions: str,
           official: bool = True, description: str = "") -> ModelSpec:
    owner, name = ref.split("/")
    return ModelSpec(owner, name, kind, versions or (stand_in_version(ref),), official, inputs,
                     description=description)


# Versions of llama-2, llama70b-v2-chat, gemma, mixtral, sdxl and all-mpnet are the public
# ones seen in docs; the others are fixed stand-ins (sha256 of a label), never real hashes.
BUILTIN = Catalogue().add(
    models=(
        _model("meta/llama-2-7b-chat", "text", LLAMA2_INPUTS,
               "13c3cdee13ee059ab779f0291d29054dab00a47dad8261375654de5540165fb0"),
        _model("meta/llama-2-70b-chat", "text", LLAMA2_INPUTS,
               "02e509c789964a7ea8736978a43525956ef40397be9033abf9fd2badfe68c9e3"),
        _model("replicate/llama70b-v2-chat", "text", LLAMA2_INPUTS,
               "e951f18578850b652510200860fc4ea62b3b16fac280f83ff32282f87bbd2e48", official=False),
        _model("meta/meta-llama-3-8b-instruct", "grader", LLAMA3_INPUTS,
               "e284466ba0441179f81e59a981c2edde80d5e68db1df7f9a1e1d7e63783612ce",
               description="Default grader: answers promptfoo grading prompts in their formats."),
        _model("meta/meta-llama-3-70b-instruct", "grader", LLAMA3_INPUTS,
               "06e18efda52b345bf9001cfc39286179856fb7c3cc3ba4eb8472baf0459932cf"),
        _model("google-deepmind/gemma-7b-it", "text", GEMMA_INPUTS,
               "2790a695e5dcae15506138cc4718d1106d0d475e6dca4b1d43f42414647993d5", official=False),
        _model("mistralai/mistral-7b-instruct-v0.2", "text", MISTRAL_INPUTS,
               "59c15e7ade132932b5cf4909b0bca0ffad227995e2ddb9af415b0f404f60a98b"),
        _model("mistralai/mixtral-8x7b-instruct-v0.1", "text", MISTRAL_INPUTS,
               "7b3212fbaf88310cfef07a061ce94224e82efc8403c26fc67e8f6c065de51f21",
               "2b56576fcfbe32fa0526897d8385dd3fb3d36ba6fd0dbe033c72886b81ade93e"),
        _model("stability-ai/sdxl", "image", SDXL_INPUTS,
               "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
               "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b", official=False),
        _model("black-forest-labs/flux-schnell", "image", FLUX_INPUTS,
               "bb0d3f37069358aea997f8728115469c53991745b961dd12c731bfd39bcb536d"),
        _model("meta/llama-guard-3-8b", "moderation", GUARD_INPUTS,
               "77f38b16022e9f9409cdbf105bd5c030f092c1b6f3f327b070ba3870fdc0b790", official=False),
        _model("meta/llama-guard-4-12b", "moderation", GUARD4_INPUTS,
               "fefef51dbd3e84b0d0bfe190f34e92e1f9dc4f58d573c03717f536c17a69844a"),
        _model("replicate/all-mpnet-base-v2", "embedding", EMBEDDING_INPUTS,
               "b6b7585c9640cd7a9572c6e129c9549d79c9c31f0d3fdce7baac7c67ca38f305", official=False,
               description="768-dimensional sentence embeddings: [{embedding: [...]}] per input."),
        _model("yorickvp/llava-13b", "text", VISION_INPUTS, official=False,
               description="Vision model: takes a file input (data URI or uploaded file URL)."),
    ),
    deployments=(Deployment("acme", "support-bot", "meta/meta-llama-3-8b-instruct"),),
)


# --- catalogue files --------------------------------------------------------------------

class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the entry and the problem."""


def _field(where: str, raw: Any) -> InputField:
    if isinstance(raw, str):
        raw = {"type": raw}
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a type name or a mapping, got {raw!r}")
    unknown = set(raw) - {"type", "default", "minimum", "maximum", "choices", "required", "description"}
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("type") not in FIELD_TYPES:
        raise CatalogueError(f"{where}: type must be one of {list(FIELD_TYPES)}, got {raw.get('type')!r}")
    choices = raw.get("choices")
    return InputField(raw["type"], raw.get("default"), raw.get("minimum"), raw.get("maximum"),
                      tuple(choices) if choices is not None else None, bool(raw.get("required", False)),
                      str(raw.get("description", "")))


def _spec(index: int, raw: Any) -> ModelSpec:
    where = f"models[{index}]"
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{where}: expected a mapping, got {raw!r}")
    ref = raw.get("model") or f"{raw.get('owner')}/{raw.get('name')}"
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", ref) or "None" in ref.split("/"):
        raise CatalogueError(f"{where}: give 'owner' and 'name' (or 'model: owner/name')")
    where = f"{where} ({ref})"
    kind = raw.get("kind", "text")
    if kind not in KINDS:
        raise CatalogueError(f"{where}: kind must be one of {list(KINDS)}, got {kind!r}")
    versions = tuple(raw.get("versions") or (stand_in_version(ref),))
    bad = [v for v in versions if not isinstance(v, str) or not _HEX64.fullmatch(v)]
    if bad:
        raise CatalogueError(f"{where}: versions must be 64 lower-case hex digits, got {bad[0]!r}")
    raw_inputs = raw.get("input")
    inputs = DEFAULT_INPUTS[kind] if raw_inputs is None else {
        name: _field(f"{where}.input.{name}", value) for name, value in dict(raw_inputs).items()}
    answers = []
    for i, answer in enumerate(raw.get("answers") or ()):
        outputs = answer.get("outputs") if isinstance(answer, Mapping) else None
        if (not isinstance(answer, Mapping) or "when" not in answer or ("output" in answer) == ("outputs" in answer)
                or (outputs is not None and (not isinstance(outputs, list) or not outputs))):
            raise CatalogueError(f"{where}.answers[{i}]: expected {{when: TEXT, output: VALUE}} "
                                 "or {when: TEXT, outputs: [VALUE, ...]} (one per prediction in turn)")
        answers.append(CannedAnswer(str(answer["when"]), answer.get("output"), tuple(outputs or ())))
    latency = raw.get("latency")
    if latency is not None and (not isinstance(latency, (int, float)) or latency < 0):
        raise CatalogueError(f"{where}: latency must be a number of seconds >= 0")
    owner, name = ref.split("/")
    return ModelSpec(owner, name, kind, versions, bool(raw.get("official", True)), inputs,
                     tuple(answers), latency, str(raw.get("description", "")))


def parse_catalogue(data: Any) -> Catalogue:
    """A catalogue from decoded JSON/YAML: ``{models: [...], deployments: [...]}`` or a list of models."""
    if isinstance(data, list):
        data = {"models": data}
    if not isinstance(data, Mapping):
        raise CatalogueError("a catalogue is a mapping with 'models' (and 'deployments'), or a list of models")
    unknown = set(data) - {"models", "deployments"}
    if unknown:
        raise CatalogueError(f"unknown top-level keys {sorted(unknown)}; expected 'models' and 'deployments'")
    models = [_spec(i, raw) for i, raw in enumerate(data.get("models") or ())]
    deployments = []
    for i, raw in enumerate(data.get("deployments") or ()):
        try:
            ref = raw.get("deployment") or f"{raw['owner']}/{raw['name']}"
            owner, name = ref.split("/")
            deployments.append(Deployment(owner, name, raw["model"], raw.get("version")))
        except (AttributeError, KeyError, ValueError):
            raise CatalogueError(f"deployments[{i}]: expected {{owner, name, model[, version]}}") from None
    return Catalogue().add(models, deployments)


def load_catalogue(path: str | Path) -> Catalogue:
    """Read a JSON or YAML catalogue file (YAML is a superset of JSON, so one parser reads both)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: not valid JSON/YAML: {error}") from None
    try:
        return parse_catalogue(data)
    except CatalogueError as error:
        raise CatalogueError(f"{path}: {error}") from None
