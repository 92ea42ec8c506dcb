"""Search in Chroma (``search.backend="chroma"``, issue 24): Chroma's HNSW over the centred
collection returns what today's exact search returns (recall@10 against it), with the same
filters and groups, only committed files, and no snapshot in the process.

The reference is the snapshot path's exact search as it runs by default: the corpus's own
means mixed with the shipped ones (``centering_prior``). The Chroma path stores vectors
centred with the shipped means and re-centres its candidates with the corpus's, whose sums
and counts its writers keep (``chroma_index.Recentring``); so the test measures what HNSW
and the re-centring lose together.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.access import User
from assistant.errors import IndexStoreError
from assistant.index.indexing import Indexer
from assistant.index.store import ChromaStore
from assistant.search.chroma_searcher import ChromaSearcher
from assistant.search.filters import Filters
from assistant.search.query import Query, QueryBuilder
from assistant.search.searcher import Searcher

from .conftest import CORPUS, load_cases

DEVSETS = Path(__file__).resolve().parents[1].parent / "shared" / "devsets"
XQUAD = DEVSETS / "xquad_mixed_dev.jsonl"
SECRET_FILE = "units/b_personnel.txt"
STAFF_A = User("alice", "staff", frozenset({"a"}))
STAFF_B = User("boris", "staff", frozenset({"b"}))


def _settings(home: Path, corpus: Path, **search: object) -> Settings:
    return Settings(index_dir=home / "index", corpus_dir=corpus, data_dir=home / "data",
                    search={"backend": "chroma", **search})


def _bundled(home: Path) -> tuple[Path, list[str]]:
    corpus = home / "corpus"
    shutil.copytree(CORPUS, corpus)
    units = corpus / "units"
    units.mkdir()
    (units / "b_personnel.txt").write_text(
        "Ninh Binh Department of Health: internal personnel report for 2025.\n"
        "In 2025 Ninh Binh had 4,318 unfilled nursing posts across its district hospitals.\n",
        encoding="utf-8")
    (units / "metadata.yaml").write_text("'*': {groups: [b]}\n", encoding="utf-8")
    questions = [c["question"] for c in load_cases()]
    return corpus, [*questions, "How many unfilled nursing posts did Ninh Binh have in 2025?"]


def _devset(home: Path) -> tuple[Path, list[str]]:
    """A slice of XQuAD-mixed: 24 documents (links), the questions whose gold one is among them."""
    if not XQUAD.is_file():
        pytest.skip(f"devsets not found at {DEVSETS}")
    corpus = home / "xquad"
    corpus.mkdir()
    docs = sorted((DEVSETS / "xquad_mixed_dev").glob("*.txt"))[::5][:24]
    for doc in docs:
        (corpus / doc.name).symlink_to(doc)
    rows = [json.loads(line) for line in XQUAD.read_text(encoding="utf-8").splitlines() if line]
    names = {d.name for d in docs}
    return corpus, [r["question"] for r in rows if r["gold_doc"] in names][:90]


@pytest.fixture(scope="module", params=["bundled", "devset"])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> tuple[Assistant, list[str]]:
    home = tmp_path_factory.mktemp(f"chroma-{request.param}")
    corpus, questions = (_bundled if request.param == "bundled" else _devset)(home)
    assistant = Assistant(_settings(home, corpus))
    report = assistant.ingest()
    assert not report.failed, report.failed
    return assistant, questions


def _exact(assistant: Assistant, crosslingual: str) -> Searcher:
    settings = assistant.settings.variant(search={
        "backend": "snapshot", "crosslingual": crosslingual})
    return Searcher(settings, assistant.store, assistant.embedder)


def _hnsw(assistant: Assistant, crosslingual: str) -> ChromaSearcher:
    settings = assistant.settings.variant(search={"crosslingual": crosslingual})
    searcher = ChromaSearcher(settings, assistant.store, assistant.embedder)
    return searcher


def _wheres_of(hnsw: ChromaSearcher) -> list[object]:
    """The ``where`` of every HNSW query ``hnsw`` makes from now on, in order."""
    wheres: list[object] = []
    query_chroma = hnsw._query

    def spy(collection: object, vector: np.ndarray, n: int, where: object,
            include: list[str]) -> dict[str, object]:
        wheres.append(where)
        return query_chroma(collection, vector, n, where, include)  # type: ignore[arg-type]
    hnsw._query = spy  # type: ignore[method-assign]
    return wheres


def _recall(exact: Searcher, hnsw: Searcher, queries: list[Query],
            filters: Filters | None = None, k: int = 10) -> float:
    found = wanted = 0
    for query in queries:
        reference = [h.id for h in exact.search(query, k, filters)]
        got = {h.id for h in hnsw.search(query, k, filters)}
        found += len(got.intersection(reference))
        wanted += len(reference)
        assert len(got) == len(reference)  # nothing extra (e.g. a filter's nothing)
    return found / wanted if wanted else 1.0


@pytest.mark.parametrize("crosslingual", ["relation", "centering", "none"])
def test_hnsw_top10_matches_exact_search(built: tuple[Assistant, list[str]],
                                         crosslingual: str) -> None:
    assistant, questions = built
    queries = [assistant.prepare(q) for q in questions]
    exact, hnsw = _exact(assistant, crosslingual), _hnsw(assistant, crosslingual)
    assert _recall(exact, hnsw, queries) >= 0.99
    # Same scores for the same chunk: only the way candidates are found differs.
    for query in queries[:10]:
        ref = {h.id: h for h in exact.search(query, 10)}
        for hit in hnsw.search(query, 10):
            if hit.id in ref:
                assert hit.dense == pytest.approx(ref[hit.id].dense, abs=1e-4)
                assert hit.text == ref[hit.id].text and hit.metadata == ref[hit.id].metadata


_FRENCH_TOPICS = ["la vaccination des enfants", "l'eau potable dans les villages",
                  "la formation des sages-femmes", "les ambulances du district",
                  "la lutte contre la dengue", "le budget des centres de sante"]


def _mostly_english(home: Path) -> Path:
    """150 English files that answer a question on hospital beds, 48 French ones about
    six other things."""
    corpus = home / "corpus"
    corpus.mkdir()
    for i in range(150):
        (corpus / f"en_{i:03d}.txt").write_text(
            f"How many hospital beds does the district have? District {i} has {100 + i} "
            "hospital beds.\n", encoding="utf-8")
    for i, topic in enumerate(_FRENCH_TOPICS * 8):
        (corpus / f"fr_{i:03d}.txt").write_text(
            f"Rapport {i} du district : {topic}, bilan de l'annee {2010 + i}.\n",
            encoding="utf-8")
    return corpus


def test_the_question_language_is_reached_when_off_topic(tmp_path: Path) -> None:
    """The relation score ranks the question's own language in plain dense order, so its
    first ``depth`` chunks by raw cosine must be candidates, even when (as here) all of them
    are off the asked topic and the centred search finds none. They come from that
    language's own collection of raw vectors, with no ``where`` (which makes Chroma scan
    the language's rows)."""
    # English passages answer it: the first 22 results of all languages by raw cosine
    # hold no French one (the code before the per-language collections then scanned).
    corpus = _mostly_english(tmp_path)
    assistant = Assistant(_settings(tmp_path, corpus, candidate_k=5))
    assert not assistant.ingest().failed
    query = assistant.prepare("Combien de lits d'hopital le district a-t-il ?")
    assert query.language == "fr"
    plain = Searcher(assistant.settings.variant(search={"backend": "snapshot",
                                                        "crosslingual": "none"}),
                     assistant.store, assistant.embedder)
    depth = 5 + 10
    reference = [h.id for h in plain.search(query, depth, Filters(languages=("fr",)))]
    hnsw = ChromaSearcher(assistant.settings, assistant.store, assistant.embedder)
    cq = hnsw.centred.centering.query(np.asarray(query.vector, np.float32), "fr")
    wheres = _wheres_of(hnsw)
    ids = hnsw._candidates(query, cq, {}, depth, None, 2)[0]
    assert set(reference) <= set(ids)  # the centred candidates alone hold no French one
    assert wheres == [None, None]  # the centred query and French's own


