"""How often does the answerability check veto a model's answer? Measured on the bundled
cases with the scripted OpenAI-protocol server of the tests (``tests/openai_server.py``)
playing an eager model: it always answers, quoting the first sentence of passage [1], so
every abstention is the veto's (or the citation check's).

    python -m bench.answerability_veto OUT            # the generative backend, veto on
    python -m bench.answerability_veto OUT --no-veto  # the same model, never vetoed
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from assistant import Settings
from assistant.eval.runner import Evaluation
from tests.openai_server import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parent.parent


def eager(request: dict[str, Any]) -> Reply:
    user = request["messages"][1]["content"]
    match = re.search(r'<source id="(\d+)"[^>]*>\s*(.+?)</source>', user, re.S)
    if not match:
        return Reply("The documents don't answer this question.")
    first = re.split(r"(?<=[.!?؟])\s+", match.group(2).strip())[0][:300]
    return Reply(f"{first} [{match.group(1)}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--no-veto", action="store_true")
    args = parser.parse_args()
    if args.no_veto:
        from assistant.answer.extractive import ExtractiveAnswerer

        ExtractiveAnswerer.veto = lambda self, query, hits: None  # type: ignore[method-assign]
    fake = FakeOpenAI(eager).start()
    try:
        settings = Settings().variant(answer_backend="openai", llm={
            "openai_base_url": fake.url, "openai_api_key": SecretStr("sk-bench"),
            "openai_model": "gpt-4o-mini", "max_retries": 0, "timeout": 10.0,
            "translate_questions": "off"})
        cases = ROOT / "eval" / "cases.jsonl"
        result = Evaluation(settings, cases, ROOT / "corpus", args.out).run()
    finally:
        fake.stop()
    truth = {c["id"]: c["unanswerable"] for c in map(json.loads, cases.open(encoding="utf-8"))}
    preds = [json.loads(line) for line in (args.out / "predictions.jsonl").open()]
    for split, m in [("all", result.metrics["overall"]), *result.metrics["by_split"].items()]:
        print(f"{split}: abstention precision {m['abstention_precision']}, "
              f"recall {m['abstention_recall']} ({m['cases']} cases)")
    vetoed = [p for p in preds if p.get("vetoed")]
    print(f"model requests {len(fake.requests)}; vetoed {len(vetoed)}: "
          f"{sum(truth[p['id']] for p in vetoed)} unanswerable, "
          f"{sum(not truth[p['id']] for p in vetoed)} answerable")


if __name__ == "__main__":
    main()
