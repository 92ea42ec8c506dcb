"""The scripted chat model the package ships: a language model passed to ``Assistant`` as an
object, exercising the generative path (prompt, stream, citation check) with no network."""

from __future__ import annotations

import re

import pytest

from assistant import Assistant
from assistant.answer.generative import GenerativeAnswerer
from assistant.answer.testing import ScriptedChatModel
from assistant.answer.types import Answer

QUESTION = "How many hospital beds does Lang Son province have in total?"


def _with(indexed: Assistant, model: ScriptedChatModel) -> Assistant:
    return Assistant(indexed.settings, chat=model, embedder=indexed.embedder,
                     store=indexed.store)


def test_a_passed_chat_model_answers_and_is_checked(indexed: Assistant) -> None:
    model = ScriptedChatModel()  # cites the first sentence of source [1]
    assistant = _with(indexed, model)
    assert isinstance(assistant.backend, GenerativeAnswerer)
    items = list(assistant.ask_stream(QUESTION))
    answer = items[-1]
    assert isinstance(answer, Answer) and not answer.abstained
    assert all(isinstance(i, str) for i in items[:-1]) and len(items) > 2  # streamed
    assert re.search(r"\[1\]$", answer.answer)
    cited = answer.citations[0]
    assert cited.source in {h.source for h in answer.retrieved}
    assert answer.answer.removesuffix("[1]").strip() in cited.text  # quoted from it
    # Asked twice: to translate the question for the search (its reply is no JSON, so the
    # search goes on untranslated), then to answer from the fenced passages.
    assert len(model.calls) == 2
    assert "translate" in str(model.calls[0][0].content)
    prompt = "\n".join(str(m.content) for m in model.calls[1])
    assert QUESTION in prompt and '<source id="1"' in prompt


@pytest.mark.parametrize(("reply", "dropped"), [
    ("Lang Son has 2862 hospital beds [1][9].", [9]),
    ("Lang Son has 2862 hospital beds [1].", []),
])
def test_markers_to_unshown_passages_are_dropped(indexed: Assistant, reply: str,
                                                 dropped: list[int]) -> None:
    answer = _with(indexed, ScriptedChatModel(replies=[reply])).ask(QUESTION)
    assert answer.generation.dropped_markers == dropped
    assert "[9]" not in answer.answer


def test_briefings_use_the_passed_model(indexed: Assistant) -> None:
    from assistant.briefing.types import BriefRequest

    model = ScriptedChatModel(replies=["- nothing the model may add without a source"])
    briefing = _with(indexed, model).brief(BriefRequest("hospital beds", None, None, None,
                                                        "en"))
    assert len(model.calls) == 1  # the summary was asked of the model
    assert briefing.dropped == ["nothing the model may add without a source"]  # uncited
    assert briefing.backend == "extractive" and briefing.summary  # the quoted summary stays
