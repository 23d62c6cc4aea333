"""Read-only endpoints: models, versions, deployments, uploaded files and the account.

A mixin of :class:`~.server.Simulator`, kept apart because none of it touches predictions.
"""

from __future__ import annotations

import threading
from collections import Counter

from .catalogue import Catalogue, ModelSpec
from .faults import Fault
from .files import FileStore, StoredFile, parse_upload
from .messages import ApiError, ReceivedRequest, Reply
from .resources import deployment_json, model_json, page, version_json


class LookupEndpoints:
    """Handlers for the lookups; the Simulator provides the state declared here."""

    catalogue: Catalogue
    files: FileStore
    page_size: int
    _lock: threading.Lock
    _creates: Counter[str]

    @property
    def url(self) -> str:
        raise NotImplementedError

    def _model(self, ref: str) -> ModelSpec:
        spec = self.catalogue.models.get(ref)
        if spec is None:
            raise ApiError(404, f"Model not found: {ref}", "Not found")
        return spec

    def _get_model(self, request: ReceivedRequest, fault: Fault | None, ref: str) -> Reply:
        spec = self._model(ref)
        with self._lock:
            runs = self._creates[ref]
        return Reply.json(200, model_json(spec, runs))

    def _list_models(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        specs = sorted(self.catalogue.models.values(), key=lambda s: s.ref)
        with self._lock:
            runs = dict(self._creates)
        return Reply.json(200, page(specs, request.path, self.url, self.page_size,
                                    lambda spec: model_json(spec, runs.get(spec.ref, 0))))

    def _list_versions(self, request: ReceivedRequest, fault: Fault | None, ref: str) -> Reply:
        spec = self._model(ref)
        return Reply.json(200, page(spec.versions, request.path, self.url, self.page_size,
                                    lambda version: version_json(spec, version)))

    def _get_version(self, request: ReceivedRequest, fault: Fault | None, ref: str, version: str) -> Reply:
        spec = self._model(ref)
        if version not in spec.versions:
            raise ApiError(404, f"Version not found: {ref}:{version}", "Not found")
        return Reply.json(200, version_json(spec, version))

    def _get_deployment(self, request: ReceivedRequest, fault: Fault | None, ref: str) -> Reply:
        deployment = self.catalogue.deployments.get(ref)
        if deployment is None:
            raise ApiError(404, f"Deployment not found: {ref}", "Not found")
        return Reply.json(200, deployment_json(deployment, self._model(deployment.model)))

    def _list_deployments(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        deployments = sorted(self.catalogue.deployments.values(), key=lambda d: d.ref)
        return Reply.json(200, page(deployments, request.path, self.url, self.page_size,
                                    lambda d: deployment_json(d, self._model(d.model))))

    def _upload(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        try:
            name, content_type, content, metadata = parse_upload(request.headers.get("content-type", ""),
                                                                 request.body)
        except ValueError as error:
            raise ApiError(422, str(error), "Invalid file upload") from None
        return Reply.json(201, self.files.add(name, content_type, content, metadata).to_json(self.url))

    def _stored_file(self, file_id: str) -> StoredFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise ApiError(404, f"File not found: {file_id}", "Not found")
        return stored

    def _list_files(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        return Reply.json(200, page(self.files.all(), request.path, self.url, self.page_size,
                                    lambda stored: stored.to_json(self.url)))

    def _get_file(self, request: ReceivedRequest, fault: Fault | None, file_id: str) -> Reply:
        return Reply.json(200, self._stored_file(file_id).to_json(self.url))

    def _download_file(self, request: ReceivedRequest, fault: Fault | None, file_id: str) -> Reply:
        stored = self._stored_file(file_id)
        return Reply(200, stored.content, stored.content_type)

    def _delete_file(self, request: ReceivedRequest, fault: Fault | None, file_id: str) -> Reply:
        self._stored_file(file_id)
        self.files.delete(file_id)
        return Reply(204)

    def _account(self, request: ReceivedRequest, fault: Fault | None) -> Reply:
        return Reply.json(200, {"type": "user", "username": "simulator", "name": "Replicate Simulator",
                                "github_url": None})