def test_a_language_filter_reads_its_languages_own_collections(tmp_path: Path) -> None:
    """A filter on languages few chunks pass (here French: a quarter) reads those
    languages' own collections instead of a ``where`` (a scan of their rows: 0.4 s at
    100,000 chunks), with the exact search's results."""
    assistant = Assistant(_settings(tmp_path, _mostly_english(tmp_path), candidate_k=5))
    assert not assistant.ingest().failed
    questions = ["Combien de lits d'hopital le district a-t-il ?",
                 "How many hospital beds does district 7 have?",
                 "Quel est le budget des centres de sante ?",
                 "Скільки дітей вакциновано?", "ما هي ميزانية المراكز الصحية؟"]
    queries = [assistant.prepare(q) for q in questions]
    for crosslingual in ("relation", "centering", "none"):
        exact, hnsw = _exact(assistant, crosslingual), _hnsw(assistant, crosslingual)
        wheres = _wheres_of(hnsw)
        for languages in (("fr",), ("en", "fr")):
            assert _recall(exact, hnsw, queries, Filters(languages=languages)) >= 0.99
        assert wheres and all(w is None for w in wheres), (crosslingual, wheres)


def test_each_language_has_its_own_raw_vectors(tmp_path: Path) -> None:
    """``<name>_centred_raw_<lang>`` holds exactly the chunks of that language, with their
    raw vectors, through a change of language, a removal and a reset."""
    corpus, _ = _bundled(tmp_path)
    assistant = Assistant(_settings(tmp_path, corpus))
    assistant.ingest()
    store = assistant.store
    searcher = assistant.searcher
    assert isinstance(searcher, ChromaSearcher)
    mirror = searcher.centred
    got = store.chunks.get(include=["metadatas", "embeddings"])
    by_lang: dict[str, set[str]] = {}
    for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
        by_lang.setdefault(str(meta["lang"]), set()).add(cid)
    assert len(by_lang) >= 4
    for lang, ids in by_lang.items():
        own = mirror.own(lang).get(include=["embeddings"])
        assert set(own["ids"]) == ids, lang
        raw = dict(zip(got["ids"], got["embeddings"], strict=True))
        for cid, vector in zip(own["ids"], own["embeddings"], strict=True):
            assert np.allclose(vector, raw[cid], atol=1e-6)
    # A chunk rewritten in another language moves to that language's collection.
    cid = sorted(by_lang["en"])[0]
    i = got["ids"].index(cid)
    mirror.write([cid], [{**got["metadatas"][i], "lang": "fr"}],
                 np.asarray([got["embeddings"][i]], np.float32))
    assert cid not in mirror.own("en").get(include=[])["ids"]
    assert cid in mirror.own("fr").get(include=[])["ids"]
    mirror.delete([cid])
    assert cid not in mirror.own("fr").get(include=[])["ids"]
    assert len(store.mirror_collections()) == 1 + len(by_lang)
    assistant.reset()
    assert store.mirror_collections() == []


