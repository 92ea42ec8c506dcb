"""A filter on a file's province, date or name on the ``chroma`` backend: few chunks pass,
and a ``where`` on every HNSW query made Chroma scan its metadata (0.2 s a query, 0.5-0.7 s
a question at 100,000 chunks). Those rows are listed once per revision and scored
exactly."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant import Assistant
from assistant.search.chroma_searcher import ChromaSearcher
from assistant.search.filters import Filters

from .test_chroma_search import _bundled, _exact, _hnsw, _recall, _settings, _wheres_of

PROVINCES = ["Lang Son", "Tra Vinh", "Hai Phong", "Can Tho", "Ha Giang", "Ca Mau", "Nam Dinh",
             "Quang Tri", "Kon Tum", "Ben Tre"]
_TEXTS = {"en": "{p} Department of Health, report {i}: district {i} has {n} hospital beds, {a} "
                "ambulances and {d} doctors.",
          "fr": "Departement de la sante de {p}, rapport {i} : le district {i} compte {n} lits "
                "d'hopital, {a} ambulances et {d} medecins.",
          "uk": "Департамент охорони здоров'я {p}, звіт {i}: район {i} має {n} лікарняних ліжок, "
                "{a} машин швидкої допомоги і {d} лікарів."}
# Each filter passes a tenth of the chunks or less.
FEW_PASS = [Filters(provinces=("Lang Son",)), Filters(sources=("r_007.txt", "r_042.txt")),
            Filters(provinces=("Tra Vinh", "Hai Phong"), since=date(2025, 1, 1)),
            Filters(since=date(2025, 10, 1)), Filters(provinces=("Can Tho",), languages=("fr",))]
QUESTIONS = ["How many hospital beds does district 12 have?", "Combien d'ambulances ?",
             "Скільки лікарів у районі?", "How many doctors are there?",
             "Quel est le nombre de lits d'hopital ?", "Скільки лікарняних ліжок?"]


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """200 one-chunk files: ten provinces, dates over 2024-2025, three languages."""
    home = tmp_path_factory.mktemp("chroma-filters")
    corpus = home / "corpus"
    corpus.mkdir()
    meta = {}
    for i in range(200):
        lang = ("en", "fr", "uk")[i % 3]
        province = PROVINCES[(i // 3) % len(PROVINCES)]
        name = f"r_{i:03d}.txt"
        (corpus / name).write_text(_TEXTS[lang].format(p=province, i=i, n=100 + i, a=i % 9,
                                                       d=20 + i % 13) + "\n", encoding="utf-8")
        meta[name] = {"language": lang, "provinces": [province],
                      "date": f"{2024 + i % 2}-{1 + i % 12:02d}-{1 + i % 28:02d}"}
    (corpus / "metadata.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    assistant = Assistant(_settings(home, corpus, candidate_k=5))
    assert not assistant.ingest().failed
    return assistant


def _gets_by_where(searcher: ChromaSearcher, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The ``where`` of every ``get`` that lists rows by their metadata, from now on."""
    wheres: list[object] = []
    call = searcher.store._call

    def spy(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "get" and kwargs.get("where"):
            wheres.append(kwargs["where"])
        return call(fn, *args, **kwargs)
    monkeypatch.setattr(searcher.store, "_call", spy)
    return wheres


@pytest.mark.parametrize("crosslingual", ["relation", "centering", "none"])
@pytest.mark.parametrize("filters", FEW_PASS, ids=str)
def test_a_filter_few_pass_lists_its_rows_once_and_scores_them_exactly(
        many: Assistant, filters: Filters, crosslingual: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assistant = many
    queries = [assistant.prepare(q) for q in QUESTIONS]
    exact, hnsw = _exact(assistant, crosslingual), _hnsw(assistant, crosslingual)
    queried, listed = _wheres_of(hnsw), _gets_by_where(hnsw, monkeypatch)
    assert _recall(exact, hnsw, queries, filters) == 1.0
    assert all(w is None for w in queried), queried  # no HNSW query scans
    assert listed == [filters.where()]  # listed once for all the questions
    # With nothing kept, a listing would be read again for each question: the ``where``.
    plain = ChromaSearcher(hnsw.settings.variant(search={"read_cache_mib": 0.0}),
                           assistant.store, assistant.embedder)
    assert {h.id for h in plain.search(queries[0], 10, filters)} == \
        {h.id for h in exact.search(queries[0], 10, filters)}
    assert listed == [filters.where()]


def test_the_listed_rows_follow_a_write(tmp_path: Path) -> None:
    """A file added to the province is found by the next question (a new revision)."""
    corpus, _ = _bundled(tmp_path)
    assistant = Assistant(_settings(tmp_path, corpus))
    assert not assistant.ingest().failed
    only = Filters(provinces=("Lang Son",))
    query = assistant.prepare("How many ambulances does the emergency centre run?")
    before = {h.source for h in assistant.searcher.search(query, 10, only)}
    (corpus / "lang_son_ambulances.txt").write_text(
        "Lang Son Department of Health, 2025: the provincial emergency centre runs 27 "
        "ambulances.\n", encoding="utf-8")
    assert not assistant.ingest().failed
    after = [h.source for h in assistant.searcher.search(query, 10, only)]
    assert "lang_son_ambulances.txt" not in before
    assert after[0] == "lang_son_ambulances.txt"
