"""JSON shapes of the read-only resources: models, versions, deployments, pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

from .catalogue import Deployment, ModelSpec
from .inputs import openapi_schema

T = TypeVar("T")
# Versions get fixed creation dates, newest first, so listings are stable across runs.
_VERSION_EPOCH = "2024-06-{day:02d}T12:00:00.000000Z"


def version_json(spec: ModelSpec, version: str) -> dict[str, Any]:
    day = max(1, 28 - spec.versions.index(version))
    return {"id": version, "created_at": _VERSION_EPOCH.format(day=day), "cog_version": "0.9.13",
            "openapi_schema": openapi_schema(spec)}


def model_json(spec: ModelSpec, run_count: int) -> dict[str, Any]:
    return {
        "url": f"https://replicate.com/{spec.ref}",
        "owner": spec.owner,
        "name": spec.name,
        "description": spec.description or f"Simulated {spec.kind} model {spec.ref}",
        "visibility": "public",
        "is_official": spec.official,
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": run_count,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": version_json(spec, spec.latest_version),
    }


def deployment_json(deployment: Deployment, spec: ModelSpec) -> dict[str, Any]:
    return {
        "owner": deployment.owner,
        "name": deployment.name,
        "current_release": {
            "number": 1,
            "model": spec.ref,
            "version": deployment.version or spec.latest_version,
            "created_at": _VERSION_EPOCH.format(day=28),
            "created_by": {"type": "organization", "username": deployment.owner, "name": deployment.owner,
                           "github_url": None},
            "configuration": {"hardware": "gpu-a40-large", "min_instances": 0, "max_instances": 1},
        },
    }


def page(items: Sequence[T], path: str, base_url: str, size: int,
         render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """One page of a cursor-paginated listing: ``{"next", "previous", "results"}``.

    The cursor is an offset in a ``cursor`` query parameter; clients treat it as opaque.
    """
    split = urlsplit(path)
    try:
        offset = max(0, int(parse_qs(split.query).get("cursor", ["0"])[0]))
    except ValueError:
        offset = 0

    def link(at: int) -> str:
        return f"{base_url}{split.path}?{urlencode({'cursor': at})}"

    return {
        "next": link(offset + size) if offset + size < len(items) else None,
        "previous": link(max(0, offset - size)) if offset > 0 else None,
        "results": [render(item) for item in items[offset:offset + size]],
    }
