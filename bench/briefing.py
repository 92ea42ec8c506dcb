"""Briefing time on the bundled corpus and how it grows with the number of documents.

Sizes: the bundled corpus (5 reports) and synthetic corpora of 50 and 500 documents made
from it: copies of the reports, each assigned another province (metadata) and date, with
every figure perturbed, so that no two documents share text. Each corpus is indexed with
the real embedder into a cache folder (``$TMPDIR/assistant-bench-briefing``) that later runs
reuse (ingestion is incremental: unchanged files are skipped), and indexing time is reported
apart from briefing time. Briefs are timed warm (model loaded), on three requests: a topic
brief, a province brief and a narrow topic; each is run ``--repeat`` times, median reported.

    python -m bench.briefing                 # 5, 50 and 500 documents
    python -m bench.briefing --sizes 5,50
    python -m bench.briefing --fresh         # re-index the synthetic corpora too
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from assistant.briefing.figures import analyse
from assistant.briefing.types import BriefRequest
from assistant.config import PROJECT_ROOT, Settings
from assistant.index.embedding import LocalEmbeddings
from assistant.service import Assistant

from ._results import write_section

CORPUS = PROJECT_ROOT / "corpus"
CACHE = Path(tempfile.gettempdir()) / "assistant-bench-briefing"
REQUESTS = [
    ("topic: digital transformation", BriefRequest("digital transformation")),
    ("province: Lang Son", BriefRequest("", province="Lang Son")),
    ("narrow topic: vaccination (fr)", BriefRequest("vaccination des enfants", language="fr")),
]


def _provinces() -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "assistant/data/provinces.yaml").read_text("utf-8"))
    return [name for name in data if not name.startswith("_")]


def _perturb(digits: str, rng: random.Random) -> str:
    first = rng.choice("123456789") if digits[0] != "0" else "0"
    return first + "".join(rng.choice("0123456789") for _ in digits[1:])


def make_corpus(n: int, fresh: bool = False) -> Path:
    """The bundled corpus (n == 5) or n perturbed copies of its reports."""
    if n <= 5:
        return CORPUS
    target = CACHE / f"corpus-{n}"
    if not fresh and (target / "metadata.yaml").exists() and len(list(target.glob("*.txt"))) == n:
        return target  # already made: its index is reused too
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    meta = yaml.safe_load((CORPUS / "metadata.yaml").read_text("utf-8"))
    originals = sorted(CORPUS.glob("*.txt"))
    provinces = _provinces()
    rng = random.Random(n)
    out_meta = {}
    for i in range(n):
        original = originals[i % len(originals)]
        text = original.read_text("utf-8")
        # Perturb every figure, keeping its length (so chunk boundaries rarely move), so
        # that no two copies share text.
        text = re.sub(r"\d+", lambda m: _perturb(m.group(), rng), text)
        name = f"{i:04d}_{original.stem}.txt"
        (target / name).write_text(text, "utf-8")
        entry = dict(meta[original.name])
        entry["provinces"] = [provinces[i % len(provinces)]]
        entry["date"] = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
        entry["title"] = f"{entry['title']} (copy {i})"
        out_meta[name] = entry
    (target / "metadata.yaml").write_text(yaml.safe_dump(out_meta, allow_unicode=True), "utf-8")
    return target


def _digitless(text: str) -> str:
    return re.sub(r"\d+", "#", text)


class CopiedVectors(LocalEmbeddings):
    """The real embedder, except that a chunk copied from the bundled corpus (same text up
    to its figures) gets the bundled chunk's real vector instead of a new embedding."""

    def __init__(self, real: LocalEmbeddings, known: dict[str, np.ndarray]) -> None:
        self.real = real
        self.known = known
        self.model_id = real.model_id
        self.batch_size = real.batch_size
        self.max_tokens = real.max_tokens
        self.copied = 0

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.real.dimension), dtype=np.float32)
        todo = []
        for i, text in enumerate(texts):
            vector = None if is_query else self.known.get(_digitless(text))
            if vector is None:
                todo.append(i)
            else:
                out[i] = vector
                self.copied += 1
        if todo:
            out[todo] = self.real._encode([texts[i] for i in todo], is_query)
        return out

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)


