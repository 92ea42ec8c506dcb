"""Retrieval on the development sets through the search in Chroma (``search.backend=chroma``,
issue 24), beside today's exact search, on the same index and the same question vectors.

Each set is indexed as ``bench.devsets`` indexes it (the same cached folders); its centred
and per-language collections are then made whole (what an ``assistant ingest`` with
``ASSISTANT_SEARCH__BACKEND=chroma`` does). Per question, the default ranking
(``relation dense``) runs twice: exact over the snapshot, and HNSW in Chroma. Reported per
set: recall@10 of the Chroma path's chunks against the exact top 10, and each path's
file-level recall@1/5/10 and MRR@10 against the gold file (as ``bench.devsets`` scores them),
with the mean search time of each (precomputed vectors).

    python -m bench.devsets_chroma                  # every set of bench.devsets
    python -m bench.devsets_chroma --sets bundled --limit 50 --no-write
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from assistant.config import Settings
from assistant.index.embedding import LocalEmbeddings, make_embedder
from assistant.search.chroma_index import attach
from assistant.search.chroma_searcher import ChromaSearcher
from assistant.search.query import QueryBuilder
from assistant.search.searcher import Searcher

from ._devset_index import ALL_SETS, KNOWN_SETS, corpus, open_index
from ._results import code_version, write_section
from .devsets import (
    CONFIGS,
    DEFAULT_MODE,
    _configured,
    _KnownVectors,
    _query_vectors,
    distinct_sources,
    mrr,
    rank_of,
    recall,
)

CUTOFFS = (1, 5, 10)


def run_set(name: str, embedder: LocalEmbeddings, limit: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"devsets-chroma-{name}-",
                                     ignore_cleanup_errors=True) as tmp:
        folder, rows = corpus(name, limit, Path(tmp))
        settings, store, report, _ = open_index(name, folder, embedder)
        fusion, cross, weight = CONFIGS[DEFAULT_MODE]
        settings = _configured(settings, cross, weight)
        attach(store, embedder.model_id)
        started = time.perf_counter()
        if store.mirror_stale():  # made whole, as the next ingest with the setting does
            store.begin_write()
            store.end_write()
        mirror_s = time.perf_counter() - started
        exact = Searcher(settings, store, embedder, fusion=fusion)
        hnsw = ChromaSearcher(settings.variant(search={"backend": "chroma"}), store,
                              embedder, fusion=fusion)
        exact.snapshot()  # built once, outside the timings
        hnsw.warm_up()
        cached = _KnownVectors(embedder)
        cached.add(rows, _query_vectors(name, embedder, rows))
        builder = QueryBuilder(cached, settings.languages, 10**6, {})  # type: ignore[arg-type]
        ranks: dict[str, list[int | None]] = {"exact": [], "chroma": []}
        ms: dict[str, list[float]] = {"exact": [], "chroma": []}
        found = wanted = 0
        for row in tqdm(rows, desc=f"Questions ({name})", unit="q"):
            query = builder.prepare(row.question)
            top: dict[str, list[str]] = {}
            for label, searcher in (("exact", exact), ("chroma", hnsw)):
                t0 = time.perf_counter()
                hits = searcher.search(query, k=100)
                ms[label].append((time.perf_counter() - t0) * 1000)
                ranks[label].append(rank_of(row.gold, distinct_sources(hits)))
                top[label] = [h.id for h in hits[:10]]
            found += len(set(top["chroma"]) & set(top["exact"]))
            wanted += len(top["exact"])
        return {"name": name, "files": len(store.documents()), "questions": len(rows),
                "failed": len(report.failed), "mirror_s": mirror_s,
                "recall10": found / max(wanted, 1),
                "paths": {label: {**{f"R@{c}": recall(r, c) for c in CUTOFFS},
                                  "MRR@10": mrr(r), "ms": statistics.fmean(ms[label])}
                          for label, r in ranks.items()}}


def render(results: list[dict[str, Any]], limit: int | None) -> str:
    lines = [
        "## Retrieval on the development sets through the search in Chroma "
        "(`bench/devsets_chroma.py`)", "",
        "`python -m bench.devsets_chroma`: each set indexed as `bench.devsets` indexes it, its "
        "centred and per-language collections made whole; the default ranking (`relation "
        "dense`) exact over the snapshot and by HNSW in Chroma, on the same index and question "
        "vectors. Recall@10 = the share of the exact top 10 chunks that the Chroma path "
        "returns; R@k and MRR@10 are file-level against the gold file, as in `bench.devsets`. "
        f"Code: {code_version()}."
        + ("" if limit is None else f" First {limit} questions per set."), "",
        "| set | files | questions | recall@10 vs exact | R@1 exact / Chroma | "
        "R@5 exact / Chroma | R@10 exact / Chroma | MRR@10 exact / Chroma | "
        "ms per search exact / Chroma |",
        "|---|---:|---:|---:|---|---|---|---|---|"]
    for r in results:
        e, c = r["paths"]["exact"], r["paths"]["chroma"]
        lines.append(
            f"| {r['name']} | {r['files']} | {r['questions']} | {r['recall10']:.3f} | "
            + " | ".join(f"{e[m]:.3f} / {c[m]:.3f}" for m in ("R@1", "R@5", "R@10", "MRR@10"))
            + f" | {e['ms']:.1f} / {c['ms']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sets", default=",".join(ALL_SETS),
                        help=f"comma-separated, of: {', '.join(KNOWN_SETS)}")
    parser.add_argument("--limit", type=int, default=None, help="first N questions per set")
    parser.add_argument("--no-write", action="store_true",
                        help="print only; leave bench/results.md as it is")
    args = parser.parse_args(argv)
    names = [s for s in args.sets.split(",") if s]
    unknown = sorted(set(names) - set(KNOWN_SETS))
    if unknown:
        parser.error(f"unknown set(s): {', '.join(unknown)}")
    embedder = make_embedder(Settings())
    results = [run_set(name, embedder, args.limit) for name in names]
    body = render(results, args.limit)
    print(body)
    if not args.no_write:
        write_section("devsets-chroma", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
