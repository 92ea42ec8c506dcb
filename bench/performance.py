"""Performance: ingest throughput and retrieval latency at 1k, 10k and 100k chunks.

Ingest: the five bundled reports plus generated documents (their sentences shuffled and
recombined, figures and provinces varied, and invented Vietnamese report sentences) are
ingested into a fresh temporary index with ``Indexer.ingest``; then the raw embedder
embeds exactly the chunk texts the pipeline produced. Both with a warm model. The overhead
(pipeline - raw) / raw has a target of under 15 %. A second ingest of the unchanged folder
(nothing to embed) and one after editing one file (only its changed chunks) follow.

Retrieval: embedding 100k chunks with the real model would take hours on two cores, so
the large collections are synthetic but realistic: a pool of real sentences is embedded
once; each synthetic chunk recombines pool sentences of one language (sometimes with a
sentence of another), with figures varied, and gets the mean of its sentences' vectors
plus a little gaussian noise, L2-normalised. Chunks go into the store through
``ChromaStore.write_chunks`` with the indexer's metadata, each synthetic document is
committed with ``ChromaStore.commit_document``, and the revision is bumped. One
subprocess per size builds the collection and another one queries it (clean peak-memory
figures). ``Searcher.search`` (default fusion, k=5) is timed with the query embedded
inside the call (what a user pays) and with a precomputed vector (retrieval alone); the
first search, which builds the BM25 lexicon, is reported separately, by part. A last pass
times each stage of a search, and Chroma's calls alone (the target is p95 under 100 ms at
100,000 chunks). Query embedding is also timed under four OpenMP settings.

The figures depend on what else runs on the machine: the section records the load
average and the code version (a warning if ``assistant/`` changed during the run).

    python -m bench.performance                      # 1k, 10k and 100k chunks (15-20 min)
    python -m bench.performance --sizes 1000,10000
    python -m bench.performance --quick              # small smoke run (~4 min)
    python -m bench.performance --raw-json f.json    # also keep the raw figures ...
    python -m bench.performance --render-only f.json # ... and rewrite the section from them
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from assistant.config import PROJECT_ROOT, Settings

from ._measure import Stopwatch, du_mib, load_avg, pct, peak_rss_mib
from ._performance_report import SINGLE_COMMITS, render
from ._results import code_version, write_section
from ._synthetic import build_pool, commit_many, make_queries, synthetic_documents, write_corpus

SECTION = "performance"
PROFILE_QUERIES = 100  # questions in the per-stage profile pass

# --------------------------------------------------------------------------------------
# 1. Ingest throughput
# --------------------------------------------------------------------------------------

def bench_ingest(work: Path, corpus: Path, progress: bool, per_file: bool) -> dict[str, Any]:
    import assistant.index.indexing as indexing
    import assistant.ingest.chunking as chunking
    from assistant.index.embedding import make_embedder
    from assistant.index.indexing import Indexer
    from assistant.index.store import ChromaStore
    from assistant.text.languages import detect
    from assistant.text.sentences import split_sentences

    settings = Settings(index_dir=work / "ingest-index", corpus_dir=corpus, collection="bench")
    store = ChromaStore(settings)
    embedder = make_embedder(settings)
    # Warm everything a long-running process has loaded: model, detector, segmenter, store.
    embedder.embed_passages(["passage de préchauffage du modèle, warm-up passage."])
    detect("Warm-up sentence for the language detector.", settings.languages)
    split_sentences("Warm up. The segmenter.", "en")
    store.documents()
    indexer = Indexer(settings, store, embedder)

    sw = Stopwatch()
    sw.wrap(embedder, "embed_passages", "embedding", count=lambda texts, **_: len(texts))
    sw.wrap(embedder, "count_tokens", "token counting (chunker)")
    sw.wrap(chunking, "split_sentences", "sentence splitting")
    sw.wrap(chunking, "detect", "chunk language detection")
    sw.wrap(indexing, "load", "loading files (parse, metadata, doc language)")
    sw.wrap(indexing, "file_sha256", "hashing files")
    sw.wrap(store, "check_embedder", "store: embedder check")
    sw.wrap(store, "existing_chunk_ids", "store: existing chunk ids")
    sw.wrap(store, "write_chunks", "store: write chunks")
    sw.wrap(store, "document", "store: previous record")
    sw.wrap(store, "commit_document", "store: commit document")
    sw.wrap(indexer, "collect_garbage", "store: garbage collection")
    sw.wrap(store, "bump_revision", "store: bump revision")
    started, cpu = time.perf_counter(), time.process_time()
    report = indexer.ingest([corpus], progress=progress)
    pipeline_s, pipeline_cpu = time.perf_counter() - started, time.process_time() - cpu
    sw.restore()
    breakdown = {k: [round(v, 3), sw.calls[k]]
                 for k, v in sorted(sw.seconds.items(), key=lambda kv: -kv[1])}

    by_file: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for _, meta, text in store.iter_chunks():
        by_file[meta["source"]].append((meta["index"], text))
    files = [[text for _, text in sorted(by_file[source])] for source in sorted(by_file)]
    texts = [text for file_texts in files for text in file_texts]
    n_docs = len(store.documents())
    # (b) the raw embedder on the same texts, batched as it batches them.
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed_passages(texts, progress=progress)
    raw_s, raw_cpu = time.perf_counter() - started, time.process_time() - cpu
    per_file: dict[str, float] = {}
    if per_file:  # (c) the same again, one call per file
        started, cpu = time.perf_counter(), time.process_time()
        for file_texts in tqdm(files, desc="Embedding per file", unit="file",
                               disable=not progress):
            embedder.embed_passages(file_texts)
        per_file = {"seconds": time.perf_counter() - started,
                    "cpu": time.process_time() - cpu}
    tokens = sum(embedder.count_tokens(t) for t in texts)

    again = indexer.ingest([corpus])

    # Edit one file: one sentence in the middle of the longest generated document changes.
    records = {r.source: r for r in store.documents()}
    source = max((s for s in records if s.startswith("gen_")),
                 key=lambda s: len(records[s].chunk_ids))
    path = corpus / source
    lines = path.read_text(encoding="utf-8").split("\n\n")
    middle = len(lines) // 2
    lines[middle] = lines[middle] + " This sentence was added by the edit, with 4,321 new cases."
    path.write_text("\n\n".join(lines), encoding="utf-8")
    edited = indexer.ingest([corpus])
    after = store.document(source)
    return {
        "docs": n_docs, "chunks": len(texts), "tokens": tokens,
        "pipeline_s": pipeline_s, "raw_s": raw_s, "per_file": per_file,
        "pipeline_cpu": pipeline_cpu, "raw_cpu": raw_cpu,
        "overhead": (pipeline_s - raw_s) / raw_s,
        "chunks_embedded": report.chunks_embedded, "failed": report.failed,
        "embed_inside_s": sw.seconds["embedding"], "breakdown": breakdown,
        "unchanged": {"seconds": again.seconds, "embedded": again.chunks_embedded,
                      "unchanged": len(again.unchanged), "summary": again.summary()},
        "edited": {"source": source, "seconds": edited.seconds,
                   "embedded": edited.chunks_embedded, "reused": edited.chunks_reused,
                   "chunks_before": len(records[source].chunk_ids),
                   "chunks_after": len(after.chunk_ids) if after else 0,
                   "updated": edited.updated, "summary": edited.summary()},
        "peak_rss_mib": peak_rss_mib(),
    }



def child_build(work: Path, size: int, per_doc: int, seed: int) -> dict[str, Any]:
    from assistant.index.embedding import make_embedder
    from assistant.index.store import ChromaStore, DocRecord
    from assistant.ingest.chunking import chunk_id

    data = json.loads((work / "pool.json").read_text(encoding="utf-8"))
    pool_vecs = np.load(work / "pool.npy")
    settings = Settings(index_dir=work / f"store-{size}", corpus_dir=work / "corpus",
                        collection="bench")
    store = ChromaStore(settings)
    started = time.perf_counter()
    store.check_embedder(make_embedder(settings).model_id, int(pool_vecs.shape[1]))
    write_s = commit_s = 0.0
    single_s: list[float] = []
    province_chunks: Counter[str] = Counter()
    pending: list[tuple[DocRecord, str, list[str], list[str], list[dict[str, Any]],
                        np.ndarray]] = []
    n_docs = 0

    def flush() -> None:
        nonlocal write_s, commit_s
        if not pending:
            return
        t = time.perf_counter()
        store.write_chunks([i for p in pending for i in p[2]], [x for p in pending for x in p[3]],
                           [m for p in pending for m in p[4]],
                           np.concatenate([p[5] for p in pending]))
        write_s += time.perf_counter() - t
        # Written first, then committed: the indexer's order. The first documents go through
        # commit_document one by one (its per-call cost is reported); the rest in one upsert
        # per batch, exactly what commit_document writes: Chroma costs ~0.1 s per write
        # call, and 5,000 single commits would take most of the run.
        t = time.perf_counter()
        singles = max(0, min(len(pending), SINGLE_COMMITS - len(single_s)))
        for record, text, *_ in pending[:singles]:
            t1 = time.perf_counter()
            store.commit_document(record, text)
            single_s.append(time.perf_counter() - t1)
        commit_many(store, [p[0] for p in pending[singles:]], [p[1] for p in pending[singles:]])
        commit_s += time.perf_counter() - t
        pending.clear()

    rng = random.Random(seed)
    with tqdm(total=size, desc=f"Building {size:,} chunks", unit="chunk") as bar:
        for source, lang, title, provinces, texts, vecs in synthetic_documents(
                data["texts"], data["langs"], pool_vecs, size, per_doc, seed + size):
            day = f"{rng.choice((2023, 2024, 2025))}-{rng.randint(1, 12):02d}-" \
                  f"{rng.randint(1, 28):02d}"
            url = f"https://reports.example.org/{source}"
            ids = [chunk_id(source, t) for t in texts]
            metas: list[dict[str, Any]] = []
            for index, _ in enumerate(texts):
                meta: dict[str, Any] = {"source": source, "index": index, "lang": lang,
                                        "doc_lang": lang, "title": title, "url": url,
                                        "date": int(day.replace("-", ""))}
                if provinces:
                    meta["provinces"] = provinces
                metas.append(meta)
            text = "\n".join(texts)
            record = DocRecord(source=source, sha256=hashlib.sha256(text.encode()).hexdigest(),
                               title=title, language=lang, chunk_ids=ids, url=url, date=day,
                               provinces=provinces, ingested_at=time.time())
            pending.append((record, text, ids, texts, metas, vecs))
            n_docs += 1
            province_chunks.update({p: len(texts) for p in provinces})
            if sum(len(p[2]) for p in pending) >= 2000:
                flush()
            bar.update(len(texts))
        flush()
    store.bump_revision()
    build_s = time.perf_counter() - started
    committed = store.documents()
    if len(committed) != n_docs or replace(committed[-1], ingested_at=0) != replace(
            record, ingested_at=0):
        raise RuntimeError(f"{len(committed)} documents committed, {n_docs} expected")
    return {"size": size, "docs": n_docs, "build_s": build_s,
            "write_s": write_s, "commit_s": commit_s,
            "single_commit_ms": 1000 * float(np.mean(single_s)) if single_s else float("nan"),
            "province_share": {p: n / size for p, n in province_chunks.most_common()},
            "disk_mib": du_mib(settings.index_dir), "peak_rss_mib": peak_rss_mib()}


def child_query(work: Path, size: int, e2e_budget_s: float) -> dict[str, Any]:
    import bm25s
    from chromadb.api.models.Collection import Collection

    import assistant.search.lexicon as lexicon_module
    from assistant.index.embedding import make_embedder
    from assistant.index.store import ChromaStore
    from assistant.search.query import QueryBuilder
    from assistant.search.searcher import Searcher

    queries = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    qvecs = np.load(work / "queries.npy")
    settings = Settings(index_dir=work / f"store-{size}", corpus_dir=work / "corpus",
                        collection="bench")
    store = ChromaStore(settings)
    embedder = make_embedder(settings)
    embedder.embed_query_vector("warm-up query")  # the model is loaded and warm
    rss_before = peak_rss_mib()
    searcher = Searcher(settings, store, embedder)
    builder = QueryBuilder(embedder, settings.languages, 10**6, {})
    count = store.chunks.count()

    # First search: the BM25 lexicon is built lazily inside it.
    sw = Stopwatch()
    sw.wrap(searcher, "snapshot", "lexicon")
    sw.wrap(store, "documents", "committed records (store.documents)")
    sw.wrap_iter(store, "iter_chunks", "reading every chunk from Chroma (store.iter_chunks)")
    sw.wrap(lexicon_module, "tokenize", "tokenizing every chunk (languages.tokenize)")
    sw.wrap(bm25s.BM25, "index", "bm25s index")
    started = time.perf_counter()
    searcher.search(builder.prepare(queries[0][0]), k=5)
    first_s = time.perf_counter() - started
    lexicon_s = sw.seconds.pop("lexicon")
    lexicon_parts = dict(sw.seconds)
    lexicon_parts["rest (loops, visible set)"] = lexicon_s - sum(lexicon_parts.values())
    sw.restore()
    rss_lexicon = peak_rss_mib()

    # Retrieval alone (precomputed query vector).
    lat: list[float] = []
    cpu: list[float] = []
    hits = 0
    prepared = [builder.prepare(text, vector=vec)
                for (text, _), vec in zip(queries, qvecs, strict=True)]
    for query in tqdm(prepared, desc="Retrieval", unit="query", leave=False):
        t, c = time.perf_counter(), time.process_time()
        got = searcher.search(query, k=5)
        lat.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        hits += len(got)

    # What a user pays: the query is embedded inside the call.
    e2e: list[float] = []
    deadline = time.perf_counter() + e2e_budget_s
    for text, _ in tqdm(queries, desc="Search + embedding", unit="query", leave=False):
        if time.perf_counter() > deadline:
            break
        t = time.perf_counter()
        searcher.search(builder.prepare(text), k=5)
        e2e.append(time.perf_counter() - t)
    embed: list[float] = []
    for text, _ in queries[: max(1, min(50, len(e2e)))]:
        t = time.perf_counter()
        embedder.embed_query_vector(text)
        embed.append(time.perf_counter() - t)

    # Where the time goes: every stage of a search, timed (precomputed query vectors).
    lexicon = searcher.lexicon()
    sw = Stopwatch()
    sw.wrap(store, "revision", "revision check (store.revision)")
    sw.wrap(store, "query", lambda vector, n, where: "dense: store.query, " + (
        "province filter" if where else "no filter"))
    sw.wrap(store.client, "get_or_create_collection", "chroma: get_or_create_collection")
    sw.wrap(Collection, "count", "chroma: collection.count")
    sw.wrap(Collection, "query", "chroma: collection.query")
    sw.wrap(Collection, "get", "chroma: collection.get")
    sw.wrap(lexicon, "top", "bm25: lexicon.top")
    sw.wrap(lexicon_module, "tokenize", "bm25: tokenize query")
    sw.wrap(lexicon.snapshot, "bm25_scores", "bm25: bm25_scores")  # the snapshot's postings
    sw.wrap(store, "get_chunks", "bm25 candidates: store.get_chunks (with embeddings)",
            count=lambda ids, *a, **k: len(ids))
    sw.wrap(searcher, "_fuse", "fusion (_fuse)")
    total = 0.0
    n = min(PROFILE_QUERIES, len(queries))
    for (text, _), vec in zip(queries[:n], qvecs[:n], strict=True):
        t = time.perf_counter()
        searcher.search(builder.prepare(text, vector=vec), k=5)
        total += time.perf_counter() - t
    sw.restore()
    chroma = chroma_micro(store, queries, qvecs, lexicon.ids, settings.search.candidate_k + 10,
                          n=min(50, n))
    stages = {name: {"ms": 1000 * sec / n, "calls": sw.calls[name] / n,
                     "items": sw.items[name] / max(1, sw.calls[name])}
              for name, sec in sw.seconds.items()}
    return {
        "size": size, "count": count, "visible": len(lexicon.visible),
        "queries": len(queries), "profiled": n,
        "first_s": first_s, "lexicon_s": lexicon_s, "lexicon_parts": lexicon_parts,
        "ret_p50": pct(lat, 50) * 1000, "ret_p95": pct(lat, 95) * 1000,
        "ret_mean": 1000 * float(np.mean(lat)), "ret_cpu": 1000 * float(np.mean(cpu)),
        "e2e_n": len(e2e), "e2e_p50": pct(e2e, 50) * 1000, "e2e_p95": pct(e2e, 95) * 1000,
        "embed_p50": pct(embed, 50) * 1000, "embed_p95": pct(embed, 95) * 1000,
        "hits_per_query": hits / len(queries), "profile_mean_ms": 1000 * total / n,
        "stages": stages,
        "chroma": chroma,
        "rss_model_mib": rss_before, "rss_lexicon_mib": rss_lexicon, "code": code_version(),
        "peak_rss_mib": peak_rss_mib(),
    }


def chroma_micro(store: Any, queries: list[tuple[str, str]], qvecs: np.ndarray,
                 ids: list[str], depth: int, n: int = 50) -> dict[str, float]:
    """Chroma calls alone, as the searcher makes them and leaner (mean ms, n questions)."""
    from assistant.text.anchors import find_provinces

    rng = random.Random(0)
    collection = store.chunks
    full = ["metadatas", "documents", "distances"]

    def query(v: np.ndarray, k: int, include: list[str], **extra: Any) -> Any:
        return collection.query(query_embeddings=[v.tolist()], n_results=k, include=include,
                                **extra)

    calls: dict[str, Callable[[str, np.ndarray], Any]] = {
        "count()": lambda q, v: collection.count(),
        f"query {depth}, ids + distances only": lambda q, v: query(v, depth, ["distances"]),
        f"query {depth}, + metadatas": lambda q, v: query(v, depth, ["metadatas", "distances"]),
        f"query {depth}, + metadatas + documents": lambda q, v: query(v, depth, full),
        f"query {4 * depth}, + metadatas + documents": lambda q, v: query(v, 4 * depth, full),
        f"query {depth}, + province filter (`$contains`)": lambda q, v: query(
            v, depth, full,
            where={"provinces": {"$contains": (find_provinces(q) or ["Lang Son"])[0]}}),
        "get 30 ids, metadatas + documents": lambda q, v: collection.get(
            ids=rng.sample(ids, min(30, len(ids))), include=["metadatas", "documents"]),
        "get 30 ids, + embeddings": lambda q, v: collection.get(
            ids=rng.sample(ids, min(30, len(ids))),
            include=["metadatas", "documents", "embeddings"]),
        "docs metadata (revision)": lambda q, v: store.revision(),
    }
    out: dict[str, float] = {}
    sample = list(zip(queries, qvecs, strict=True))[:n]
    for label, call in calls.items():
        start = time.perf_counter()
        for (text, _), vec in sample:
            call(text, vec)
        out[label] = 1000 * (time.perf_counter() - start) / len(sample)
    return out


def child_embedprobe(work: Path, budget_s: float) -> dict[str, Any]:
    """Query embedding latency under this process's OpenMP environment."""
    from assistant.index.embedding import make_embedder

    queries = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    embedder = make_embedder(Settings())
    embedder.embed_query_vector("warm-up query")
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    for text, _ in queries[:40]:
        if time.perf_counter() > deadline:
            break
        t = time.perf_counter()
        embedder.embed_query_vector(text)
        times.append(time.perf_counter() - t)
    return {"n": len(times), "p50": pct(times, 50) * 1000, "p95": pct(times, 95) * 1000}


