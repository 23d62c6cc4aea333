"""What the plugin's cassette files are named, without loading vcrpy (collection reads it for every folder)."""

from __future__ import annotations

import re

# The names ``cassette_file_name`` gives: ``<slug>.<8 hex digits>.yaml``. Only such files are ours
# to call unused and delete; a pytest-recording cassette (``<test name>.yaml``) never matches.
OUR_CASSETTE_NAME = re.compile(r".+\.[0-9a-f]{8}\.yaml")
# A file saved beside a cassette (an image): ``<the cassette's stem>.<anything>``.
SIDECAR_NAME = re.compile(r"(.+\.[0-9a-f]{8})\..+")