def _bundled_vectors(assistant: Assistant) -> dict[str, np.ndarray]:
    known: dict[str, np.ndarray] = {}
    ids = [cid for r in assistant.sources() for cid in r.chunk_ids]
    got = assistant.store.get_chunks(ids, None, embeddings=True)
    for text, vector in zip(got["documents"], got["embeddings"], strict=True):
        known[_digitless(text)] = np.asarray(vector, dtype=np.float32)
    return known


def run(sizes: list[int], repeat: int, fresh: bool = False) -> str:
    rows = []
    bundled = Assistant(Settings(index_dir=CACHE / "index-5", corpus_dir=CORPUS))
    bundled.ingest(progress=False)
    known = _bundled_vectors(bundled)
    for n in sizes:
        corpus = make_corpus(n, fresh)
        # The bundled corpus is indexed afresh each run: a real embedding time.
        index = Path(tempfile.mkdtemp(prefix="brief-index-")) if corpus == CORPUS \
            else CACHE / f"index-{n}"
        if fresh and corpus != CORPUS:
            shutil.rmtree(index, ignore_errors=True)
        settings = Settings(index_dir=index, corpus_dir=corpus)
        assistant = Assistant(settings)
        real = assistant.embedder
        copied = CopiedVectors(real, known) if corpus != CORPUS else None
        if copied is not None:
            assistant.__dict__["embedder"] = copied  # the cached_property, for ingestion
        started = time.perf_counter()
        report = assistant.ingest([corpus], progress=False)
        indexing = time.perf_counter() - started
        assistant.__dict__["embedder"] = real
        reused = f", {copied.copied} vectors copied" if copied else ""
        chunks = sum(len(r.chunk_ids) for r in assistant.sources())
        assistant.embedder.embed_query_vector("warm up")  # model load is not briefing time
        for label, request in REQUESTS:
            analyse.cache_clear()  # cold: every sentence analysed anew
            times, briefing = [], None
            for _ in range(1 + repeat):
                t0 = time.perf_counter()
                briefing = assistant.brief(request)
                times.append(time.perf_counter() - t0)
            assert briefing is not None
            done = report.summary().split(";")[0].rstrip(".")
            rows.append(f"| {n} | {chunks} | {indexing:.1f} ({done}{reused}) "
                        f"| {label} | {len(briefing.citations)} | {len(briefing.figures)} "
                        f"| {times[0] * 1000:.0f} | {statistics.median(times[1:]) * 1000:.0f} |")
            print(rows[-1], flush=True)
        if corpus == CORPUS:
            shutil.rmtree(index, ignore_errors=True)
    return "\n".join([
        "## Briefings (`python -m bench.briefing`)",
        "",
        "Briefing time by corpus size, embedding model loaded. 5 = the bundled corpus; 50 and "
        "500 are perturbed copies of its reports with other provinces and dates. Indexing time "
        "is the `ingest` call of this run: the bundled corpus is embedded afresh; "
        + ("the synthetic corpora were indexed from scratch (`--fresh`), each copied chunk "
           "taking the real vector of the bundled chunk it copies, the rest embedded. "
           if fresh else "a reused synthetic index only checks for changes. ")
        + "Cold: the first brief, every sentence "
        "analysed (figures, cues, anchors); warm: the same brief again, sentence analyses "
        "cached in the process (as in a running web app).",
        "",
        "| documents | chunks | indexing s (this run) | request | sources cited | figures "
        f"| cold ms | warm median ms (n={repeat}) |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Load average when the run ended: {os.getloadavg()[0]:.1f} (the machine is shared: "
        "other jobs' load lengthens these times).",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,50,500")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fresh", action="store_true",
                        help="Index the synthetic corpora from scratch (slow) instead of reusing.")
    args = parser.parse_args()
    body = run([int(s) for s in args.sizes.split(",")], args.repeat, args.fresh)
    write_section("briefing", body)
    print(body)


if __name__ == "__main__":
    main()
