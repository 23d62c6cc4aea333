"""The bottom layer: one pooled httpx client whose transport records and replays cassettes.

Providers import from here, never the other way round; nothing here knows about Replicate,
YAML or pytest. Submodules are imported directly (``http.extensions``, ``http.client``):
importing vcrpy is deferred until the session starts (see ``plugin.pytest_configure``).
"""
