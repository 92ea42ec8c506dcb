"""Prompt and message files under ``prompts/``: loaded once, validated, never inlined in code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError, model_validator

from .errors import AssistantError

LANGUAGES = ("en", "vi", "uk", "fr", "ar")


class ExtractiveMessages(BaseModel):
    no_answer: dict[str, str]
    province_not_covered: dict[str, str]
    sources_heading: dict[str, str]
    quantity_cues: dict[str, list[str]]

    @model_validator(mode="after")
    def _every_language(self) -> ExtractiveMessages:
        for name in ("no_answer", "province_not_covered", "sources_heading", "quantity_cues"):
            missing = set(LANGUAGES) - set(getattr(self, name))
            if missing:
                raise ValueError(f"{name} lacks {', '.join(sorted(missing))}")
        if any("{provinces}" not in t for t in self.province_not_covered.values()):
            raise ValueError("province_not_covered must contain {provinces}")
        return self

    def pick(self, table: dict[str, str], language: str) -> str:
        return table.get(language) or table["en"]


@lru_cache(maxsize=8)
def load_extractive(prompts_dir: Path) -> ExtractiveMessages:
    path = prompts_dir / "extractive.yaml"
    try:
        return ExtractiveMessages.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise AssistantError(f"Prompt file missing: {path}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise AssistantError(f"Prompt file {path} is invalid: {exc}") from None


class WebMessages(BaseModel):
    """What the web app says to people (``prompts/web.yaml``)."""

    intro: str
    sign_in: str
    signed_in: str
    local_mode: str
    no_sources: str
    interrupted: str
    feedback_saved: str
    feedback_saved_with_comment: str
    feedback_not_an_answer: str
    not_allowed: str
    choose_files: str
    choose_document: str
    deleted: str
    not_indexed: str
    rebuilt: str

    @model_validator(mode="after")
    def _placeholders(self) -> WebMessages:
        needed = {"intro": "{backend}", "signed_in": "{user}", "deleted": "{source}",
                  "not_indexed": "{source}", "rebuilt": "{summary}"}
        for name, placeholder in needed.items():
            if placeholder not in getattr(self, name):
                raise ValueError(f"{name} must contain {placeholder}")
        return self


@lru_cache(maxsize=8)
def load_web(prompts_dir: Path) -> WebMessages:
    path = prompts_dir / "web.yaml"
    try:
        return WebMessages.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise AssistantError(f"Prompt file missing: {path}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise AssistantError(f"Prompt file {path} is invalid: {exc}") from None
