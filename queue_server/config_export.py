"""The configuration in force as a TOML file: what `motcua config export` writes and the admin page downloads.

The export has the seed file's format, so it can seed another office or be read back with
`motcua config import`. TOML has no null, so keys whose value is null (a JSON document may
carry them) are left out; the validator treats a missing key and a null the same.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from queue_server.config import OfficeConfig


def document_in_force(store: Any, seed: OfficeConfig) -> dict[str, Any]:
    """The document the office runs on: the last one changed at run time (in `store`), else the seed file's."""
    return store.config_document() or seed.source


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def to_toml(document: dict[str, Any], exported_by: str = "`motcua config export`") -> str:
    """The document as TOML text, with a first line saying where it came from."""
    return f"# Exported by {exported_by}: the configuration the office runs on.\n" + tomli_w.dumps(_without_nulls(document))
