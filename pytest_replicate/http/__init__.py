"""The bottom layer: one pooled httpx client whose transport records and replays cassettes.

Providers import from here, never the other way round; nothing here knows about Replicate,
YAML or pytest. Submodules are imported directly (``http.extensions``, ``http.client``):
vcrpy loads with the session, which is made on first need (see ``pytest/state.py``).
"""
