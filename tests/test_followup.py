"""Follow-up questions become standalone only when they refer back (deterministic path)."""

from __future__ import annotations

import pytest

from assistant import Settings
from assistant.prompts import load_generative
from assistant.search.followup import refers_back, standalone_question

CUES = load_generative(Settings().prompts_dir, tuple(Settings().languages)).followup_cues
LANG_SON = [("How many hospital beds does Lạng Sơn have?", "2,862 beds [1]")]


@pytest.mark.parametrize(("question", "history", "expected"), [
    ("and in Tra Vinh?", LANG_SON, "How many hospital beds does Tra Vinh have?"),
    ("Còn Trà Vinh thì sao?", LANG_SON, "How many hospital beds does Tra Vinh have?"),
    ("Et à Tra Vinh ?", LANG_SON, "How many hospital beds does Tra Vinh have?"),
    ("what about doctors?", LANG_SON,
     "How many hospital beds does Lạng Sơn have? what about doctors?"),
    # Standalone questions are left alone, with or without a conversation.
    ("How many doctors does Tra Vinh have?", LANG_SON, "How many doctors does Tra Vinh have?"),
    ("and in Tra Vinh?", [], "and in Tra Vinh?"),
    # Chains: the second follow-up builds on the first one's standalone form.
    ("and in Hai Phong?", [*LANG_SON, ("and in Tra Vinh?", "1.950 [1]")],
     "How many hospital beds does Hai Phong have?"),
], ids=["en", "vi", "fr", "topic", "standalone", "no-history", "chain"])
def test_standalone(question: str, history: list[tuple[str, str]], expected: str) -> None:
    assert standalone_question(question, history, CUES) == expected


@pytest.mark.parametrize(("reply", "expected"), [
    ("How many hospital beds does Tra Vinh have?", "How many hospital beds does Tra Vinh have?"),
    ("", "How many hospital beds does Tra Vinh have?"),  # unusable reply: deterministic
    ("x" * 2000, "How many hospital beds does Tra Vinh have?"),
])
def test_model_rewrite_used_when_usable(reply: str, expected: str) -> None:
    assert standalone_question("and in Tra Vinh?", LANG_SON, CUES,
                               rewrite=lambda _q, _h: reply) == expected


def test_model_not_asked_for_standalone_questions() -> None:
    def rewrite(_q: str, _h: object) -> str:
        raise AssertionError("a standalone question needs no rewrite")

    assert standalone_question("How many doctors does Tra Vinh have?", LANG_SON, CUES,
                               rewrite) == "How many doctors does Tra Vinh have?"
    assert not refers_back("Combien de lits d'hôpital à Lang Son ?", CUES)
