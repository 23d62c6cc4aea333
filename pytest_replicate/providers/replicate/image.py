"""``replicate:image:...``: image generators; every output file is downloaded while its URL is valid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...images import sniff_image
from ..base import ImageOutput, ProviderResponse
from .api import PredictionRun
from .settings import IMAGE_PARAMETERS, SETTING_KEYS, coerce
from .text import ReplicateProvider

# promptfoo sends 768x768 unless the config says otherwise; ``width: null`` sends nothing,
# leaving the model's own default.
IMAGE_DEFAULTS = {"width": 768, "height": 768}


class ReplicateImageProvider(ReplicateProvider):
    """``replicate:image:...``: every output file, downloaded while its URL is valid; the first is the output."""

    KNOWN_PARAMETERS = frozenset(IMAGE_PARAMETERS)

    def _parameters(self, config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
        parameters = {**IMAGE_DEFAULTS, **{k: v for k, v in config.items() if k not in SETTING_KEYS}}
        for name in ("width", "height", "num_inference_steps"):
            if parameters.get(name) is not None:
                parameters[name] = coerce(parameters[name], int, f"config.{name}")
        return {key: value for key, value in parameters.items() if value is not None}

    def build_input(self, prompt: str) -> dict[str, Any]:
        return {**self.parameters, "prompt": self.wrap(prompt)}

    def read_output(self, prediction: dict[str, Any], prompt: str, run: PredictionRun,
                    response: ProviderResponse) -> None:
        output = prediction.get("output")
        urls: list[str] = [url for url in (output if isinstance(output, list) else [output]) if isinstance(url, str)]
        if not urls or any(not url for url in urls) or len(urls) != (len(output) if isinstance(output, list) else 1):
            response.error = self.missing_output("image", output)
            return
        for url in urls:
            data, media_type = run.download(url)
            info = sniff_image(data)
            response.images.append(ImageOutput(
                data=data,
                media_type=info.media_type if info else (media_type or "application/octet-stream"),
                width=info.width if info else None,
                height=info.height if info else None,
                url=None if url.startswith("data:") else url,
            ))
        response.image = response.images[0]
        first = urls[0] if not urls[0].startswith("data:") else f"data:{response.image.media_type};base64,..."
        response.output = f"![{prompt}]({first})"