FILTERS = [Filters(provinces=("Lang Son",)), Filters(languages=("vi",)),
           Filters(languages=("fr",)), Filters(languages=("ar", "uk")),
           Filters(since=date(2025, 6, 1)),
           Filters(provinces=("Tra Vinh", "Hai Phong"), until=date(2025, 12, 31)),
           Filters(reader=STAFF_A), Filters(reader=STAFF_B)]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_filters_and_groups_as_on_the_snapshot(built: tuple[Assistant, list[str]],
                                               filters: Filters) -> None:
    assistant, questions = built
    queries = [assistant.prepare(q) for q in questions[:40]]
    exact, hnsw = _exact(assistant, "relation"), _hnsw(assistant, "relation")
    assert _recall(exact, hnsw, queries, filters) >= 0.99
    snap = exact.snapshot().index
    mask = filters.mask(snap)
    assert mask is not None
    allowed = {snap.ids[i] for i in np.flatnonzero(mask)}
    for query in queries:
        assert {h.id for h in hnsw.search(query, 20, filters)} <= allowed


@pytest.mark.parametrize("filters", [Filters(reader=STAFF_A), Filters(reader=STAFF_B)],
                         ids=["reader a", "reader b"])
def test_a_filter_most_chunks_pass_needs_no_where(built: tuple[Assistant, list[str]],
                                                  filters: Filters) -> None:
    """A ``where`` makes Chroma scan every row it matches (a signed-in reader's: about a
    second at 100,000 chunks), so a filter that most chunks pass is applied to the
    unrestricted results instead; the results are the same (the recall test above)."""
    assistant, questions = built
    hnsw = _hnsw(assistant, "relation")
    wheres = _wheres_of(hnsw)
    for question in questions[:20]:
        assert hnsw.search(assistant.prepare(question), 10, filters)
    assert wheres and all(w is None or set(w) == {"lang"} for w in wheres)  # type: ignore[arg-type]


