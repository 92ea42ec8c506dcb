"""The files shipped in ``assistant/data``: the one way to find and read them (package data,
so they are there in a wheel as in a checkout)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import AssistantError


def data_path(name: str) -> Path:
    """Where a shipped data file lives (``name`` relative to ``assistant/data``)."""
    return Path(str(resources.files("assistant").joinpath("data", name)))


@cache
def load_yaml(name: str) -> dict[str, Any]:
    """A shipped YAML mapping, read once; a broken file is an error that names it."""
    try:
        data = yaml.safe_load(data_path(name).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AssistantError(f"assistant/data/{name} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise AssistantError(f"assistant/data/{name} must be a mapping")
    return data
