"""Scale: 100,000 chunks (and more) with a persisted search snapshot (issue 15).

The collection is synthetic, as in ``bench.performance`` (whose generators this reuses): a
pool of real sentences is embedded once; each chunk recombines pool sentences of one
language with figures varied and gets the mean of their vectors plus noise. It is built
once into ``--root`` (default /tmp/scale, outside the repository) and reused by later runs;
the build ends as the indexer's does (``end_write``, then the snapshot is saved).

Then, each in a fresh subprocess (clean RSS): the first question of a new process (snapshot
mapped, nothing rebuilt), search latency with the query embedded inside the call and with
a precomputed vector, a province / language / date filter against no filter, peak RSS, and
the query embedding under the thread policies of ``Settings.omp_wait_policy``.

    python -m bench.scale                       # 100,000 chunks
    python -m bench.scale --sizes 10000 --no-write
    python -m bench.scale --server --sizes 1000000   # into a real `chroma run` server

With ``--server`` the collection lives in a ``chroma run`` server (data in
``ROOT/server-SIZE``), the app's snapshots in ``ROOT/cache-SIZE``; the server's own memory
and disk are reported beside the app's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from assistant.config import PROJECT_ROOT, Settings
from bench._measure import du_mib, load_avg, pct, timed
from bench._results import code_version, write_section
from bench._server import Server, chroma_server
from bench._synthetic import (
    build_pool,
    commit_many,
    make_queries,
    synthetic_documents,
    write_corpus,
)

_ENV = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false"}


def rss_mib() -> float:
    """Current resident set (VmRSS), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(root: Path, seed: int, n_queries: int) -> None:
    """Sentence pool and questions, embedded once per root."""
    if (root / "pool.npy").exists() and (root / "queries.npy").exists():
        return
    from assistant.index.embedding import make_embedder

    root.mkdir(parents=True, exist_ok=True)
    used = write_corpus(root / "corpus", 50, seed)
    texts, langs = build_pool(used, 300, seed)
    embedder = make_embedder(Settings())
    np.save(root / "pool.npy", embedder.embed_passages(texts, progress=True))
    (root / "pool.json").write_text(json.dumps({"texts": texts, "langs": langs}),
                                    encoding="utf-8")
    questions = make_queries(n_queries, seed)
    qvecs = np.stack([embedder.embed_query_vector(q) for q, _ in questions])
    np.save(root / "queries.npy", qvecs)
    (root / "queries.json").write_text(json.dumps(questions), encoding="utf-8")


def settings_for(root: Path, size: int, **extra: Any) -> Settings:
    values: dict[str, Any] = {"index_dir": root / f"store-{size}",
                              "corpus_dir": root / "corpus", "collection": "bench"}
    return Settings(**{**values, **extra})