def test_a_chunk_not_yet_mirrored_is_asked_for_once(tmp_path: Path) -> None:
    """Mid-ingest a chunk may be in one collection and not yet in another. An id from two
    queries, one of them missing from the centred collection, is asked for once: asking
    Chroma for it twice in one ``get`` was an error (the soak's, bench/results.md)."""
    corpus, _ = _bundled(tmp_path)
    assistant = Assistant(_settings(tmp_path, corpus, candidate_k=5))
    assistant.ingest()
    searcher = assistant.searcher
    assert isinstance(searcher, ChromaSearcher)
    query = assistant.prepare("How many hospital beds are there per 10,000 people?")
    assert not query.provinces  # (a province named makes search look four times as deep)
    english = assistant.store.chunks.get(where={"lang": "en"}, include=[])["ids"]
    assert english
    searcher.centred.collection.delete(ids=english[:1])  # in its own collection only
    assert searcher.search(query, 5)


def test_a_reader_outside_the_group_never_gets_its_file(
        built: tuple[Assistant, list[str]]) -> None:
    assistant, questions = built
    if not any("Ninh Binh" in q for q in questions):
        pytest.skip("the grouped file is in the bundled set only")
    query = assistant.prepare("How many unfilled nursing posts did Ninh Binh have in 2025?")
    hnsw = _hnsw(assistant, "relation")
    assert SECRET_FILE in {h.source for h in hnsw.search(query, 5, Filters(reader=STAFF_B))}
    assert SECRET_FILE not in {h.source for h in hnsw.search(query, 50, Filters(reader=STAFF_A))}
    ids = [cid for r in assistant.store.documents() for cid in r.chunk_ids]
    shown = {m["source"] for m, _, _ in hnsw.passages(ids, Filters(reader=STAFF_A))}
    assert SECRET_FILE not in shown and shown


def test_threads_share_one_searcher(built: tuple[Assistant, list[str]]) -> None:
    assistant, questions = built
    hnsw = _hnsw(assistant, "relation")
    queries = [assistant.prepare(q) for q in questions[:16]]
    serial = [[h.id for h in hnsw.search(q, 10)] for q in queries]
    results: dict[int, list[str]] = {}

    def ask(i: int) -> None:
        results[i] = [h.id for h in hnsw.search(queries[i], 10)]
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(queries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(queries))] == serial
    assert set(hnsw.languages()) == {r.language for r in assistant.store.documents()}


def test_a_file_is_visible_whole_or_not_at_all(make_settings: object, tmp_path: Path) -> None:
    """Chunks written (both collections) but not yet committed by the file's record are
    never shown; once the record is written, every chunk is; removed, none."""
    home = tmp_path
    corpus, _ = _bundled(home)
    assistant = Assistant(_settings(home, corpus))
    assistant.ingest()
    store, searcher = assistant.store, assistant.searcher
    assert isinstance(searcher, ChromaSearcher)
    new = tmp_path / "new"
    new.mkdir()
    text = "Weekly report zqmark: the district clinic vaccinated 4,321 children against measles."
    (new / "zq.txt").write_text(text, encoding="utf-8")
    query = assistant.prepare("How many children did the clinic vaccinate against measles?")

    # The writer stops between the chunks and the record (a crash there).
    original = store.commit_document
    store.commit_document = lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        Indexer(assistant.settings, store, assistant.embedder).ingest([new])
    store.commit_document = original  # type: ignore[method-assign]
    written = store.chunks.get(where={"source": "zq.txt"}, include=[])["ids"]
    assert written  # in Chroma, both collections, but listed by no record
    assert set(searcher.centred.collection.get(ids=written, include=[])["ids"]) == set(written)
    assert "zq.txt" not in {h.source for h in searcher.search(query, 50)}

    Indexer(assistant.settings, store, assistant.embedder).ingest([new])
    assert "zq.txt" in {h.source for h in searcher.search(query, 5)}
    assistant.remove("zq.txt")
    assert "zq.txt" not in {h.source for h in searcher.search(query, 50)}


