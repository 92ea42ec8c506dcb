"""Answering and abstaining on the public health sets (``../shared/devsets/health/``).

Each set's folder is evaluated with ``assistant eval`` (its own index under OUT). The rows
are first written with ``split`` set to the set's half (``bench._splits``: by the gold
document, so every question about a document goes with it; an unanswerable question, whose
passage was removed, by its id): thresholds are fitted on ``tune`` and ``heldout`` is
reported beside it, never used to choose anything. ``also_relevant_docs`` count as gold for
answer precision (a near-duplicate passage answers as well).

    python -m bench.health OUT [--sets covidqa_en_dev,qcfaq_fr_dev] [--half tune]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from assistant.config import PROJECT_ROOT
from assistant.eval.metrics import evaluate
from assistant.eval.runner import PREDICTIONS, Evaluation, load_cases, read_predictions

from ._splits import half_of

HEALTH = PROJECT_ROOT.parent / "shared" / "devsets" / "health"
HEALTH_SETS = ("covidqa_en_dev", "medquad_en_dev", "qcfaq_fr_dev")
SHOWN = ("cases", "coverage", "answer_precision", "abstention_recall",
         "answered_when_unanswerable", "abstain_when_gold_first", "wrong_figure_rate",
         "containment", "recall@1", "latency_p95_ms")


def split_cases(name: str, out: Path, half: str | None = None) -> Path:
    """The set's rows with ``split`` = tune / heldout (only ``half``'s when given)."""
    rows = []
    for line in (HEALTH / f"{name}.jsonl").read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        row["split"] = half_of(row.get("gold_doc") or row["id"])
        row["relevant_docs"] = [d for d in [row.get("gold_doc"),
                                            *(row.get("also_relevant_docs") or [])] if d]
        if row.get("gold_doc") is None:
            row.pop("gold_doc", None)
        if half is None or row["split"] == half:
            rows.append(row)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.{half or 'all'}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def rescore(qa: Path, run: Path) -> dict[str, Any]:
    """A run's metrics recomputed from its predictions with today's metrics (a baseline run
    made before a metric existed gets it too); per split."""
    cases = load_cases(qa)
    rows = [Evaluation._row(c, {}) for c in cases]
    return evaluate(rows, read_predictions(run / PREDICTIONS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", default=",".join(HEALTH_SETS))
    parser.add_argument("--half", choices=("tune", "heldout"), default=None)
    parser.add_argument("--index-from", type=Path, default=None,
                        help="copy each set's index from this earlier OUT (same files)")
    parser.add_argument("--rescore", action="store_true",
                        help="only recompute the metrics of the runs in OUT, per split")
    args = parser.parse_args(argv)
    if args.rescore:
        for name in args.sets.split(","):
            qa = args.out / f"{name}.{args.half or 'all'}.jsonl"
            metrics = rescore(qa, args.out / name)
            print(name, json.dumps({k: {m: v for m, v in g.items() if m in SHOWN}
                                    for k, g in [("all", metrics["overall"]),
                                                 *metrics["by_split"].items()]}))
        return 0
    for name in args.sets.split(","):
        qa = split_cases(name, args.out, args.half)
        if args.index_from and not (args.out / name / "index").exists():
            shutil.copytree(args.index_from / name / "index", args.out / name / "index")
        subprocess.run([sys.executable, "-m", "assistant", "eval", "--qa", str(qa),
                        "--corpus", str(HEALTH / name), "--out", str(args.out / name)],
                       check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
