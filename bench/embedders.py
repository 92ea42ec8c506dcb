"""Embedder profiles side by side: dense retrieval on both devsets, per half and per pair.

Each devset's files are chunked exactly as ingest chunks them (the embedder's own tokens,
``Settings.ingest.chunk_tokens``), embedded once per profile (vectors cached in
``bench/.cache/embedders/``, gitignored) and split by document into the tuning and the
held-apart half (``bench/_splits.py``); each half is searched on its own. A question
ranks the files of its half by their best chunk's cosine; recall@1/@5 against the gold
file, same-language (mono) and cross-lingual (cross), raw and language-centred (the
product's ``Centering``: the profile's shipped means combined with the half's own chunk
means), for the full vectors and for Matryoshka truncations. The question's language is
detected as the service detects it. Speed: passages and questions embedded per second,
measured live beside the recall figures.

    python -m bench.embedders --embedder e5,embeddinggemma \
        --model embeddinggemma=/models/embeddinggemma-300m
    python -m bench.embedders --embedder e5 --sets xquad --no-write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import FLAT_NAMES, PROJECT_ROOT, Settings
from assistant.config_groups import SearchSettings
from assistant.index.embedding import LocalEmbeddings, make_embedder
from assistant.ingest.chunking import Chunker
from assistant.ingest.loading import load
from assistant.search.centering import Centering, _unit
from assistant.search.language_stats import LanguageMeans, PairLevels
from assistant.text.languages import detect

from ._results import code_version, write_section
from ._splits import HALVES, half_of

DEVSETS = Path(__file__).resolve().parent.parent.parent / "shared" / "devsets"
CACHE = Path(__file__).resolve().parent / ".cache" / "embedders"
SETS = {"xquad": "xquad_mixed_dev", "ntrex": "ntrex_mixed_dev"}
SECTION = "embedders"
MODES = ("raw", "centred", "relation", "corpus means", "centred ×0.5")


@dataclass
class Embedded:
    """One devset embedded by one profile (full-size vectors)."""

    profile: str
    model_id: str
    chunk_source: list[str]
    chunk_lang: list[str]
    chunks: np.ndarray
    questions: list[dict[str, Any]]
    qvec: np.ndarray
    qlang: list[str]
    chunk_tokens: list[int] = field(default_factory=list)
    passage_s: float = 0.0  # embedding time of the uncached chunks (0: from the cache)
    query_s: float = 0.0


def _settings(profile: str, model: str | None) -> Settings:
    values: dict[str, Any] = {"embedder": profile}
    if model:
        values["embedder_model"] = model
    return Settings(**values)


def _cached(path: Path, compute: Any) -> tuple[np.ndarray, float]:
    if path.is_file():
        return np.load(path), 0.0
    started = time.perf_counter()
    array = compute()
    seconds = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, array)
    return array, seconds


def embed_set(name: str, embedder: LocalEmbeddings, settings: Settings,
              stride: int = 1) -> Embedded:
    folder = DEVSETS / SETS[name]
    questions = [json.loads(line) for line in
                 (DEVSETS / f"{SETS[name]}.jsonl").read_text("utf-8").splitlines() if line]
    questions = questions[::stride]
    chunker = Chunker(embedder, settings.languages, settings.ingest.chunk_tokens,
                      settings.ingest.chunk_overlap_tokens)
    sources, langs, texts, tokens = [], [], [], []
    for path in sorted(folder.glob("*.txt")):
        for chunk in chunker.chunks(load(path, path.name, settings.languages)):
            sources.append(path.name)
            langs.append(chunk.language)
            texts.append(chunk.text)
            tokens.append(embedder.count_tokens(chunk.text))
    slug = embedder.model_id.replace("/", "_")
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    print(f"[{name}/{embedder.profile}] {len(texts)} chunks, {len(questions)} questions",
          file=sys.stderr, flush=True)
    chunks, passage_s = _cached(CACHE / f"{name}-{slug}-chunks-{key}.npy",
                                lambda: embedder.embed_passages(texts, progress=True))
    qkey = hashlib.sha256("\n".join(q["question"] for q in questions).encode()).hexdigest()[:12]

    def queries() -> np.ndarray:
        # In batches (as fast as a model gets; the service embeds one question at a time,
        # which the speed probe times): the vectors are the same.
        out = []
        for start in range(0, len(questions), 32):
            batch = [q["question"] for q in questions[start : start + 32]]
            out.append(embedder._encode(batch, is_query=True))
            if start % 320 == 0:
                print(f"[{name}/{embedder.profile}] question {start}", file=sys.stderr,
                      flush=True)
        return np.concatenate(out)

    qvec, query_s = _cached(CACHE / f"{name}-{slug}-queries-{qkey}.npy", queries)
    qlang = [detect(q["question"], settings.languages) for q in questions]
    return Embedded(embedder.profile, embedder.model_id, sources, langs, chunks, questions,
                    qvec, qlang, tokens, passage_s, query_s)


def _truncate(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    return vectors if dim is None else _unit(vectors[:, :dim])


def ranks(data: Embedded, half: str, dim: int | None, mode: str,
          prior: float) -> list[tuple[dict[str, Any], int | None]]:
    """(question, rank of its gold file) for the questions whose gold file is in ``half``."""
    rows = np.array([half_of(s) == half for s in data.chunk_source])
    sources = [s for s, keep in zip(data.chunk_source, rows, strict=True) if keep]
    langs = [lang for lang, keep in zip(data.chunk_lang, rows, strict=True) if keep]
    chunks = _truncate(data.chunks[rows], dim)
    picked = [i for i, q in enumerate(data.questions) if half_of(q["gold_doc"]) == half]
    queries = _truncate(data.qvec[picked], dim)
    raw_chunks, raw_queries = chunks, queries
    model_id = data.model_id if dim is None else f"{data.model_id.split('@')[0]}@{dim}"
    if mode != "raw":
        shipped = LanguageMeans() if mode == "corpus means" else LanguageMeans.shipped(model_id)
        sums: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(chunks.shape[1], np.float32))
        counts: dict[str, int] = defaultdict(int)
        for vector, lang in zip(chunks, langs, strict=True):
            if lang != "und":
                sums[lang] += vector
                counts[lang] += 1
        means = shipped.combined(sums, counts, prior)
        if mode.startswith("centred ×"):  # partial: v - a * mean (measured, not in the product)
            scale = float(mode.split("×")[1])
            means = LanguageMeans({k: scale * v for k, v in means.passage.items()},
                                  {k: scale * v for k, v in means.query.items()}, means.weight)
        centering = Centering(means)
        chunks = centering.passages(chunks, langs)
        queries = np.stack([centering.query(v, data.qlang[i])
                            for v, i in zip(queries, picked, strict=True)])
    files = sorted(set(sources))
    column = np.array([files.index(s) for s in sources])
    sims = queries @ chunks.T
    if mode == "relation":
        sims = _relation(sims, raw_queries @ raw_chunks.T, [data.qlang[i] for i in picked],
                         langs, PairLevels.shipped(model_id), prior,
                         SearchSettings.model_fields["relation_raw_weight"].default)
    best = np.full((len(picked), len(files)), -np.inf, dtype=np.float32)
    for f in range(len(files)):
        best[:, f] = sims[:, column == f].max(axis=1)
    order = np.argsort(-best, axis=1)
    out = []
    for row, i in enumerate(picked):
        q = data.questions[i]
        ranked = [files[j] for j in order[row]]
        out.append((q, ranked.index(q["gold_doc"]) + 1 if q["gold_doc"] in ranked else None))
    return out


def _relation(centred: np.ndarray, raw: np.ndarray, qlangs: list[str], langs: list[str],
              levels: PairLevels, prior: float, raw_weight: float) -> np.ndarray:
    """The product's ``crosslingual="relation"`` scores (``CenteredIndex.relation_scores``)
    for a matrix of questions: centred cosine plus the raw weight x (raw cosine - the
    pair's unrelated level), then the question's own language in plain dense order."""
    codes = np.array(langs)
    out = np.empty_like(centred)
    for i, qlang in enumerate(qlangs):
        level = np.zeros(len(langs), np.float32)
        for lang in set(langs):
            rows = codes == lang
            own, n = float(raw[i, rows].mean()), int(rows.sum())
            shipped = levels.unrelated.get((qlang, lang))
            level[rows] = own if shipped is None else \
                (prior * shipped + n * own) / (prior + n)
        row = centred[i] + raw_weight * (raw[i] - level)
        mine = np.flatnonzero(codes == qlang)
        if len(mine):
            row[mine[np.argsort(-raw[i, mine], kind="stable")]] = np.sort(row[mine])[::-1]
        out[i] = row
    return out


def recall(found: Sequence[int | None], k: int) -> float:
    return sum(1 for r in found if r is not None and r <= k) / len(found) if found else 0.0


def scores(found: list[tuple[dict[str, Any], int | None]]) -> dict[str, Any]:
    mono = [r for q, r in found if q["question_lang"] == q["doc_lang"]]
    cross = [r for q, r in found if q["question_lang"] != q["doc_lang"]]
    pairs: dict[str, list[int | None]] = defaultdict(list)
    for q, r in found:
        if q["question_lang"] != q["doc_lang"]:
            pairs[f"{q['question_lang']}→{q['doc_lang']}"].append(r)
    per_pair = {p: recall(v, 1) for p, v in sorted(pairs.items())}
    worst = min(per_pair.items(), key=lambda kv: kv[1]) if per_pair else ("-", 0.0)
    return {"n_mono": len(mono), "n_cross": len(cross),
            "mono": (recall(mono, 1), recall(mono, 5)), "cross": (recall(cross, 1),
                                                                  recall(cross, 5)),
            "pairs": per_pair, "worst": worst}


def speed(embedder: LocalEmbeddings, texts: list[str], questions: list[str],
          batch_sizes: Sequence[int]) -> dict[str, Any]:
    """Live timings: passages per second per batch size, single-question latency."""
    out: dict[str, Any] = {}
    embedder.embed_passages(texts[:2])  # load and warm
    for size in batch_sizes:
        embedder.batch_size = size
        started = time.perf_counter()
        embedder.embed_passages(texts)
        out[f"passages/s (batch {size})"] = len(texts) / (time.perf_counter() - started)
    times = []
    for q in questions:
        started = time.perf_counter()
        embedder.embed_query_vector(q)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    out["query p50 ms"] = statistics.median(times)
    out["query p95 ms"] = times[min(len(times) - 1, int(0.95 * len(times)))]
    return out


def _load() -> str:
    try:
        return f"load average {os.getloadavg()[0]:.1f}"
    except OSError:
        return "load unknown"


def markdown(table: list[dict[str, Any]], speeds: dict[str, dict[str, Any]],
             costs: dict[str, str]) -> str:
    lines = ["## Embedder profiles side by side (`python -m bench.embedders`)", "",
             "Dense retrieval only (no BM25, no fusion): each devset half indexed on its own; "
             "files ranked by their best chunk's cosine; R@1 / R@5 against the gold file. "
             "*centred*: shipped + the half's own per-language means (the product's "
             "`Centering`); *relation*: the product's default scoring (issue 14: centred "
             "plus 0.2 x the raw cosine above the pair's unrelated level, the question's own "
             "language in dense order); "
             "*corpus means*: the half's own means only (what a profile without "
             "shipped means gets); *centred ×0.5*: half the mean subtracted (measured here only, "
             "not an option of the product). Question language detected as the service "
             "does.", "",
             "| set | half | profile | dims | vectors | mono R@1 / R@5 | cross R@1 / R@5 "
             "| worst pair (R@1) |",
             "|---|---|---|---|---|---|---|---|"]
    for row in table:
        s = row["scores"]
        lines.append(
            f"| {row['set']} | {row['half']} | {row['profile']} | {row['dims']} | "
            f"{row['mode']} | {s['mono'][0]:.3f} / {s['mono'][1]:.3f} (n={s['n_mono']}) | "
            f"{s['cross'][0]:.3f} / {s['cross'][1]:.3f} (n={s['n_cross']}) | "
            f"{s['worst'][0]} {s['worst'][1]:.3f} |")
    lines += ["", "Per pair, cross-lingual R@1 (held-apart half, centred, full size):", ""]
    for row in table:
        if row["half"] == "heldout" and row["mode"] == "centred" and row["full"]:
            pairs = ", ".join(f"{p} {v:.2f}" for p, v in row["scores"]["pairs"].items())
            lines.append(f"- {row['set']}, {row['profile']}: {pairs}")
    lines += ["", "Cost (fp32, torch on this machine's CPUs; timings are live, the load "
              "average shows how busy the machine was):", ""]
    for profile, text in costs.items():
        lines.append(f"- {profile}: {text}")
    for profile, figures in speeds.items():
        lines.append(f"- {profile}, speed probe: " + ", ".join(
            f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in figures.items()))
    lines += ["", f"Code: {code_version()}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="e5,embeddinggemma",
                        help="Profiles, comma-separated (data/embedders.yaml).")
    parser.add_argument("--model", action="append", default=[], metavar="PROFILE=FOLDER",
                        help="Local model folder of a profile (ASSISTANT_EMBEDDER_MODEL).")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--dims", default="embeddinggemma=512",
                        help="Matryoshka sizes also scored, e.g. embeddinggemma=512,256.")
    parser.add_argument("--speed", type=int, default=24,
                        help="Passages (and questions) in the live speed probe; 0: none.")
    parser.add_argument("--batch-sizes", default="8,32")
    parser.add_argument("--stride", type=int, default=1,
                        help="Every n-th question only (a slow embedder on a busy machine).")
    parser.add_argument("--no-write", action="store_true", help="Do not touch results.md.")
    parser.add_argument("--out-json", type=Path)
    parser.add_argument("--calibrate", action="store_true",
                        help="Only print the profiles' thresholds mapped from the first one's "
                        "(bundled eval cases, tune split).")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="Only write results.md from earlier --out-json runs (one per "
                        "profile, run one at a time on a busy machine).")
    args = parser.parse_args(argv)
    if args.merge:
        runs = [json.loads(path.read_text(encoding="utf-8")) for path in args.merge]
        rows = {(r["set"], r["half"], r["profile"], r["dims"], r["mode"]): r
                for run in runs for r in run["table"]}  # a later run's row wins
        write_section(SECTION, markdown(list(rows.values()),
                                        {k: v for run in runs for k, v in run["speeds"].items()},
                                        {k: v for run in runs for k, v in run["costs"].items()}))
        return 0
    folders = dict(item.split("=", 1) for item in args.model)
    if args.calibrate:
        names = args.embedder.split(",")
        scores_of = {n: evidence_scores(n, folders.get(n)) for n in names}
        base = Settings(embedder=names[0])
        for name in names:
            moved = calibrate(scores_of[names[0]], scores_of[name],
                              {t: float(getattr(getattr(base, group), field))
                               for t in THRESHOLDS for group, field in [FLAT_NAMES[t].split(".")]})
            # As embedders.yaml writes a profile's thresholds: per settings group.
            nested: dict[str, dict[str, float]] = defaultdict(dict)
            for flat, value in moved.items():
                group, field = FLAT_NAMES[flat].split(".")
                nested[group][field] = value
            print(name, len(scores_of[name]), "cases:", json.dumps(nested), flush=True)
        return 0
    extra_dims: dict[str, list[int]] = defaultdict(list)
    for item in filter(None, args.dims.split(",")):
        if "=" in item:
            name, dim = item.split("=", 1)
            extra_dims[name].append(int(dim))
        else:
            extra_dims[next(iter(extra_dims), "embeddinggemma")].append(int(item))
    table: list[dict[str, Any]] = []
    speeds: dict[str, dict[str, Any]] = {}
    costs: dict[str, str] = {}
    for profile in args.embedder.split(","):
        settings = _settings(profile, folders.get(profile))
        embedder = make_embedder(settings)
        cost = []
        sample_texts: list[str] = []
        sample_questions: list[str] = []
        for name in args.sets.split(","):
            data = embed_set(name, embedder, settings, args.stride)
            if data.passage_s:
                cost.append(f"{name}: {len(data.chunk_source)} chunks "
                            f"(mean {statistics.mean(data.chunk_tokens):.0f} tokens) in "
                            f"{data.passage_s:.0f} s")
            if data.query_s:
                cost.append(f"{len(data.questions)} questions in {data.query_s:.0f} s "
                            f"({1000 * data.query_s / len(data.questions):.0f} ms each)")
            sample_texts += [t for t in _texts(name, embedder, settings)][: args.speed]
            sample_questions += [q["question"] for q in data.questions[:: 37]][: args.speed]
            for half in HALVES:
                for dim in [None, *extra_dims.get(profile, [])]:
                    for mode in MODES:
                        found = ranks(data, half, dim, mode, settings.search.centering_prior)
                        table.append({"set": name, "half": half, "profile": profile,
                                      "dims": dim or data.chunks.shape[1], "full": dim is None,
                                      "mode": mode, "scores": scores(found)})
                        s = table[-1]["scores"]
                        print(f"{name:6} {half:8} {profile:15} {dim or 'full':>5} {mode:13}"
                              f" mono {s['mono'][0]:.3f}/{s['mono'][1]:.3f}"
                              f" cross {s['cross'][0]:.3f}/{s['cross'][1]:.3f}"
                              f" worst {s['worst'][0]} {s['worst'][1]:.3f}", flush=True)
        if cost:
            costs[profile] = "; ".join(cost) + f" ({_load()})"
        if args.speed:
            texts = sorted(sample_texts, key=len)[len(sample_texts) // 4:][: args.speed]
            speeds[profile] = speed(embedder, texts, sample_questions[: args.speed],
                                    [int(b) for b in args.batch_sizes.split(",")])
            speeds[profile]["probe tokens/passage"] = statistics.mean(
                embedder.count_tokens(t) for t in texts)
            speeds[profile]["during"] = _load()
            print(profile, speeds[profile], flush=True)
        del embedder
    if args.out_json:
        args.out_json.write_text(json.dumps({"table": table, "speeds": speeds, "costs": costs},
                                            indent=1, ensure_ascii=False), encoding="utf-8")
    if not args.no_write:
        write_section(SECTION, markdown(table, speeds, costs))
    return 0


# -- thresholds: e5-small's, carried to another profile's similarity scale ----------------------

THRESHOLDS = ("min_evidence", "supported_relief", "brief_min_relevance",
              "brief_relevance_margin")


def evidence_scores(profile: str, model: str | None, split: str = "tune") -> list[float]:
    """Best-sentence score (``Answer.evidence``) of every bundled eval case of ``split`` that
    the answerability rules leave to the threshold, with no threshold (min_evidence 0)."""
    import tempfile

    from assistant.eval.runner import load_cases
    from assistant.service import Assistant

    cached = CACHE / f"evidence-{profile}-{split}.json"
    if cached.is_file():
        return [float(x) for x in json.loads(cached.read_text())]
    cases = [c for c in load_cases(PROJECT_ROOT / "eval" / "cases.jsonl")
             if (c.model_extra or {}).get("split", "tune") == split]
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        values: dict[str, Any] = {"embedder": profile, "index_dir": Path(tmp) / "index",
                                  "corpus_dir": PROJECT_ROOT / "corpus", "min_evidence": 0.0,
                                  "supported_relief": 0.0}
        if model:
            values["embedder_model"] = model
        assistant = Assistant(Settings(**values))
        assistant.ingest()
        out = []
        for case in cases:
            answer = assistant.ask(case.question)
            if answer.evidence > 0:
                out.append(float(answer.evidence))
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(out))
    return out


def calibrate(reference: list[float], target: list[float],
              thresholds: dict[str, float]) -> dict[str, float]:
    """The reference profile's thresholds mapped onto the target's scale by quantiles: a
    threshold keeps the same share of the tuning cases' evidence scores below it."""
    ref, tgt = np.sort(reference), np.sort(target)

    def move(t: float) -> float:
        return float(np.quantile(tgt, float(np.mean(ref < t))))

    lo = thresholds["min_evidence"]
    brief = thresholds["brief_min_relevance"]
    return {"min_evidence": round(move(lo), 3),
            "supported_relief": round(move(lo) - move(lo - thresholds["supported_relief"]), 3),
            "brief_min_relevance": round(move(brief), 3),
            "brief_relevance_margin": round(
                move(brief) - move(brief - thresholds["brief_relevance_margin"]), 3)}


def _texts(name: str, embedder: LocalEmbeddings, settings: Settings) -> list[str]:
    chunker = Chunker(embedder, settings.languages, settings.ingest.chunk_tokens,
                      settings.ingest.chunk_overlap_tokens)
    return [c.text for path in sorted((DEVSETS / SETS[name]).glob("*.txt"))[::7]
            for c in chunker.chunks(load(path, path.name, settings.languages))]


if __name__ == "__main__":
    sys.exit(main())