def _ids_read(store: ChromaStore) -> list[int]:
    """How many ids every ``get`` the store makes from now on asks Chroma for (a list
    holding one running total)."""
    total = [0]
    call = store._call

    def spy(fn: object, *args: object, **kwargs: object) -> object:
        if getattr(fn, "__name__", "") == "get":
            total[0] += len(kwargs.get("ids") or [])  # type: ignore[arg-type]
        return call(fn, *args, **kwargs)
    store._call = spy  # type: ignore[method-assign]
    return total


@pytest.mark.parametrize("mib", [64.0, 0.0])
def test_what_a_revision_gave_is_read_once(tmp_path: Path, mib: float) -> None:
    """Within one revision, what a question read from Chroma (its candidates' vectors,
    passages, file records) serves the next one: ids are content hashes and a revision is
    fixed. A writer at work, a new revision, or ``read_cache_mib=0``: read anew, so a file
    moved to another group is seen so at once."""
    corpus, _ = _bundled(tmp_path)
    assistant = Assistant(_settings(tmp_path, corpus, read_cache_mib=mib))
    assistant.ingest()
    store, searcher = assistant.store, assistant.searcher
    read = _ids_read(store)
    query = assistant.prepare("How many unfilled nursing posts did Ninh Binh have in 2025?")
    first = searcher.search(query, 5, Filters(reader=STAFF_B))
    assert SECRET_FILE in {h.source for h in first}
    once = read[0]
    assert once > 0
    again = searcher.search(query, 5, Filters(reader=STAFF_B))
    assert [(h.id, h.text, h.dense) for h in again] == [(h.id, h.text, h.dense) for h in first]
    assert (read[0] == once) == (mib > 0)

    store.begin_write()  # a writer at work: its commits do not move the revision
    before = read[0]
    searcher.search(query, 5, Filters(reader=STAFF_B))
    assert read[0] > before
    store.end_write()

    (corpus / "units" / "metadata.yaml").write_text("'*': {groups: [a]}\n", encoding="utf-8")
    report = assistant.ingest()
    assert report.updated == [SECRET_FILE]
    for reader, shown in ((STAFF_B, False), (STAFF_A, True)):
        hits = searcher.search(query, 50, Filters(reader=reader))
        assert (SECRET_FILE in {h.source for h in hits}) == shown


def test_an_index_written_without_the_mirror_is_refused_then_repaired(tmp_path: Path) -> None:
    corpus, _ = _bundled(tmp_path)
    settings = _settings(tmp_path, corpus)
    plain = settings.variant(search={"backend": "snapshot"})
    Assistant(plain).ingest()
    assistant = Assistant(settings)
    query = assistant.prepare("How many hospital beds does Lang Son province have in total?")
    with pytest.raises(IndexStoreError, match="ASSISTANT_SEARCH__BACKEND=chroma"):
        assistant.searcher.search(query)
    assistant.ingest()  # nothing changed but the mirror is made whole
    assert assistant.searcher.search(query)
    # A later writer without the mirror withdraws it again.
    (corpus / "more.txt").write_text("Lang Son opened a new clinic in 2025.\n", encoding="utf-8")
    Assistant(plain).ingest()
    with pytest.raises(IndexStoreError):
        ChromaSearcher(settings, ChromaStore(settings), assistant.embedder).search(query)


