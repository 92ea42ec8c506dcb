"""One ``Assistant`` shared by many threads answers exactly as it does one question at a time
(the web app answers several questions at once through a single instance)."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from assistant import Assistant
from assistant.answer.extractive import ExtractiveAnswerer

from .conftest import clean_env, load_cases

pytestmark = pytest.mark.slow  # about a minute of answering on 2 cores: not the inner loop


def _questions(per_language: int) -> list[str]:
    by_language: dict[str, list[str]] = {}
    for case in load_cases():
        by_language.setdefault(case["question_lang"], []).append(case["question"])
    assert sorted(by_language) == ["ar", "en", "fr", "uk", "vi"]
    return [q for qs in by_language.values() for q in qs[:per_language]]


def _outcome(assistant: Assistant, question: str) -> tuple[Any, ...]:
    answer = assistant.ask(question)
    return (answer.answer, answer.abstained, answer.language, answer.reason,
            [(c.n, c.source, c.sentences) for c in answer.citations],
            [h.id for h in answer.retrieved])


@pytest.mark.parametrize(("cache_size", "threads", "per_language"), [
    (20_000, 8, 8),  # the web app's case: 8 threads x 40 questions in five languages
    (64, 4, 2),      # every question evicts what another thread is about to read
], ids=["roomy-cache", "evicting-cache"])
def test_threads_answer_exactly_as_one_at_a_time(indexed: Assistant, cache_size: int,
                                                 threads: int, per_language: int) -> None:
    # A small sentence-vector cache evicts while other threads read it: the case in which a
    # cache that is cleared under a reader loses the vectors that reader counted on.
    backend = ExtractiveAnswerer(indexed.settings, indexed.embedder, cache_size=cache_size)
    shared = Assistant(indexed.settings, backend=backend, embedder=indexed.embedder,
                       store=indexed.store)
    questions = _questions(per_language)
    assert len(questions) == 5 * per_language
    sequential = {q: _outcome(shared, q) for q in questions}
    start = threading.Barrier(threads)

    def worker(seed: int) -> list[tuple[str, tuple[Any, ...]]]:
        order = questions[:]
        random.Random(seed).shuffle(order)  # each thread its own order: questions overlap
        start.wait()
        return [(q, _outcome(shared, q)) for q in order]

    # Switch threads as often as the interpreter can, so that a window between two steps
    # of shared state is hit rather than missed (the default is every 5 ms).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(threads) as pool:
            results = [r for batch in pool.map(worker, range(threads)) for r in batch]
    finally:
        sys.setswitchinterval(interval)
    assert len(results) == threads * len(questions)
    wrong = [q for q, outcome in results if outcome != sequential[q]]
    assert not wrong, f"{len(wrong)} of {len(results)} answers differ, e.g. {wrong[:3]}"


_BLAS_THREADS = """
from threadpoolctl import threadpool_info
from assistant.config import Settings
from assistant.index.embedding import make_embedder
from assistant.index.store import ChromaStore
from assistant.search.searcher import Searcher
settings = Settings()
Searcher(settings, ChromaStore(settings), make_embedder(settings))
print(sorted({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}))
"""


@pytest.mark.parametrize("threads", ["1", "2"])
def test_search_process_uses_the_configured_blas_threads(tmp_path: Any, threads: str) -> None:
    # A fresh process: the limit is process-wide (OpenBLAS starts with one per core).
    env = {**clean_env(tmp_path / "index"), "ASSISTANT_SEARCH__BLAS_THREADS": threads}
    run = subprocess.run([sys.executable, "-c", _BLAS_THREADS], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"[{threads}]"
