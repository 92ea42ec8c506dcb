"""Prompt and message files (``assistant/data/prompts/``, shipped with the package; the
repository's ``prompts/`` links there): loaded once, validated, never inlined in code.

Every table keyed by language must cover the configured languages (``Settings.languages``,
passed to each loader): a missing translation is a clear error at start, not a KeyError in
the middle of an answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError, ValidationInfo, model_validator

from assistant.errors import AssistantError

M = TypeVar("M", bound=BaseModel)


def require_languages(info: ValidationInfo, tables: dict[str, Any]) -> None:
    """Raise if a table lacks one of the languages given as validation context."""
    languages = (info.context or {}).get("languages", ())
    for name, table in tables.items():
        missing = set(languages) - set(table)
        if missing:
            raise ValueError(f"{name} lacks {', '.join(sorted(missing))}")


class ExtractiveMessages(BaseModel):
    no_answer: dict[str, str]
    province_not_covered: dict[str, str]
    quantity_cues: dict[str, list[str]]

    @model_validator(mode="after")
    def _every_language(self, info: ValidationInfo) -> ExtractiveMessages:
        require_languages(info, {name: getattr(self, name) for name in (
            "no_answer", "province_not_covered", "quantity_cues")})
        if any("{provinces}" not in t for t in self.province_not_covered.values()):
            raise ValueError("province_not_covered must contain {provinces}")
        return self

    def pick(self, table: dict[str, str], language: str) -> str:
        return table.get(language) or table["en"]


@lru_cache(maxsize=8)
def load_extractive(prompts_dir: Path, languages: tuple[str, ...]) -> ExtractiveMessages:
    return load_model(ExtractiveMessages, prompts_dir / "extractive.yaml", languages)


class GenerativeMessages(BaseModel):
    """``prompts/generative.yaml``: the system prompt, the fenced source block, follow-ups."""

    system: str
    source: str
    user: str
    rewrite_system: str
    rewrite_user: str
    language_names: dict[str, str]
    fallback_notice: str
    followup_cues: dict[str, list[str]]
    injection_patterns: list[str]

    @model_validator(mode="after")
    def _placeholders(self, info: ValidationInfo) -> GenerativeMessages:
        required = {
            "system": ("{language_name}", "{no_answer}"),
            "source": ("{n}", "{text}", "{title}", "{date}"),
            "user": ("{sources}", "{question}"),
            "rewrite_user": ("{history}", "{question}"),
            "fallback_notice": ("{reason}",),
        }
        for name, fields in required.items():
            missing = [f for f in fields if f not in getattr(self, name)]
            if missing:
                raise ValueError(f"{name} must contain {', '.join(missing)}")
        require_languages(info, {"language_names": self.language_names,
                                 "followup_cues": self.followup_cues})
        if not self.source.lstrip().startswith("<source") or "</source>" not in self.source:
            raise ValueError("source must fence the text between <source ...> and </source>")
        for pattern in self.injection_patterns:
            re.compile(pattern)
        return self


class TranslationMessages(BaseModel):
    """``prompts/translation.yaml``: how the model is asked to translate a question."""

    system: str
    user: str
    language_names: dict[str, str]

    @model_validator(mode="after")
    def _placeholders(self, info: ValidationInfo) -> TranslationMessages:
        missing = [f for f in ("{question}", "{source_name}", "{targets}") if f not in self.user]
        if missing:
            raise ValueError(f"user must contain {', '.join(missing)}")
        require_languages(info, {"language_names": self.language_names})
        return self

    def name(self, language: str) -> str:
        return self.language_names.get(language, language)


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
    signed_out: str = "You are no longer signed in (or your account was removed): sign in again."
    anonymous_mode: str = "Anonymous access: everyone is staff (no sign-in configured)"

    @model_validator(mode="after")
    def _placeholders(self) -> WebMessages:
        needed = {"intro": "{backend}", "signed_in": "{user}", "deleted": "{source}",
                  "not_indexed": "{source}", "rebuilt": "{summary}"}
        for name, placeholder in needed.items():
            if placeholder not in getattr(self, name):
                raise ValueError(f"{name} must contain {placeholder}")
        return self


def load_model(model: type[M], path: Path, languages: Sequence[str] = ()) -> M:
    """Read a YAML prompt file into ``model``, checking it covers ``languages``; a missing or
    invalid file is a clear error."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")),
                                    context={"languages": tuple(languages)})
    except FileNotFoundError:
        raise AssistantError(f"Prompt file missing: {path}") from None
    except (yaml.YAMLError, ValidationError, re.error) as exc:
        raise AssistantError(f"Prompt file {path} is invalid: {exc}") from None


@lru_cache(maxsize=8)
def load_generative(prompts_dir: Path, languages: tuple[str, ...]) -> GenerativeMessages:
    return load_model(GenerativeMessages, prompts_dir / "generative.yaml", languages)


@lru_cache(maxsize=8)
def load_web(prompts_dir: Path) -> WebMessages:
    return load_model(WebMessages, prompts_dir / "web.yaml")


@lru_cache(maxsize=8)
def load_translation(prompts_dir: Path, languages: tuple[str, ...]) -> TranslationMessages:
    return load_model(TranslationMessages, prompts_dir / "translation.yaml", languages)