def _sums_of_chunks(store: ChromaStore) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    got = store.chunks.get(include=["metadatas", "embeddings"])
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
        lang = str(meta["lang"])
        sums[lang] = sums.get(lang, 0) + np.asarray(vector, np.float64)
        counts[lang] = counts.get(lang, 0) + 1
    return sums, counts


@pytest.mark.parametrize("writer", ["chroma", "snapshot"])
def test_the_corpus_means_follow_every_write(tmp_path: Path, writer: str) -> None:
    """The per-language sums and counts that re-centre the candidates are the chunks' own
    after files are added, changed and removed, by a writer with the mirror (kept step by
    step) or without it (recounted when the next one with it makes the mirror whole, even
    after counts went astray)."""
    corpus, _ = _bundled(tmp_path)
    settings = _settings(tmp_path, corpus)
    assistant = Assistant(settings)
    assistant.ingest()
    (corpus / "more_fr.txt").write_text(
        "Le district a ouvert deux nouvelles cliniques en 2025 et formé 40 infirmières.\n",
        encoding="utf-8")
    reports = sorted(p for p in corpus.glob("0*.txt"))
    reports[0].write_text(reports[0].read_text(encoding="utf-8") + "\nAddendum: 12 new "
                          "ambulances were bought in 2025.\n", encoding="utf-8")
    reports[-1].unlink()
    if writer == "snapshot":  # and counts gone astray (a writer killed between two calls)
        assistant.searcher.centred._save_stats({}, {})  # type: ignore[attr-defined]
    Assistant(settings.variant(search={"backend": writer})).ingest()
    if writer == "snapshot":
        assistant = Assistant(settings)
        assistant.ingest()  # makes the mirror whole again
    searcher = assistant.searcher
    assert isinstance(searcher, ChromaSearcher)
    sums, counts = searcher.centred.stats()
    want_sums, want_counts = _sums_of_chunks(assistant.store)
    assert counts == want_counts and "fr" in counts
    for lang, total in want_sums.items():
        assert np.allclose(sums[lang], total, atol=1e-4)


def test_bm25_fusion_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BM25 fusion needs the snapshot backend"):
        Settings(index_dir=tmp_path, search={"backend": "chroma", "fusion": "rrf"})


@pytest.mark.slow
def test_a_killed_ingest_shows_only_committed_files(cli_env: dict[str, str],
                                                    tmp_path: Path) -> None:
    """The snapshot test's crash (``assistant ingest`` killed with SIGKILL mid-run), read
    through the Chroma path: a file not committed is never found, a committed one is. (The
    kill rarely lands between a file's chunks and its record; that moment is forced in
    ``test_a_file_is_visible_whole_or_not_at_all``, which fails without the records check.)"""
    from assistant.index.embedding import E5Embeddings

    from .conftest import cli
    from .test_interrupted_ingest import _interrupt_ingest
    from .test_snapshot import N_NEW, _write_new_files

    index_dir = tmp_path / "index"
    env = {**cli_env, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_EMBED_BATCH_SIZE": "1",
           "ASSISTANT_SEARCH__BACKEND": "chroma"}
    assert cli(env, "ingest", "-q", str(CORPUS)).returncode == 0
    new = tmp_path / "new"
    _write_new_files(new)
    run = _interrupt_ingest(new, env, signal.SIGKILL, 3)
    assert run["signalled"], run["output"]

    settings = Settings(index_dir=index_dir, corpus_dir=CORPUS, search={"backend": "chroma"})
    store = ChromaStore(settings)
    assert store.identity()[2]  # the writer's mark is left
    embedder = E5Embeddings()
    searcher = ChromaSearcher(settings, store, embedder)
    committed = {r.source: r.chunk_ids for r in store.documents()}
    done = {s for s in committed if s.startswith("new_")}
    assert 0 < len(done) < N_NEW
    builder = QueryBuilder(embedder, settings.languages, 2000, {})
    for path in sorted(new.iterdir()):
        hits = searcher.search(builder.prepare(path.read_text(encoding="utf-8")), 5)
        shown = {h.source for h in hits if h.source.startswith("new_")}
        assert shown <= done, path.name
        assert (hits[0].source == path.name) == (path.name in done), path.name
        for hit in hits:
            assert hit.id in committed[hit.source]
