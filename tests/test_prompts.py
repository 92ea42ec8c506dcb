from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.prompts import load_extractive, load_generative, load_translation, load_web

from .conftest import ROOT

LANGUAGES = tuple(Settings().languages)


def test_bundled_prompts_are_valid() -> None:
    messages = load_extractive(ROOT / "prompts", LANGUAGES)
    assert set(messages.no_answer) >= {"en", "vi", "uk", "fr", "ar"}


@pytest.mark.parametrize("load", [load_extractive, load_generative, load_translation])
def test_prompts_must_cover_the_configured_languages(load: Any) -> None:
    # The languages come from the settings: configure one the files lack, and they say so.
    languages = tuple(Settings(languages="en,de").languages)
    with pytest.raises(AssistantError, match="lacks de"):
        load(ROOT / "prompts", languages)


@pytest.mark.parametrize(("old", "new", "error"), [
    ('  ar: "لا تجيب المستندات عن هذا السؤال."\n', "", "no_answer lacks ar"),
    ("{provinces}.\"\n  vi", "x.\"\n  vi", "must contain"),
    ("no_answer:", "no_answer: [", "invalid"),
])
def test_broken_prompt_files_are_refused(tmp_path: Path, old: str, new: str, error: str) -> None:
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    path = tmp_path / "prompts" / "extractive.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(AssistantError, match=error):
        load_extractive(tmp_path / "prompts", LANGUAGES)


@pytest.mark.parametrize(("old", "new", "error"), [
    (None, None, None),
    ("**{backend}**", "**x**", "intro must contain {backend}"),
    ('not_allowed: "Only administrators can change the documents."\n', "",
     "not_allowed"),
])
def test_web_messages_are_validated(tmp_path: Path, old: str | None, new: str | None,
                                    error: str | None) -> None:
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    path = tmp_path / "prompts" / "web.yaml"
    if old is None:  # the bundled file as shipped
        assert "{source}" in load_web(path.parent).deleted
        return
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new or "", 1), encoding="utf-8")
    with pytest.raises(AssistantError, match=error):
        load_web(tmp_path / "prompts")
