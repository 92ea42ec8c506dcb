"""``metadata.yaml`` beside documents: curated title, language, URL, date, provinces and the
groups that may read each file (its own entry, or the folder's ``*`` entry)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from assistant.access import clean_groups
from assistant.errors import DocumentError, InputError

METADATA_FILE = "metadata.yaml"


@lru_cache(maxsize=64)
def _sidecar(folder: Path, stamp: tuple[int, int]) -> dict[str, Any]:
    data = yaml.safe_load((folder / METADATA_FILE).read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def _sidecar_entries(path: Path) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The file's own entry in ``metadata.yaml`` beside it, and the folder's (key ``*``)."""
    meta_path = path.parent / METADATA_FILE
    if not meta_path.is_file():
        return None
    try:
        stat = meta_path.stat()  # (mtime, size): two quick writes may share an mtime
        data = _sidecar(path.parent, (stat.st_mtime_ns, stat.st_size))
    except (OSError, yaml.YAMLError):
        return None
    own, folder = data.get(path.name), data.get("*")
    return (own if isinstance(own, dict) else {}), (folder if isinstance(folder, dict) else {})


def sidecar_groups(path: Path, source: str | None = None) -> tuple[str, ...]:
    """The groups that may read ``path``: its ``groups`` in ``metadata.yaml``, else the
    folder's (the ``*`` entry), else none (everyone). A bad name fails the file: guessing
    "everyone" would show a restricted document to all."""
    entries = _sidecar_entries(path)
    if entries is None:
        return ()
    own, folder = entries
    raw = own.get("groups", folder.get("groups"))
    try:
        return clean_groups([raw] if isinstance(raw, str) else raw)
    except (InputError, TypeError) as exc:
        raise DocumentError(source or path.name, f"{METADATA_FILE}: groups: {exc}") from None


def sidecar_entry(path: Path) -> dict[str, Any]:
    """The file's own entry in ``metadata.yaml`` ({} if none; a malformed one is ignored)."""
    entries = _sidecar_entries(path)
    return entries[0] if entries else {}