# The environment this run started with: the embedder may set OMP_* in this process.
_ENV = dict(os.environ)


def run_child(kind: str, work: Path, env: dict[str, str] | None = None,
              **options: Any) -> dict[str, Any]:
    out = work / f"result-{kind}-{options.get('size', 'x')}-{len(os.listdir(work))}.json"
    cmd = [sys.executable, "-m", "bench.performance", "--child", kind, "--work", str(work),
           "--child-out", str(out)]
    for key, value in options.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    subprocess.run(cmd, cwd=PROJECT_ROOT, check=True, env={**_ENV, **(env or {})})
    return dict(json.loads(out.read_text(encoding="utf-8")))



# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",") if x],
                        default=None, help="collection sizes in chunks (default 1000,10000,100000)")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--docs", type=int, default=None, help="generated documents (default 50)")
    parser.add_argument("--pool", type=int, default=None,
                        help="sentences embedded for the pool (default 400)")
    parser.add_argument("--queries", type=int, default=None, help="questions (default 200)")
    parser.add_argument("--per-doc", type=int, default=20, help="chunks per synthetic document")
    parser.add_argument("--e2e-budget", type=float, default=None,
                        help="seconds per size for searches that embed the question")
    parser.add_argument("--per-file", action="store_true",
                        help="also time the raw embedder called once per file")
    parser.add_argument("--no-omp-probe", action="store_true",
                        help="skip the query-embedding vs OpenMP settings probe")
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--raw-json", type=Path, help="also save the raw figures here")
    parser.add_argument("--render-only", type=Path, metavar="RAW_JSON",
                        help="only (re)write the section from figures saved with --raw-json")
    parser.add_argument("--seed", type=int, default=7)
    # Internal: the subprocesses.
    parser.add_argument("--child", choices=["build", "query", "embedprobe"], help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=60.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or ([1000, 3000] if quick else [1000, 10000, 100000])
    args.docs = args.docs if args.docs is not None else (10 if quick else 50)
    args.pool = args.pool or (150 if quick else 400)
    args.queries = args.queries or (40 if quick else 200)
    args.e2e_budget = args.e2e_budget or (20.0 if quick else 45.0)
    return args


def publish(raw: dict[str, Any], write: bool) -> None:
    body = render(argparse.Namespace(**raw["args"]), raw["ingest"], raw["pool"], raw["builds"],
                  raw["queries"], raw["probes"], raw["runtime_s"], raw["loads"],
                  raw.get("cpu_s", float("nan")), raw.get("code", []))
    print(body)
    if write:
        write_section(SECTION, body)
        print(f"\nWrote the '{SECTION}' section of bench/results.md "
              f"({raw['runtime_s'] / 60:.1f} min).", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only:
        publish(json.loads(args.render_only.read_text(encoding="utf-8")), not args.no_write)
        return
    if args.child:
        assert args.work and args.child_out
        if args.child == "build":
            result = child_build(args.work, args.size, args.per_doc, args.seed)
        elif args.child == "query":
            result = child_query(args.work, args.size, args.budget)
        else:
            result = child_embedprobe(args.work, args.budget)
        args.child_out.write_text(json.dumps(result), encoding="utf-8")
        return

    from assistant.index.embedding import make_embedder

    started = time.perf_counter()
    loads = [load_avg()]
    code_before = code_version()
    work = Path(tempfile.mkdtemp(prefix="bench-perf-"))
    print(f"Working in {work}", file=sys.stderr)
    try:
        corpus = work / "corpus"
        used = write_corpus(corpus, args.docs, args.seed)
        print(f"[1/3] Ingest: {len(list(corpus.glob('*.txt')))} files", file=sys.stderr)
        ingest = bench_ingest(work, corpus, progress=True, per_file=args.per_file)
        print(f"      pipeline {ingest['pipeline_s']:.1f} s, raw {ingest['raw_s']:.1f} s, "
              f"overhead {100 * ingest['overhead']:+.1f} %", file=sys.stderr)

        print("[2/3] Sentence pool and questions", file=sys.stderr)
        embedder = make_embedder(Settings())
        texts, langs = build_pool(used, args.pool, args.seed)
        t = time.perf_counter()
        vecs = embedder.embed_passages(texts, progress=True)
        pool = {"n": len(texts), "seconds": time.perf_counter() - t,
                "langs": dict(Counter(langs))}
        np.save(work / "pool.npy", vecs)
        (work / "pool.json").write_text(json.dumps({"texts": texts, "langs": langs}),
                                        encoding="utf-8")
        questions = make_queries(args.queries, args.seed)
        qvecs = np.concatenate([
            # Batched, for speed: the same model and prefix as embed_query_vector.
            embedder._encode([q for q, _ in questions[i : i + 32]], is_query=True)
            for i in tqdm(range(0, len(questions), 32), desc="Questions", unit="batch")])
        np.save(work / "queries.npy", qvecs)
        (work / "queries.json").write_text(json.dumps(questions), encoding="utf-8")
        del embedder

        probes: dict[str, dict[str, Any]] = {}
        if not args.no_omp_probe:
            for label, env in (("as configured (no OMP_* variable set)", {}),
                               ("OMP_WAIT_POLICY=ACTIVE (threads spin)",
                                {"OMP_WAIT_POLICY": "ACTIVE"}),
                               ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}),
                               ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"})):
                probes[label] = run_child("embedprobe", work, env=env,
                                          budget=10 if args.quick else 20)
                print(f"      query embedding, {label}: p50 {probes[label]['p50']:.1f} ms",
                      file=sys.stderr)

        loads.append(load_avg())
        print(f"[3/3] Retrieval at {args.sizes}", file=sys.stderr)
        builds: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        for size in args.sizes:
            builds.append(run_child("build", work, size=size, per_doc=args.per_doc,
                                    seed=args.seed))
            results.append(run_child("query", work, size=size, budget=args.e2e_budget))
            q = results[-1]
            print(f"      {size:>7,} chunks: build {builds[-1]['build_s']:.0f} s, first "
                  f"{q['first_s']:.2f} s, retrieval p50/p95 {q['ret_p50']:.1f}/"
                  f"{q['ret_p95']:.1f} ms, with embedding {q['e2e_p50']:.1f}/"
                  f"{q['e2e_p95']:.1f} ms", file=sys.stderr)
            shutil.rmtree(work / f"store-{size}", ignore_errors=True)
        loads.append(load_avg())
        raw = {"args": {k: getattr(args, k) for k in ("quick", "sizes", "docs", "per_doc")},
               "ingest": ingest, "pool": pool, "builds": builds, "queries": results,
               "probes": probes, "runtime_s": time.perf_counter() - started, "loads": loads,
               "code": [code_before, *(q["code"] for q in results), code_version()],
               "cpu_s": sum(getattr(resource.getrusage(who), f) for who in (
                   resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                   for f in ("ru_utime", "ru_stime"))}
        if args.raw_json:
            args.raw_json.write_text(json.dumps(raw, indent=1), encoding="utf-8")
        publish(raw, write=not args.no_write)
    finally:
        if args.keep:
            print(f"Kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

