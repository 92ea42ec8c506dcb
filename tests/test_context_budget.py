"""Token counting works offline (tiktoken's own encodings from packaged files) and passages
are cut to the window, most relevant first."""

from __future__ import annotations

import pytest

from assistant.answer.context_budget import ContextBudget, encoding, encoding_for_model
from assistant.errors import ContextTooLongError


@pytest.mark.parametrize(("name", "text", "tokens"), [
    ("cl100k_base", "hello world", [15339, 1917]),
    ("o200k_base", "hello world", [24912, 2375]),
])
def test_encodings_load_offline_and_match_tiktoken(name: str, text: str,
                                                   tokens: list[int]) -> None:
    assert encoding(name).encode(text) == tokens


@pytest.mark.parametrize(("model", "name"), [
    ("gpt-4o-mini", "o200k_base"), ("gpt-4", "cl100k_base"), ("gemma-3-270m", "o200k_base"),
    ("Qwen/Qwen2.5-7B-Instruct", "o200k_base")])
def test_encoding_for_model(model: str, name: str) -> None:
    assert encoding_for_model(model).name == name


def test_fit_keeps_order_trims_then_drops() -> None:
    budget = ContextBudget("gpt-4o", context_tokens=1000, answer_tokens=250)
    passages = ["Lang Son has 2,862 beds. " * 40, "Tra Vinh has 1,950 beds. " * 40,
                "Hai Phong has 9,000 beds. " * 40, "short"]
    fit = budget.fit("question", passages, per_passage=10)
    assert fit.texts[0] == passages[0]
    # The second no longer fits whole: cut at a sentence; what follows is dropped.
    assert fit.trimmed == [1] and fit.texts[1].endswith("beds. …") and len(fit.texts) == 2
    assert passages[1].startswith(fit.texts[1].removesuffix(" …"))
    assert fit.dropped == [2, 3]
    assert fit.prompt_tokens <= budget.limit


@pytest.mark.parametrize(("fixed", "passages", "match"), [
    ("word " * 2000, ["x"], "question and instructions alone"),
    ("q", ["word " * 2000], None),  # one long passage is cut to fit, not refused
])
def test_too_long(fixed: str, passages: list[str], match: str | None) -> None:
    budget = ContextBudget("gpt-4o", context_tokens=1000, answer_tokens=250)
    if match:
        with pytest.raises(ContextTooLongError, match=match):
            budget.fit(fixed, passages)
    else:
        fit = budget.fit(fixed, passages)
        assert fit.trimmed == [0] and fit.prompt_tokens <= budget.limit
