"""Scale with the search in Chroma (``search.backend=chroma``, issue 24), beside today's
snapshot path on the same collection.

The collection is ``bench.scale``'s synthetic one, built with the centred collection as
well (``ASSISTANT_SEARCH__BACKEND=chroma`` in the build process). Then, each in a fresh
process: the snapshot path (``bench.scale``'s query child: the baseline, same machine, same
run) and the Chroma path: start-up (``warm_up``: no snapshot, no cache: nothing to read
but the index's state) and first question, search p50/p95 with the query embedded inside
the call, retrieval with a precomputed vector, filters, RSS; last (after the RSS figures),
recall@10 of the Chroma path against today's default exact search (corpus means mixed in),
and against the exact search over the shipped means alone.

    python -m bench.scale_chroma --sizes 50000
    python -m bench.scale_chroma --server --sizes 20000
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from bench._measure import du_mib, load_avg, pct, timed
from bench._results import code_version, write_section
from bench._server import chroma_server
from bench.scale import peak_mib, prepare, rss_mib, run_child, settings_for

CHROMA = {"ASSISTANT_SEARCH__BACKEND": "chroma"}


def child_query(root: Path, size: int, budget_s: float) -> dict[str, Any]:
    t0 = time.perf_counter()

    from assistant.index.embedding import make_embedder
    from assistant.index.store import ChromaStore
    from assistant.search import make_searcher
    from assistant.search.filters import Filters
    from assistant.search.query import QueryBuilder
    from assistant.search.searcher import Searcher

    questions = [q for q, _ in json.loads((root / "queries.json").read_text(encoding="utf-8"))]
    qvecs = np.load(root / "queries.npy")
    # The figures comparable with earlier runs read everything anew each question (the
    # bench asks each question twice, and its questions are templated); the read cache is
    # measured apart, below.
    cached_settings = settings_for(root, size)
    settings = cached_settings.variant(search={"read_cache_mib": 0.0})
    assert settings.search.backend == "chroma"
    store = ChromaStore(settings)
    embedder = make_embedder(settings)
    embedder.embed_query_vector("warm-up")
    import_load_s = time.perf_counter() - t0
    searcher = make_searcher(settings, store, embedder)
    builder = QueryBuilder(embedder, settings.languages, settings.answer.max_question_chars, {})
    t = time.perf_counter()
    searcher.warm_up()
    startup_s = time.perf_counter() - t
    t = time.perf_counter()
    first_hits = searcher.search(builder.prepare(questions[0]), k=5)
    first_s = time.perf_counter() - t
    rss_first = rss_mib()


    n = len(questions)
    e2e = timed(lambda i: searcher.search(builder.prepare(questions[i]), k=5), n, budget_s)
    prepared = [builder.prepare(q, vector=v) for q, v in zip(questions, qvecs, strict=True)]
    retr = timed(lambda i: searcher.search(prepared[i], k=5), n, budget_s)
    filters = _filters()
    filtered = {}
    for label, f in filters.items():
        times = timed(lambda i, f=f: searcher.search(prepared[i], k=5, filters=f),
                      min(n, 50), budget_s)
        filtered[label] = {"p50": pct(times, 50), "p95": pct(times, 95), "n": len(times)}
    rss_end, peak = rss_mib(), peak_mib()
    cached = _read_cache(cached_settings, store, embedder, prepared, budget_s)
    # Recall (maps the snapshot: after the memory figures).
    recall: dict[str, float] = {}
    snapshot_settings = settings.variant(search={"backend": "snapshot"})
    # With the read cache, as deployed: a filter's rows are listed only while it keeps them.
    searcher = make_searcher(cached_settings, store, embedder)
    french = Filters(languages=("fr",))
    for label, prior, only in (("same means", 1e9, None), ("default exact", None, None),
                               ("language (fr)", None, french),
                               ("province (Lang Son)", None, filters["province (Lang Son)"]),
                               ("date (since 2025-01-01)", None,
                                filters["date (since 2025-01-01)"])):
        exact = Searcher(snapshot_settings if prior is None else snapshot_settings.variant(
            search={"centering_prior": prior}), store, embedder)
        found = wanted = 0
        for query in prepared[:100]:
            reference = [h.id for h in exact.search(query, 10, only)]
            got = {h.id for h in searcher.search(query, 10, only)}
            found += len(got.intersection(reference))
            wanted += len(reference)
        recall[label] = found / max(wanted, 1)
    return {"size": size, "import_load_s": import_load_s, "startup_s": startup_s,
            "first_s": first_s, "first_hits": len(first_hits),
            "e2e_p50": pct(e2e, 50), "e2e_p95": pct(e2e, 95), "e2e_n": len(e2e),
            "ret_p50": pct(retr, 50), "ret_p95": pct(retr, 95), "ret_n": len(retr),
            "filtered": filtered, "rss_first_mib": rss_first, "rss_end_mib": rss_end,
            "peak_rss_mib": peak, "recall": recall, "cached": cached, "load": load_avg(),
            "code": code_version()}


def _filters() -> dict[str, Any]:
    from datetime import date

    from assistant.access import User
    from assistant.search.filters import Filters

    return {"none": Filters(), "province (Lang Son)": Filters(provinces=("Lang Son",)),
            "language (fr)": Filters(languages=("fr",)),
            "date (since 2025-01-01)": Filters(since=date(2025, 1, 1)),
            "a signed-in staff reader": Filters(reader=User("staff", "staff",
                                                            frozenset({"a"})))}


def _read_cache(settings: Any, store: Any, embedder: Any, prepared: list[Any],
                budget_s: float) -> dict[str, Any]:
    """Retrieval with ``read_cache_mib`` as configured, from an empty cache, each question
    once in order, and the share of the ids each question needed that an earlier question
    had read."""
    from assistant.search import make_searcher

    searcher = make_searcher(settings, store, embedder)
    searcher.warm_up()
    asked = [0]
    call = store._call

    def count(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(fn, "__name__", "") == "get":
            asked[0] += len(kwargs.get("ids") or [])
        return call(fn, *args, **kwargs)
    store._call = count
    try:
        plain = make_searcher(settings.variant(search={"read_cache_mib": 0.0}), store, embedder)
        needed = [0]
        for query in prepared:  # what each question reads with nothing kept
            before = asked[0]
            plain.search(query, k=5)
            needed[0] += asked[0] - before
        asked[0] = 0
        t0 = rss_mib()
        times = timed(lambda i: searcher.search(prepared[i], k=5), len(prepared), budget_s)
        read_fraction = asked[0] / max(needed[0], 1) if len(times) == len(prepared) else None
    finally:
        store._call = call
    filtered = {}
    for label, only in _filters().items():  # each from an empty cache, each question once
        fresh = make_searcher(settings, store, embedder)
        fresh.warm_up()
        took = timed(lambda i, f=only, s=fresh: s.search(prepared[i], k=5, filters=f),
                     min(len(prepared), 50), budget_s)
        filtered[label] = {"first": took[0] if took else float("nan"),
                           "p50": pct(took, 50), "p95": pct(took, 95), "n": len(took)}
    return {"filtered": filtered, "p50": pct(times, 50), "p95": pct(times, 95), "n": len(times),
            "mib": settings.search.read_cache_mib, "rss_growth_mib": rss_mib() - t0,
            "read_fraction": read_fraction}


def render(size: int, build: dict[str, Any], snap: dict[str, Any], chroma: dict[str, Any],
           server: str) -> str:
    where = "on a `chroma run` server" if server else "embedded"
    lines = [
        f"## Scale, search in Chroma: {size:,} chunks, {where} (`bench/scale_chroma.py`)", "",
        "`python -m bench.scale_chroma`: `bench.scale`'s synthetic collection, built with the "
        "centred collection (`search.backend=chroma`). Each row a fresh process (model loaded "
        "first, not counted); the snapshot row is today's path on the same collection in the "
        "same run. Start-up = `warm_up` (snapshot mapped / for Chroma: the index's state "
        "checked, every collection's HNSW graph loaded, one row read of each collection a "
        "question reads); RSS after the first question / end / peak (MiB); the Chroma "
        "row's recall is measured after its memory figures.", "",
        f"Code: {chroma['code']}. Build: {build['docs']:,} documents, {build['build_s']:.0f} s "
        f"into Chroma with both collections, {build['disk_mib']:.0f} MiB on disk "
        f"(snapshot {build['snapshot_mib']:.0f} MiB, for the baseline row only).", "",
        "| path | start-up + first question s | search incl. embedding p50 / p95 ms (n) | "
        "retrieval p50 / p95 ms (n) | RSS MiB first / end / peak | load avg at end |",
        "|---|---:|---|---|---|---|",
    ]
    for label, q in (("snapshot (exact, today)", snap), ("chroma (HNSW)", chroma)):
        lines.append(
            f"| {label} | {q['startup_s']:.2f} + {q['first_s']:.2f} | {q['e2e_p50']:.1f} / "
            f"{q['e2e_p95']:.1f} ({q['e2e_n']}) | {q['ret_p50']:.1f} / {q['ret_p95']:.1f} "
            f"({q['ret_n']}) | {q['rss_first_mib']:.0f} / {q['rss_end_mib']:.0f} / "
            f"{q['peak_rss_mib']:.0f} | {q['load']} |")
    rec = chroma["recall"]
    lines += ["", f"Recall@10 of the Chroma path (100 questions): {rec['default exact']:.3f} "
              "against today's default exact search (the corpus's means mixed in, as the "
              "Chroma path re-centres its candidates); "
              f"{rec['same means']:.3f} against exact search with the shipped means alone"
              + "".join(f"; with the filter {k}, {rec[k]:.3f}" for k in
                        ("language (fr)", "province (Lang Son)", "date (since 2025-01-01)")
                        if k in rec)
              + " (against the default exact search so filtered).", "",
              "Filters (Chroma path, precomputed vector): " + "; ".join(
                  f"{k} p50 / p95 {v['p50']:.1f} / {v['p95']:.1f} ms"
                  for k, v in chroma["filtered"].items()) + "."]
    c = chroma.get("cached")
    if c:
        share = ("" if c["read_fraction"] is None else
                 f"; Chroma was asked for {c['read_fraction']:.0%} of the rows the same "
                 "questions read with nothing kept")
        lines += ["", f"With the read cache (`search.read_cache_mib` {c['mib']:g}, a fresh "
                  "searcher, each question once, in order; the rows above read everything "
                  f"anew): retrieval p50 / p95 {c['p50']:.1f} / {c['p95']:.1f} ms ({c['n']})"
                  f"{share}; RSS grew {c['rss_growth_mib']:.0f} MiB. The bench's questions "
                  "are templated, so they share more candidates than real ones may."]
        if c.get("filtered"):
            lines += ["", "Filters with the read cache (each from an empty cache, each question "
                      "once; the first question lists and reads the filter's rows): " + "; ".join(
                          f"{k} first {v['first']:.0f} ms, p50 / p95 {v['p50']:.1f} / "
                          f"{v['p95']:.1f} ms" for k, v in c["filtered"].items()) + "."]
    if server:
        lines += ["", server]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/scale-chroma"))
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",") if x],
                        default=[100_000])
    parser.add_argument("--budget", type=float, default=40.0)
    parser.add_argument("--server", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_out:
        result = child_query(args.root, args.size, args.budget)
        args.child_out.write_text(json.dumps(result), encoding="utf-8")
        return
    prepare(args.root, 7, 200)
    for size in args.sizes:
        tag = f"{size}{'-server' if args.server else ''}"
        root = args.root / tag  # its own store: built with the centred collection
        root.mkdir(parents=True, exist_ok=True)
        for name in ("pool.npy", "pool.json", "queries.npy", "queries.json", "corpus"):
            if not (root / name).exists():
                os.symlink(args.root / name, root / name)
        with chroma_server(root / "server") if args.server else nullcontext() as srv:
            env = {**CHROMA, **({} if srv is None else {
                "ASSISTANT_CHROMA_URL": srv.url, "ASSISTANT_INDEX_CACHE_DIR": str(root / "cache")})}
            common = ["--root", str(root), "--size", str(size), "--budget", str(args.budget)]
            built = root / "build.json"
            if not built.exists():
                build = run_child(["--child", "build", "--root", str(root), "--size", str(size)],
                                  env)
                if srv is not None:
                    build["disk_mib"] = du_mib(srv.path) + du_mib(root / "cache")
                    build["snapshot_mib"] = du_mib(root / "cache")
                built.write_text(json.dumps(build), encoding="utf-8")
            build = json.loads(built.read_text(encoding="utf-8"))
            snap = run_child(["--child", "query", *common],
                             {**env, "ASSISTANT_SEARCH__BACKEND": "snapshot"})
            chroma = _child(common, env)
            server = "" if srv is None else (
                f"Server (`chroma run`, same machine): {du_mib(srv.path):.0f} MiB on disk, "
                f"resident {srv.memory_mib()['rss']:.0f} MiB after the questions.")
        body = render(size, build, snap, chroma, server)
        print(body)
        if not args.no_write:
            write_section(f"scale-chroma-{tag}", body)


def _child(common: list[str], env: dict[str, str]) -> dict[str, Any]:
    import subprocess
    import sys

    from bench.scale import _ENV, PROJECT_ROOT

    out = Path(f"/tmp/scale-chroma-child-{os.getpid()}-{time.time_ns()}.json")
    subprocess.run([sys.executable, "-m", "bench.scale_chroma", *common, "--child-out", str(out)],
                   cwd=PROJECT_ROOT, check=True, env={**_ENV, **env})
    try:
        return dict(json.loads(out.read_text(encoding="utf-8")))
    finally:
        out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
