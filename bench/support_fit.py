"""Fit the support check (``answer/support.py``) on the health sets' tune halves.

A tune half has few unanswerable questions (3 to 10). Each answerable one is therefore
asked twice: as it is, and with its gold documents taken out of what was retrieved (the
way the sets' unanswerable questions were made). For every untyped answer in the
passage's language it records the share of the question's words the report holds and how
far the best sentence scores above ``min_evidence``; then it sweeps the weight of that
lift and the "not found" threshold and prints, per set, the answerable questions whose
gold passage ranks first that would abstain, and the unanswerable (real, and made by
removal) that would. Other answers keep the decision the code makes today. MedQuAD's
removals are left out of the sweep: it holds several pages on one disease, so a removed
page is often still answered by another.

    python -m bench.health OUT --half tune        # builds OUT/<set>/index
    python -m bench.support_fit OUT [--sets qcfaq_fr_dev,covidqa_en_dev]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from assistant import Assistant
from assistant.answer.answerability import quantity_pattern
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.support import (
    ANSWERED,
    LOW,
    NOT_FOUND,
    SIMILARITY_WEIGHT,
    asked_of,
    report_text,
    status_of,
    sureness,
)
from assistant.config import Settings
from assistant.search.searcher import Hit
from assistant.text.phrases import overlap

from .health import HEALTH, HEALTH_SETS, split_cases

NOISY_REMOVALS = {"medquad_en_dev"}
WEIGHTS = (0.0, 4.0, 5.0, 6.0, 7.0, 8.0)
LOWS = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7)


@dataclass
class Row:
    kind: str  # "answerable" (gold first), "unanswerable", "removed"
    worded: bool  # judged by the support check (untyped, passage in its language)
    share: float
    lift: float
    abstained: bool  # what the code decides today
    entity_missing: bool = False  # a capitalised name or acronym of the question is not there


def _row(assistant: Assistant, question: str, hits: list[Hit], kind: str) -> Row:
    backend = assistant.backend
    assert isinstance(backend, ExtractiveAnswerer)  # the check lives there
    query = assistant.prepare(question)
    answer = backend.compose(query, hits)
    need = backend.need(query)
    candidates = backend.candidates(query, hits, need.kind == "figure") if hits else []
    if not candidates:
        return Row(kind, False, 0.0, 0.0, answer.abstained)
    asked = asked_of(query.text, quantity_pattern(backend._quantity)
                     if need.kind == "figure" else None, query.wording)
    best, share = backend._worded_best(asked, hits, candidates)
    worded = need.kind == "other" and best.hit.language == query.language
    lift = best.score - assistant.settings.answer.min_evidence
    report = report_text(hits, best.hit.source)
    missing = bool(asked.entities) and overlap(asked.entities, report) < 1.0
    return Row(kind, worded, share, lift, answer.abstained, missing)


def rows_of(name: str, out: Path) -> list[Row]:
    settings = Settings().variant(index_dir=out / name / "index",
                                  corpus_dir=(HEALTH / name).resolve(), chroma_url=None)
    assistant = Assistant(settings)
    pool = assistant.settings.answer.pool_k
    rows = []
    for line in split_cases(name, out, "tune").read_text("utf-8").splitlines():
        case = json.loads(line)
        gold = set(case.get("relevant_docs") or [])
        deep = assistant.search(case["question"], pool * 4)
        if case.get("unanswerable"):
            rows.append(_row(assistant, case["question"], deep[:pool], "unanswerable"))
            continue
        if deep and deep[0].source in gold:
            rows.append(_row(assistant, case["question"], deep[:pool], "answerable"))
        if name not in NOISY_REMOVALS:
            kept = [h for h in deep if h.source not in gold][:pool]
            rows.append(_row(assistant, case["question"], kept, "removed"))
    return rows


def abstains(row: Row, weight: float, low: float, relief: float,
             entity_veto: bool = False) -> bool:
    if not row.worded:
        return row.abstained
    if entity_veto and row.entity_missing:
        return True
    status = status_of(row.share, row.lift, weight=weight, low=low)
    # The evidence floor: min_evidence, less the relief for an answer found "answered".
    return status == NOT_FOUND or row.lift < (-relief if status == ANSWERED else 0.0)


def auc(rows: list[Row], weight: float) -> float:
    """How often an answerable question's support outranks an unanswerable one's."""
    pos = [sureness(r.share, r.lift, weight) for r in rows
           if r.worded and r.kind == "answerable"]
    neg = [sureness(r.share, r.lift, weight) for r in rows
           if r.worded and r.kind != "answerable"]
    pairs = [(p > n) + 0.5 * (p == n) for p in pos for n in neg]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def rate(rows: list[Row], kind: str, weight: float, low: float, relief: float,
         entity_veto: bool = False) -> str:
    these = [r for r in rows if r.kind == kind]
    if not these:
        return "   -"
    return f"{sum(abstains(r, weight, low, relief, entity_veto) for r in these) / len(these):.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=Path, help="a bench.health output folder with the indexes")
    parser.add_argument("--sets", default=",".join(HEALTH_SETS))
    args = parser.parse_args(argv)
    relief = Settings().answer.supported_relief
    data = {name: rows_of(name, args.out) for name in args.sets.split(",")}
    print("AUC of share + weight x lift, answerable (gold first) against the rest:")
    for name, rows in data.items():
        print(f"  {name}: " + ", ".join(f"{w:g}: {auc(rows, w):.3f}" for w in WEIGHTS))
    print(f"abstaining share per set: gold first / unanswerable / removed "
          f"(today: weight {SIMILARITY_WEIGHT:g}, LOW {LOW:g})")
    for weight in WEIGHTS:
        for low in LOWS:
            cells = [" ".join(rate(rows, k, weight, low, relief)
                              for k in ("answerable", "unanswerable", "removed"))
                     for rows in data.values()]
            print(f"  weight {weight:g} LOW {low:g}: " + " | ".join(cells))
    # A name the question gives that the report lacks ("bovine coronavirus" asked, a
    # passage on equine coronavirus): abstain whatever the similarity, at today's point.
    cells = [" ".join(rate(rows, k, SIMILARITY_WEIGHT, LOW, relief, entity_veto=True)
                      for k in ("answerable", "unanswerable", "removed"))
             for rows in data.values()]
    print("  today's point, and a missing name abstains: " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
