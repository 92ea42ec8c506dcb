from __future__ import annotations

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant import Settings
from assistant.errors import AssistantError
from assistant.index.embedding import E5Embeddings, SentenceTransformerEmbeddings, make_embedder


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
