from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.index.embedding import E5Embeddings
from assistant.index.indexing import Indexer
from assistant.index.store import ChromaStore
from assistant.ingest.chunking import Chunker, chunk_id
from assistant.ingest.loading import load
from assistant.text.sentences import split_sentences

from .conftest import CORPUS

LANGUAGES = Settings().languages  # the configured languages

REPORTS = sorted(CORPUS.glob("*.txt"))


@pytest.fixture(scope="module")
def e5() -> E5Embeddings:
    return E5Embeddings()


@pytest.mark.parametrize(("lang", "text", "count"), [
    ("en", "Mr. Nguyen spoke. Beds rose to 9.6 per 10,000 people! Did it work? Yes, it did.", 4),
    ("fr", "M. Tran Thanh Nhan a salué les efforts. Il y a 12,5 médecins.", 2),
    ("uk", "Понад 4,1 мільйона візитів. Д-р Ле виступив! Чи так?", 3),
    ("ar", "بلغ المعدل 84.5%، وبلغ 71.4%. هل هذا صحيح؟ نعم تم ذلك.", 3),
    ("vi", "Tỉnh có 2.862 giường bệnh. TS. Nguyễn Văn A phát biểu.", 2),
])
def test_sentences_in_five_languages(lang: str, text: str, count: int) -> None:
    sentences = split_sentences(text, lang)
    assert len(sentences) == count, sentences
    assert " ".join(sentences).split() == text.split()  # nothing lost, numbers intact


@pytest.mark.parametrize("report", REPORTS, ids=lambda p: p.name[:3])
@pytest.mark.parametrize(("budget", "overlap"), [(200, 40), (96, 0)])
def test_chunks_fit_the_embedder_budget_and_keep_sentences(
        e5: E5Embeddings, report: Path, budget: int, overlap: int) -> None:
    doc = load(report, report.name, LANGUAGES)
    chunks = Chunker(e5, LANGUAGES, budget, overlap).chunks(doc)
    assert chunks
    sentences = {s for line in doc.content_lines for s in split_sentences(line, doc.language)}
    for chunk in chunks:
        # a few tokens of slack: joining sentences can merge a token or two
        assert e5.count_tokens(chunk.text) <= budget + 8
        for sentence in chunk.sentences:
            # whole sentences, or pieces of a sentence longer than the budget
            assert sentence in sentences or any(sentence in s for s in sentences)
        assert chunk.language == doc.language
    assert len({c.id for c in chunks}) == len(chunks)


def test_overlap_repeats_the_last_sentence(e5: E5Embeddings) -> None:
    report = CORPUS / "001_233030e2ea93ce29.txt"
    chunks = Chunker(e5, LANGUAGES, 200, 60).chunks(load(report, report.name, LANGUAGES))
    assert any(a.sentences[-1] == b.sentences[0] for a, b in itertools.pairwise(chunks))


def test_chunk_ids_come_from_content() -> None:
    assert chunk_id("a.txt", "text") == chunk_id("a.txt", "text")
    assert chunk_id("a.txt", "text") != chunk_id("b.txt", "text")
    assert chunk_id("a.txt", "text") != chunk_id("a.txt", "text!")


class _Metered:
    """The real embedder's token count, metered: how much text chunking sends to it."""

    def __init__(self, e5: E5Embeddings) -> None:
        self.e5, self.max_tokens, self.chars = e5, e5.max_tokens, 0

    def count_tokens(self, text: str) -> int:
        self.chars += len(text)
        return self.e5.count_tokens(text)


@pytest.mark.parametrize("words", [300, 1200])
def test_an_over_long_sentence_is_cut_in_linear_time(e5: E5Embeddings, words: int) -> None:
    # A table flattened into one "sentence" (no full stop in thousands of words): counting
    # every growing prefix tokenised the sentence quadratically (1,200 words: 36x its length).
    sentence = " ".join(f"hospital{i % 37} beds {i}," for i in range(words // 3))
    meter = _Metered(e5)
    pieces = list(Chunker(meter, LANGUAGES, 96, 0)._fit(sentence))
    assert " ".join(p for p, _ in pieces).split() == sentence.split()  # nothing lost
    assert all(e5.count_tokens(p) - e5.count_tokens("") <= 96 for p, _ in pieces)
    assert all(n == e5.count_tokens(p) - e5.count_tokens("") for p, n in pieces)
    assert meter.chars < 4 * len(sentence)


def _repeated_tail(head: str) -> str:
    tail = " ; ".join(f"de renforcer le service {i} et la santé de la population"
                      for i in range(40))
    return f"Il a demandé, pour la résolution {head}, {tail}."


def test_a_repeated_passage_is_one_chunk(e5: E5Embeddings, tmp_path: Path,
                                         make_settings: Any) -> None:
    # Two long sentences that differ only in their first words: cut to the budget, their
    # tails are the same text, hence the same id twice in one file (Chroma refused the
    # file's writes and `assistant ingest` stopped with a traceback; found by bench.soak).
    report = tmp_path / "repeat.txt"
    report.write_text("Rapport\n\n" + _repeated_tail("n° 91") + " " + _repeated_tail("n° 82")
                      + "\n", encoding="utf-8")
    chunks = Chunker(e5, LANGUAGES, 96, 0).chunks(load(report, report.name, LANGUAGES))
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)), [c.text[:60] for c in chunks]
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert "n° 91" in " ".join(c.text for c in chunks)
    assert "n° 82" in " ".join(c.text for c in chunks)

    settings = make_settings(chunk_tokens=96, chunk_overlap_tokens=0)
    store = ChromaStore(settings)
    done = Indexer(settings, store, e5).ingest([report])
    assert (done.added, done.failed) == (["repeat.txt"], [])
    record = store.document("repeat.txt")
    assert record is not None and record.chunk_ids == ids