def child_build(root: Path, size: int, seed: int) -> dict[str, Any]:
    from assistant.index.embedding import make_embedder
    from assistant.index.snapshot_cache import SnapshotCache
    from assistant.index.store import ChromaStore, DocRecord, province_field
    from assistant.ingest.chunking import chunk_id

    data = json.loads((root / "pool.json").read_text(encoding="utf-8"))
    pool_vecs = np.load(root / "pool.npy")
    settings = settings_for(root, size)
    store = ChromaStore(settings)
    if settings.search.backend == "chroma":  # bench.scale_chroma: the centred collection too
        from assistant.search.chroma_index import attach

        attach(store, make_embedder(settings).model_id)
    started = time.perf_counter()
    store.check_embedder(make_embedder(settings).model_id, int(pool_vecs.shape[1]))
    store.begin_write()
    pending: list[tuple[Any, str, list[str], list[str], list[dict[str, Any]], np.ndarray]] = []
    provinces_seen: Counter[str] = Counter()

    def flush() -> None:
        if pending:
            store.write_chunks([i for p in pending for i in p[2]],
                               [x for p in pending for x in p[3]],
                               [m for p in pending for m in p[4]],
                               np.concatenate([p[5] for p in pending]))
            commit_many(store, [p[0] for p in pending], [p[1] for p in pending])
            pending.clear()

    rng = random.Random(seed)
    n_docs = 0
    with tqdm(total=size, desc=f"Building {size:,} chunks", unit="chunk") as bar:
        for source, lang, title, provinces, texts, vecs in synthetic_documents(
                data["texts"], data["langs"], pool_vecs, size, 20, seed + size):
            day = f"{rng.choice((2023, 2024, 2025))}-{rng.randint(1, 12):02d}-" \
                  f"{rng.randint(1, 28):02d}"
            ids = [chunk_id(source, t) for t in texts]
            metas = []
            for index in range(len(texts)):
                meta: dict[str, Any] = {"source": source, "index": index, "lang": lang,
                                        "doc_lang": lang, "title": title,
                                        "date": int(day.replace("-", ""))}
                if provinces:
                    meta["provinces"] = provinces
                    meta.update({province_field(p): True for p in provinces})
                metas.append(meta)
            text = "\n".join(texts)
            record = DocRecord(source=source, sha256=hashlib.sha256(text.encode()).hexdigest(),
                               title=title, language=lang, chunk_ids=ids, date=day,
                               provinces=provinces, ingested_at=time.time())
            pending.append((record, text, ids, texts, metas, vecs))
            provinces_seen.update({p: len(texts) for p in provinces})
            n_docs += 1
            if sum(len(p[2]) for p in pending) >= 2000:
                flush()
            bar.update(len(texts))
        flush()
    store.end_write()
    build_s = time.perf_counter() - started
    t = time.perf_counter()
    SnapshotCache(store.snapshot_root()).current(store)  # what the indexer does at the end
    snapshot_s = time.perf_counter() - t
    return {"size": size, "docs": n_docs, "build_s": build_s, "snapshot_s": snapshot_s,
            "disk_mib": du_mib(settings.index_dir),
            "snapshot_mib": du_mib(store.snapshot_root()),
            "provinces": provinces_seen.most_common(), "peak_rss_mib": peak_mib(),
            "load": load_avg()}


