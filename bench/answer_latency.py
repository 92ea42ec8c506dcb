"""Extractive answer latency, warm (issue 21's target: p95 < 300 ms).

The bundled corpus is indexed in a temporary folder; every question of
``eval/cases.jsonl`` and ``eval/heldapart_unanswerable.jsonl`` is asked once to warm the
models and the sentence-vector cache, then once more, timed: the answer's own time
(``Answer.latency_ms``: support checks, figure binding, lead) and the whole ``ask``
(search included). Figures go to ``bench/results.md``.

    python -m bench.answer_latency [--no-write]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.config import PROJECT_ROOT, Settings

from ._results import code_version, write_section

CASES = ("eval/cases.jsonl", "eval/heldapart_unanswerable.jsonl")


def measure() -> dict[str, float]:
    questions = [json.loads(line)["question"] for name in CASES
                 for line in (PROJECT_ROOT / name).read_text("utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        assistant = Assistant(Settings(index_dir=Path(tmp), corpus_dir=PROJECT_ROOT / "corpus",
                                       chroma_url=None))
        assistant.ingest([PROJECT_ROOT / "corpus"])
        for question in questions:
            assistant.ask(question)
        compose, total = [], []
        for question in questions:
            started = time.perf_counter()
            answer = assistant.ask(question)
            total.append((time.perf_counter() - started) * 1000)
            compose.append(answer.latency_ms)
        assistant.close()
    return {"questions": len(questions),
            "answer_p50": float(np.percentile(compose, 50)),
            "answer_p95": float(np.percentile(compose, 95)),
            "ask_p50": float(np.percentile(total, 50)),
            "ask_p95": float(np.percentile(total, 95))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    m = measure()
    body = (f"## Extractive answer latency, warm (issue 21)\n\n"
            f"{m['questions']} bundled questions, each asked twice, the second timed "
            f"(code {code_version()}).\n\n"
            f"| measure | p50 | p95 |\n|---|---:|---:|\n"
            f"| answer (support checks, figure binding, lead) | {m['answer_p50']:.1f} ms | "
            f"{m['answer_p95']:.1f} ms |\n"
            f"| ask (search included) | {m['ask_p50']:.1f} ms | {m['ask_p95']:.1f} ms |")
    print(body)
    if not args.no_write:
        write_section("answer-latency", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
