"""Corpora for ``bench.devsets``: the devsets' halves, the one-language folders, the bundled
corpus, each indexed on its own (so statistics computed at ingest come from it alone).

A set name is ``xquad``, ``ntrex`` (whole folder), ``xquad:tune`` / ``xquad:heldout`` (the
halves of ``bench._splits``: only that half's documents are indexed, and only questions
whose gold document is in it are asked), ``bundled``, ``xquad-en`` or ``ntrex-fr``.
Folders are symbolic links in a temporary folder: the devsets' text stays where it is.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.config import PROJECT_ROOT, Settings
from assistant.index.embedding import LocalEmbeddings
from assistant.index.indexing import Indexer, IngestReport
from assistant.index.store import ChromaStore

from ._splits import HALVES, half_of

DEVSETS = PROJECT_ROOT.parent / "shared" / "devsets"
CACHE = Path(__file__).resolve().parent / ".cache"
SETS = {"xquad": "xquad_mixed_dev", "ntrex": "ntrex_mixed_dev"}
# One-language corpora: (devset, language): nothing may get worse there.
MONO_SETS = {"xquad-en": ("xquad", "en"), "ntrex-fr": ("ntrex", "fr")}
HALF_SETS = tuple(f"{name}:{half}" for name in SETS for half in HALVES)
ALL_SETS = (*HALF_SETS, "bundled", *MONO_SETS)
KNOWN_SETS = (*ALL_SETS, *SETS)


@dataclass
class Row:
    id: str
    question: str
    qlang: str
    dlang: str
    gold: str
    split: str


def load_rows(path: Path, limit: int | None = None) -> list[Row]:
    rows: list[Row] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            raw = json.loads(line)
            rows.append(Row(raw["id"], raw["question"], raw["question_lang"], raw["doc_lang"],
                            raw["gold_doc"], raw["split"]))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def bundled_rows() -> list[Row]:
    """Single-report, answerable questions of eval/cases.jsonl (as tests/test_retrieval.py)."""
    meta = yaml.safe_load((PROJECT_ROOT / "corpus" / "metadata.yaml").read_text("utf-8"))
    rows: list[Row] = []
    for line in (PROJECT_ROOT / "eval" / "cases.jsonl").read_text("utf-8").splitlines():
        case = json.loads(line) if line.strip() else None
        if not case or case["unanswerable"] or len(case["gold_docs"]) != 1:
            continue
        gold = case["gold_docs"][0]
        dlang = meta[gold]["language"]
        rows.append(Row(case["id"], case["question"], case["question_lang"], dlang, gold,
                        "mono" if dlang == case["question_lang"] else "cross"))
    return rows


def base_set(name: str) -> str:
    """The devset a set name draws on (``xquad:tune`` -> ``xquad``); the name otherwise."""
    if name in MONO_SETS:
        return MONO_SETS[name][0]
    return name.split(":", 1)[0]


def corpus(name: str, limit: int | None, tmp: Path) -> tuple[Path, list[Row]]:
    """The folder to index and the questions for one set name."""
    if name == "bundled":
        return PROJECT_ROOT / "corpus", bundled_rows()[:limit]
    if name in SETS:
        return DEVSETS / SETS[name], load_rows(DEVSETS / f"{SETS[name]}.jsonl", limit)
    source = DEVSETS / SETS[base_set(name)]
    rows = load_rows(DEVSETS / f"{SETS[base_set(name)]}.jsonl")
    if name in MONO_SETS:
        lang = MONO_SETS[name][1]
        keep = [f.name for f in source.glob(f"*-{lang}-*.txt")]
        rows = [r for r in rows if r.qlang == lang and r.dlang == lang]
    else:
        half = name.split(":", 1)[1]
        keep = [f.name for f in source.glob("*.txt") if half_of(f.name) == half]
        rows = [r for r in rows if half_of(r.gold) == half]
    folder = tmp / name.replace(":", "-")
    folder.mkdir()
    for file_name in sorted(keep):
        (folder / file_name).symlink_to(source / file_name)
    return folder, rows[:limit]


def open_index(name: str, folder: Path, embedder: LocalEmbeddings,
               base: Settings | None = None, **overrides: Any
               ) -> tuple[Settings, ChromaStore, IngestReport, float]:
    """Index ``folder`` into the set's cached Chroma folder (incremental: a warm cache costs a
    hash per file); the settings searched with, the store, the ingest report and its time."""
    base = (base or Settings()).variant(corpus_dir=folder, **overrides)
    # The cached index is keyed by what decides its chunks and vectors.
    key = hashlib.sha256(f"{embedder.model_id}|{base.ingest.chunk_tokens}|"
                         f"{base.ingest.chunk_overlap_tokens}".encode()).hexdigest()[:12]
    settings = base.variant(index_dir=CACHE / name.replace(":", "-") / f"index-{key}",
                            collection="bench")
    store = ChromaStore(settings)
    print(f"[{name}] indexing {folder} into {settings.index_dir}", file=sys.stderr)
    started = time.perf_counter()
    report = Indexer(settings, store, embedder).ingest([folder], progress=True)
    ingest_s = time.perf_counter() - started
    print(f"[{name}] {report.summary()}", file=sys.stderr)
    for source, reason in report.failed:
        print(f"[{name}] FAILED {source}: {reason}", file=sys.stderr)
    return settings, store, report, ingest_s