def child_query(root: Path, size: int, budget_s: float) -> dict[str, Any]:
    """A fresh process: first question, then latency, filters and memory."""
    t0 = time.perf_counter()
    from datetime import date

    from assistant.index.embedding import make_embedder
    from assistant.index.store import ChromaStore
    from assistant.search.filters import Filters
    from assistant.search.query import QueryBuilder
    from assistant.search.searcher import Searcher

    questions = [q for q, _ in json.loads((root / "queries.json").read_text(encoding="utf-8"))]
    qvecs = np.load(root / "queries.npy")
    settings = settings_for(root, size)
    store = ChromaStore(settings)
    embedder = make_embedder(settings)
    embedder.embed_query_vector("warm-up")  # model loaded: not part of the first question
    import_load_s = time.perf_counter() - t0
    rss_model = rss_mib()
    searcher = Searcher(settings, store, embedder)
    builder = QueryBuilder(embedder, settings.languages, settings.answer.max_question_chars, {})
    # What `assistant serve` does before serving (Assistant.warm_up, the model aside):
    # Chroma imported and opened, the revision's snapshot mapped. Then the first question.
    t = time.perf_counter()
    searcher.snapshot()
    startup_s = time.perf_counter() - t
    t = time.perf_counter()
    first_hits = searcher.search(builder.prepare(questions[0]), k=5)
    first_s = time.perf_counter() - t
    snap = searcher.lexicon().snapshot
    rss_first = rss_mib()


    n = len(questions)
    # What a user waits for: the question prepared (embedded, language detected) and searched.
    e2e = timed(lambda i: searcher.search(builder.prepare(questions[i]), k=5), n, budget_s)
    embed = timed(lambda i: embedder.embed_query_vector(questions[i]), min(n, 100), budget_s)
    prepared = [builder.prepare(q, vector=v) for q, v in zip(questions, qvecs, strict=True)]
    retr = timed(lambda i: searcher.search(prepared[i], k=5), n, budget_s)
    provinces = sorted(snap.province_docs, key=lambda p: -len(snap.province_docs[p]))
    filters = {
        "none": Filters(),
        f"province, commonest ({provinces[0]})": Filters(provinces=(provinces[0],)),
        f"province, median ({provinces[len(provinces) // 2]})":
            Filters(provinces=(provinces[len(provinces) // 2],)),
        "language (fr)": Filters(languages=("fr",)),
        "date (since 2025-01-01)": Filters(since=date(2025, 1, 1)),
        "province + language + date": Filters(provinces=(provinces[0],), languages=("vi",),
                                              since=date(2024, 1, 1)),
    }
    filtered: dict[str, Any] = {}
    m = min(n, 100)
    for label, f in filters.items():
        mask = f.mask(snap)
        share = float(mask.mean()) if mask is not None else 1.0
        times = timed(lambda i, f=f: searcher.search(prepared[i], k=5, filters=f), m, budget_s)
        filtered[label] = {"share": share, "p50": pct(times, 50), "p95": pct(times, 95),
                           "n": len(times)}
    return {"size": size, "chunks": len(snap), "import_load_s": import_load_s,
            "startup_s": startup_s, "first_s": first_s, "first_hits": len(first_hits),
            "snapshot_saved": snap.folder is not None,
            "e2e_p50": pct(e2e, 50), "e2e_p95": pct(e2e, 95), "e2e_n": len(e2e),
            "embed_p50": pct(embed, 50), "embed_p95": pct(embed, 95),
            "ret_p50": pct(retr, 50), "ret_p95": pct(retr, 95), "ret_n": len(retr),
            "filtered": filtered, "rss_model_mib": rss_model, "rss_first_mib": rss_first,
            "rss_end_mib": rss_mib(), "peak_rss_mib": peak_mib(),
            "wait_policy": os.environ.get("OMP_WAIT_POLICY", ""), "load": load_avg(),
            "code": code_version()}


def run_child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = Path(f"/tmp/scale-child-{os.getpid()}-{time.time_ns()}.json")
    subprocess.run([sys.executable, "-m", "bench.scale", *args, "--child-out", str(out)],
                   cwd=PROJECT_ROOT, check=True, env={**_ENV, **(env or {})})
    try:
        return dict(json.loads(out.read_text(encoding="utf-8")))
    finally:
        out.unlink(missing_ok=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/scale"))
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",") if x],
                        default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    parser.add_argument("--child", choices=["build", "query", "embedprobe"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--budget", type=float, default=90.0,
                        help="seconds per timed loop at most")
    parser.add_argument("--server", action="store_true",
                        help="build into and query a real `chroma run` server")
    return parser.parse_args(argv)


def _row(label: str, q: dict[str, Any]) -> str:
    return (f"| {label} | {q.get('startup_s', 0.0):.2f} + {q['first_s']:.2f} | "
            f"{q['e2e_p50']:.1f} / {q['e2e_p95']:.1f} "
            f"({q['e2e_n']}) | {q['embed_p50']:.1f} / {q['embed_p95']:.1f} | "
            f"{q['ret_p50']:.1f} / {q['ret_p95']:.1f} ({q['ret_n']}) | {q['rss_first_mib']:.0f} / "
            f"{q['rss_end_mib']:.0f} / {q['peak_rss_mib']:.0f} | {q['load']} |")


def render(build: dict[str, Any], runs: dict[str, dict[str, Any]], loads: list[str]) -> str:
    size = build["size"]
    lines = [
        f"## Scale: {size:,} chunks with a persisted search snapshot (`bench/scale.py`)", "",
        "`python -m bench.scale`: synthetic collection as in `bench.performance` (pool "
        "sentences recombined, vectors = mean of their vectors + noise), built once outside "
        "the repository and ended as the indexer ends a run (`end_write`, then the snapshot "
        "is saved). Each row is a fresh process (model loaded first, not counted): its "
        "start-up as `assistant serve` does it before serving (`Assistant.warm_up`: Chroma "
        "imported and opened, the snapshot mapped; a cold first question pays the sum), its "
        "first question, then 200 questions with the query embedded inside `Searcher.search` "
        "(what a user waits for), query embedding alone, and retrieval with a precomputed "
        "vector. RSS = resident memory after the first question / at the end / peak (MiB). "
        f"Load average (1/5/15 min) at the end of the build and of the questions: "
        f"{' ; '.join(x for x in loads if x) or 'n/a'} on "
        "2 shared cores.", "",
        f"Code: {runs[next(iter(runs))]['code']}.", "",
        f"Build: {build['docs']:,} documents, {build['build_s']:.0f} s into Chroma "
        f"({build['disk_mib']:.0f} MiB on disk with the snapshot); the snapshot from scratch "
        f"(every chunk read and tokenized once, as after the first ingest) "
        f"{build['snapshot_s']:.0f} s, {build['snapshot_mib']:.0f} MiB.", "",
        "| process | start-up + first question s | search incl. embedding p50 / p95 ms (n) | "
        "query embedding p50 / p95 ms | retrieval p50 / p95 ms (n) | RSS MiB first / end / "
        "peak | load avg at end |",
        "|---|---:|---|---|---|---|---|",
    ]
    lines += [_row(label, q) for label, q in runs.items()]
    base = runs[next(iter(runs))]
    lines += ["", "Filters (same process as the first row; retrieval with a precomputed vector, "
              "100 questions):", "",
              "| filter | share of chunks | p50 ms | p95 ms | p50 vs none |",
              "|---|---:|---:|---:|---:|"]
    none = base["filtered"]["none"]["p50"]
    for label, f in base["filtered"].items():
        lines.append(f"| {label} | {100 * f['share']:.1f} % | {f['p50']:.1f} | {f['p95']:.1f} | "
                     f"{f['p50'] / none:.2f}x |")
    return "\n".join(lines)


def server_lines(build: dict[str, Any], after: dict[str, float], srv: Server) -> str:
    return (f"Chroma server (`chroma run`, same machine): {du_mib(srv.path):.0f} MiB on disk; "
            f"resident memory {build['server_rss_mib']:.0f} MiB after the build (peak "
            f"{build['server_peak_mib']:.0f}), {after['rss']:.0f} MiB after the questions "
            f"(peak since start {after['peak']:.0f}). The app keeps its snapshot in a local "
            "cache folder (`index_cache_dir`).")


def run_size(args: argparse.Namespace, size: int, srv: Server | None) -> str:
    env = {} if srv is None else {"ASSISTANT_CHROMA_URL": srv.url,
                                  "ASSISTANT_INDEX_CACHE_DIR": str(args.root / f"cache-{size}")}
    built = args.root / f"build-{size}{'-server' if srv else ''}.json"
    if not built.exists():
        build = run_child(["--child", "build", "--root", str(args.root), "--size", str(size)],
                          env)
        if srv is not None:
            mem = srv.memory_mib()
            build.update(server_rss_mib=mem["rss"], server_peak_mib=mem["peak"],
                         disk_mib=du_mib(srv.path) + du_mib(args.root / f"cache-{size}"),
                         snapshot_mib=du_mib(args.root / f"cache-{size}"))
        built.write_text(json.dumps(build), encoding="utf-8")
    build = json.loads(built.read_text(encoding="utf-8"))
    query = ["--child", "query", "--root", str(args.root), "--size", str(size),
             "--budget", str(args.budget)]
    if srv is None:
        runs = {
            "passive (default)": run_child(query, {"ASSISTANT_OMP_WAIT_POLICY": "passive"}),
            "active": run_child(query, {"ASSISTANT_OMP_WAIT_POLICY": "active"}),
        }
    else:
        runs = {"passive (default), server": run_child(query, env)}
    body = render(build, runs, [build.get("load", ""), load_avg()])
    if srv is not None:
        body = body.replace(" with a persisted search snapshot",
                            " on a `chroma run` server", 1)
        body += "\n\n" + server_lines(build, srv.memory_mib(), srv)
    return body


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        result = child_build(args.root, args.size, args.seed) if args.child == "build" \
            else child_query(args.root, args.size, args.budget)
        args.child_out.write_text(json.dumps(result), encoding="utf-8")
        return
    prepare(args.root, args.seed, args.queries)
    for size in args.sizes:
        if args.server:
            with chroma_server(args.root / f"server-{size}") as srv:
                body = run_size(args, size, srv)
        else:
            body = run_size(args, size, None)
        print(body)
        if not args.no_write:
            write_section(f"scale-{'server-' if args.server else ''}{size}", body)


if __name__ == "__main__":
    main()
