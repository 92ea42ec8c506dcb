"""Language centering (assistant/centering.py): the transform, its statistics, its effect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.index.embedding import E5Embeddings
from assistant.search.centering import Centering
from assistant.search.language_stats import LanguageMeans, PairLevels
from assistant.search.searcher import Searcher

# Four short reports in English and four in Vietnamese, on eight different subjects; each
# question is asked in the *other* language. Raw e5 vectors rank the question's own
# language first whatever it says; centred ones should find the report the question is about.
DOCS = {
    "en-malaria.txt": "The district distributed 12,000 insecticide-treated bed nets to "
    "families in forest villages to prevent malaria. Health workers showed households how "
    "to hang the nets and asked them to sleep under them every night.",
    "en-maternity.txt": "A new maternity ward with 40 beds opened at the provincial hospital. "
    "Pregnant women can now give birth with the help of trained midwives, and newborns who "
    "need care are treated in a neonatal unit next to the delivery rooms.",
    "en-tuberculosis.txt": "Mobile X-ray teams screened prisoners for tuberculosis in three "
    "prisons. Inmates with a positive result started a six-month course of treatment, and "
    "their cell mates were tested as well.",
    "en-handwashing.txt": "Primary schools installed sinks with soap so that pupils wash "
    "their hands before lunch and after using the toilet. Teachers say that fewer children "
    "stayed at home with diarrhoea this term.",
    "vi-dengue.txt": "Trung tâm y tế đã phun thuốc diệt muỗi tại các khu dân cư có ca sốt "
    "xuất huyết. Người dân được hướng dẫn đổ nước đọng trong chum vại và lốp xe cũ để diệt "
    "bọ gậy.",
    "vi-measles.txt": "Chiến dịch tiêm vắc xin sởi cho trẻ từ một đến năm tuổi đã được triển "
    "khai ở tất cả các xã. Cán bộ y tế đến từng nhà để nhắc các gia đình đưa con đi tiêm.",
    "vi-overcrowding.txt": "Bệnh viện tỉnh quá tải: nhiều bệnh nhân phải nằm ghép hai người "
    "một giường. Sở Y tế đề xuất xây thêm một khu điều trị nội trú với 200 giường bệnh.",
    "vi-food-safety.txt": "Đoàn kiểm tra an toàn thực phẩm đã kiểm tra các quán ăn và chợ "
    "trong dịp Tết. Một số cơ sở bị phạt vì bán thịt không rõ nguồn gốc.",
}
QUESTIONS = [
    ("Huyện đã phát bao nhiêu màn chống muỗi để phòng bệnh sốt rét?", "en-malaria.txt"),
    ("Khoa sản mới của bệnh viện tỉnh có bao nhiêu giường?", "en-maternity.txt"),
    ("Phạm nhân được khám sàng lọc bệnh lao như thế nào?", "en-tuberculosis.txt"),
    ("Các trường tiểu học làm gì để học sinh rửa tay?", "en-handwashing.txt"),
    ("How are mosquitoes controlled where there are dengue cases?", "vi-dengue.txt"),
    ("Which children are vaccinated against measles?", "vi-measles.txt"),
    ("Why do patients share beds at the provincial hospital?", "vi-overcrowding.txt"),
    ("What did the food safety inspectors find at the markets?", "vi-food-safety.txt"),
]


@pytest.fixture(scope="module")
def embedder() -> E5Embeddings:
    return E5Embeddings()


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crosslingual")
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def small_index(small_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    assistant = Assistant(Settings(index_dir=tmp_path_factory.mktemp("index"),
                                   corpus_dir=small_corpus))
    assert not assistant.ingest().failed
    return assistant


def test_shipped_means_cover_the_languages_and_only_their_embedder(
        embedder: E5Embeddings) -> None:
    shipped = LanguageMeans.shipped(embedder.model_id)
    assert set(shipped.passage) == set(shipped.query) == set(Settings().languages)
    assert LanguageMeans.shipped("some-other-embedder").passage == {}


@pytest.mark.parametrize("language", ["en", "vi", "uk", "fr", "ar"])
def test_transform_removes_the_language_mean(language: str) -> None:
    rng = np.random.default_rng(0)
    mean = rng.normal(size=8).astype(np.float32)
    vectors = mean + rng.normal(scale=0.1, size=(50, 8)).astype(np.float32)
    means = LanguageMeans().combined({language: vectors.sum(0)}, {language: 50}, prior=0)
    centred = Centering(means).passages(vectors, [language] * 50)
    assert np.allclose(np.linalg.norm(centred, axis=1), 1.0, atol=1e-5)
    # Raw vectors all point the same way; centred ones are spread around zero.
    assert float(np.linalg.norm(vectors.mean(0))) > 5 * float(np.linalg.norm(centred.mean(0)))
    query = Centering(means).query(vectors[0], language)
    assert np.allclose(query, centred[0], atol=1e-5)


def test_prior_weighs_shipped_against_corpus_means() -> None:
    shipped = LanguageMeans(passage={"en": np.zeros(2)}, query={"en": np.ones(2)},
                            weight={"en": 40})
    corpus = {"en": np.array([10.0, 0.0])}  # 10 chunks whose mean is (1, 0)
    mixed = shipped.combined(corpus, {"en": 10}, prior=10)
    assert np.allclose(mixed.passage["en"], [0.5, 0.0])
    assert np.allclose(mixed.query["en"], [1.5, 1.0])  # moved as much as the passage mean
    # A language the shipped means lack takes the corpus's mean.
    assert np.allclose(shipped.combined({"ar": np.array([2.0, 2.0])}, {"ar": 2}, 10)
                       .passage["ar"], [1.0, 1.0])


def _gold_ranks(assistant: Assistant, crosslingual: str) -> list[int]:
    settings = assistant.settings.variant(crosslingual=crosslingual)
    searcher = Searcher(settings, assistant.store, assistant.embedder, fusion="vectors")
    ranks = []
    for question, gold in QUESTIONS:
        hits = searcher.search(assistant.prepare(question), k=20)
        sources = list(dict.fromkeys(h.source for h in hits))
        ranks.append(sources.index(gold) + 1)
    return ranks


def test_centering_finds_answers_in_the_other_language(small_index: Assistant) -> None:
    raw = _gold_ranks(small_index, "none")
    centred = _gold_ranks(small_index, "centering")
    assert sum(r == 1 for r in centred) > sum(r == 1 for r in raw)
    assert sum(1 / r for r in centred) > sum(1 / r for r in raw)
    assert all(r <= 2 for r in centred), centred


def test_switched_off_scores_are_raw_cosines(small_index: Assistant,
                                             embedder: E5Embeddings) -> None:
    settings = small_index.settings.variant(crosslingual="none")
    searcher = Searcher(settings, small_index.store, small_index.embedder, fusion="vectors")
    assert searcher.centered() is None
    question = QUESTIONS[0][0]
    hit = searcher.search(small_index.prepare(question), k=1)[0]
    vector = np.asarray(small_index.store.get_chunks([hit.id], None, embeddings=True)
                        ["embeddings"][0])
    assert hit.dense == pytest.approx(float(vector @ embedder.embed_query_vector(question)),
                                      abs=1e-4)


def test_statistics_follow_ingest_and_removal(make_settings: Callable[..., Settings],
                                              small_corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("en-malaria.txt", "en-maternity.txt", "vi-dengue.txt"):
        (folder / name).write_text(DOCS[name], encoding="utf-8")
    assistant = Assistant(make_settings(corpus_dir=folder))
    assistant.ingest()
    first = assistant.searcher.centered()
    assert first is not None
    assert first.corpus_counts == {"en": 2, "vi": 1}
    vi_mean = first.centering.means.passage["vi"].copy()

    (folder / "vi-measles.txt").write_text(DOCS["vi-measles.txt"], encoding="utf-8")
    assistant.ingest()  # incremental: only the new file is embedded
    second = assistant.searcher.centered()
    assert second is not first and second is not None
    assert second.corpus_counts == {"en": 2, "vi": 2}
    assert not np.allclose(second.centering.means.passage["vi"], vi_mean)
    new_ids = [h.id for h in assistant.search("vắc xin sởi", k=3)
               if h.source == "vi-measles.txt"]
    assert new_ids and all(i in second.row for i in new_ids)

    assistant.remove("en-malaria.txt")
    third = assistant.searcher.centered()
    assert third is not None and third.corpus_counts == {"en": 1, "vi": 2}
    assert len(third.ids) == len(second.ids) - 1


@pytest.mark.parametrize("fusion", ["vectors", "language-aware"])
def test_centred_hits_keep_the_raw_cosine(small_index: Assistant, embedder: E5Embeddings,
                                          fusion: str) -> None:
    # Ranking uses the centred similarity; `dense` stays the cosine of the stored vectors.
    searcher = Searcher(small_index.settings, small_index.store, small_index.embedder,
                        fusion=fusion)
    question = QUESTIONS[4][0]
    query = small_index.prepare(question)
    qvec = embedder.embed_query_vector(question)
    assert np.allclose(query.vector, qvec)  # the query carries its vector
    hits = searcher.search(query, k=8)
    stored = small_index.store.get_chunks([h.id for h in hits], None, embeddings=True)
    raw = dict(zip(stored["ids"], np.asarray(stored["embeddings"]) @ qvec, strict=True))
    assert len(hits) == 8 and all(h.crosslingual is not None for h in hits)
    assert [h.dense for h in hits] == pytest.approx([raw[h.id] for h in hits], abs=1e-4)
    top = [h.crosslingual for h in hits[:2]]
    assert top == sorted(top, reverse=True)


# -- scoring by language relation (crosslingual="relation", issue 14) -------------------------

SAME_LANGUAGE = [
    ("How many mosquito nets did the district hand out against malaria?", "en-malaria.txt"),
    ("Why do prisoners get screened for tuberculosis?", "en-tuberculosis.txt"),
    ("Trẻ em nào được tiêm vắc xin sởi?", "vi-measles.txt"),
    ("Thanh tra an toàn thực phẩm đã phát hiện gì ở chợ?", "vi-food-safety.txt"),
]


def test_shipped_pair_levels_cover_every_pair_and_only_their_embedder(
        embedder: E5Embeddings) -> None:
    levels = PairLevels.shipped(embedder.model_id)
    langs = Settings().languages
    assert set(levels.unrelated) == {(q, p) for q in langs for p in langs}
    # Saying the same thing scores above saying something else, in every pair.
    assert all(levels.related[pair] > levels.unrelated[pair] + 0.05 for pair in levels.related)
    assert PairLevels.shipped("some-other-embedder").unrelated == {}


def _searchers(assistant: Assistant, fusion: str) -> tuple[Searcher, Searcher]:
    settings = assistant.settings
    dense = Searcher(settings.variant(crosslingual="none"), assistant.store,
                     assistant.embedder, fusion="vectors")
    relation = Searcher(settings.variant(crosslingual="relation"),
                        assistant.store, assistant.embedder, fusion=fusion)
    return dense, relation


@pytest.mark.parametrize("fusion", ["vectors", "language-aware"])
@pytest.mark.parametrize(("question", "gold"), SAME_LANGUAGE)
def test_relation_keeps_dense_search_in_the_questions_language(
        small_index: Assistant, question: str, gold: str, fusion: str) -> None:
    dense, relation = _searchers(small_index, fusion)
    query = small_index.prepare(question)
    dense_docs = list(dict.fromkeys(h.source for h in dense.search(query, k=40)))
    relation_hits = relation.search(query, k=40)
    relation_docs = list(dict.fromkeys(h.source for h in relation_hits))
    assert dense_docs[0] == gold
    assert relation_docs[0] == dense_docs[0]  # the top hit of plain dense search is kept
    if fusion == "vectors":  # BM25 may reorder the question's language; dense may not
        own = gold[:2]
        assert [d for d in relation_docs if d.startswith(own)] == \
            [d for d in dense_docs if d.startswith(own)]
    assert all(h.crosslingual is not None for h in relation_hits)


@pytest.mark.parametrize(("question", "gold"), QUESTIONS)
def test_relation_still_finds_the_answer_in_the_other_language(
        small_index: Assistant, question: str, gold: str) -> None:
    _, relation = _searchers(small_index, "language-aware")
    query = small_index.prepare(question)
    docs = list(dict.fromkeys(h.source for h in relation.search(query, k=40)))
    assert docs.index(gold) <= 1, docs


def test_relation_raw_weight_is_the_setting_searches_use(
        small_index: Assistant, embedder: E5Embeddings) -> None:
    # Weight 0: the other language ranks by centred cosine alone; the question's own language
    # keeps dense search's order whatever the weight (issue 14b: the default is 0.2).
    assert Settings().search.relation_raw_weight == pytest.approx(0.2)
    searcher = Searcher(small_index.settings.variant(crosslingual="relation"),
                        small_index.store, small_index.embedder, fusion="vectors")
    centered = searcher.centered()
    levels = searcher.snapshot().levels
    assert centered is not None and levels is not None
    question = SAME_LANGUAGE[0][0]
    qvec = embedder.embed_query_vector(question)
    cq = centered.centering.query(qvec, "en")
    plain = centered.scores(cq)
    other = centered.rows_of["vi"]
    for weight in (0.0, 0.2, 2.0):
        scores = centered.relation_scores(qvec, "en", cq, levels, 40, raw_weight=weight)
        if weight == 0.0:
            assert scores[other] == pytest.approx(plain[other], abs=1e-5)
        own = centered.rows_of["en"]
        raw = np.array([centered.raw_similarity(centered.ids[r], qvec) for r in own])
        assert list(own[np.argsort(-raw, kind="stable")]) == \
            list(own[np.argsort(-scores[own], kind="stable")])
