"""Evaluation metrics: multilingual answer matching, retrieval, citations, abstention, latency.

Pure functions over plain data (cases and predictions as dicts), so a run's metrics can be
recomputed from its files and tested without a model.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from assistant.answer.citations import MARKER
from assistant.text import numbers
from assistant.text.languages import normalize

CUTOFFS = (1, 3, 5, 10)
MRR_DEPTH = 10
NO_DOC = "none"  # document language of a case no document answers

# Issue 21's measures where lower is better (eval compare gates them the other way).
LOWER_IS_BETTER = ("wrong_figure_rate", "answered_when_unanswerable", "abstain_when_gold_first")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|\w+")


def normalize_answer(text: str) -> str:
    """Text as compared: NFKC, case folded, Arabic marks and letter forms (alef variants,
    ta marbuta, alef maqsura, tatweel) folded, any-script digits, one spelling per figure,
    citation markers and punctuation dropped, whitespace collapsed."""
    text = normalize(MARKER.sub(" ", numbers.canonical(text)))
    text = re.sub(r"[^\w%./]+", " ", text)
    # A sentence-final dot is punctuation, a dot between digits a decimal mark.
    text = re.sub(r"(?<!\d)[./]|[./](?!\d)", " ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalize_answer(text))


def contains(answer: str, references: Iterable[str]) -> bool:
    """Does the answer contain any reference, after normalisation, on word boundaries?"""
    folded = normalize_answer(answer)
    for ref in references:
        target = normalize_answer(ref)
        # Boundaries keep "8%" from matching inside "98%" and "12" inside "12.5".
        # Arabic attaches "and"/"with" to a number ("و66454"): a figure may follow a letter.
        before = r"(?<![.])(?<![^\W\u0600-\u06ff])" if target[:1].isdigit() else r"(?<![\w.])"
        if target and re.search(rf"{before}{re.escape(target)}(?![\w]|\.\d)", folded):
            return True
    return False


def token_f1(answer: str, references: Iterable[str]) -> float:
    """SQuAD-style token F1 against the best-matching reference."""
    predicted = Counter(answer_tokens(answer))
    best = 0.0
    for ref in references:
        gold = Counter(answer_tokens(ref))
        common = sum((predicted & gold).values())
        if common:
            precision = common / sum(predicted.values())
            recall = common / sum(gold.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def recall_at(retrieved: Sequence[str], gold: Iterable[str], k: int) -> float:
    wanted = set(gold)
    return len(wanted.intersection(retrieved[:k])) / len(wanted) if wanted else 0.0


def reciprocal_rank(retrieved: Sequence[str], gold: Iterable[str], depth: int = MRR_DEPTH) -> float:
    wanted = set(gold)
    for rank, source in enumerate(retrieved[:depth], 1):
        if source in wanted:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def score_case(case: Mapping[str, Any], pred: Mapping[str, Any]) -> dict[str, Any]:
    """Per-case outcomes; ``None`` where a measure does not apply to the case."""
    gold = list(case["gold_docs"])
    answerable = not case["unanswerable"]
    retrieved = list(pred["retrieved"])
    cited = set(pred["citations"])
    out: dict[str, Any] = {"abstained": bool(pred["abstained"]),
                           "latency_ms": float(pred["latency_ms"])}
    if gold:
        for k in CUTOFFS:
            out[f"recall@{k}"] = recall_at(retrieved, gold, k)
        out["mrr@10"] = reciprocal_rank(retrieved, gold)
    if answerable:
        answered = not pred["abstained"]
        refs = case["answers"]
        out["containment"] = float(answered and bool(refs) and contains(pred["answer"], refs))
        # Development sets give the reference in the question's language and the document's:
        # "strict" counts only the former (what a reader of the question's language gets).
        if case.get("answers_qlang"):
            out["containment_qlang"] = float(answered and contains(pred["answer"],
                                                                   case["answers_qlang"]))
        # F1 is a span measure: the answer's short form (the figure or name its lead states)
        # when it has one, else the whole answer.
        short = pred.get("span") or pred["answer"]
        out["token_f1"] = token_f1(short, refs) if answered else 0.0
        if answered and "lead_lang" in pred:
            out["lead_in_question_lang"] = float(pred["lead_lang"] == case["question_lang"])
        if gold:
            out["citation_recall"] = len(cited & set(gold)) / len(set(gold))
            if cited:
                out["citation_precision"] = len(cited & set(gold)) / len(cited)
            # Of the questions whose passage was ranked first, how many abstained anyway.
            if retrieved and retrieved[0] in set(gold) | set(case.get("relevant_docs") or []):
                out["abstain_when_gold_first"] = float(not answered)
    else:
        out["answered_when_unanswerable"] = float(not pred["abstained"])
    answered = not pred["abstained"]
    out["coverage"] = float(answered)
    if answered:
        # Selective answering: an answer is right when it cites a gold (or near-duplicate)
        # passage, or contains the reference; any answer to an unanswerable question is not.
        relevant = set(gold) | set(case.get("relevant_docs") or [])
        out["answer_precision"] = float(answerable and (bool(cited & relevant) or bool(
            case["answers"] and contains(pred["answer"], case["answers"]))))
        # The lead's figure: wrong when the question has no answer or it is not a reference.
        span = str(pred.get("span") or "")
        if span and numbers.figures(span) and (case["answers"] or not answerable):
            refs = case["answers"]
            lead = pred["answer"].partition("\n")[0]
            right = answerable and (contains(span, refs) or contains(lead, refs)
                                    or any(contains(ref, [span]) for ref in refs))
            out["wrong_figure_rate"] = float(not right)
    return out


def aggregate(cases: Sequence[Mapping[str, Any]],
              scores: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means of the per-case outcomes, abstention P/R and latency percentiles."""
    out: dict[str, Any] = {"cases": len(scores)}
    keys = [f"recall@{k}" for k in CUTOFFS] + ["mrr@10", "containment", "token_f1",
                                              "citation_precision", "citation_recall",
                                              "containment_qlang", "lead_in_question_lang",
                                              *LOWER_IS_BETTER, "answer_precision", "coverage"]
    for key in keys:
        values = [s[key] for s in scores if s.get(key) is not None]
        out[key] = round(float(np.mean(values)), 4) if values else None
    abstained = [s["abstained"] for s in scores]
    unanswerable = [bool(c["unanswerable"]) for c in cases]
    hits = sum(a and u for a, u in zip(abstained, unanswerable, strict=True))
    out["abstention_precision"] = round(hits / sum(abstained), 4) if any(abstained) else None
    out["abstention_recall"] = round(hits / sum(unanswerable), 4) if any(unanswerable) else None
    latencies = [s["latency_ms"] for s in scores]
    out["latency_p50_ms"] = round(percentile(latencies, 50), 1)
    out["latency_p95_ms"] = round(percentile(latencies, 95), 1)
    return out


def pair_key(case: Mapping[str, Any]) -> str:
    return f"{case['question_lang']}→{case.get('doc_lang') or NO_DOC}"


def breakdown(cases: Sequence[Mapping[str, Any]], scores: Sequence[Mapping[str, Any]],
              key: str) -> dict[str, dict[str, Any]]:
    """Aggregates per question-language x document-language pair (``pair``), per tag, or
    per split (``split``: cases tuned on vs held out)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        if key == "pair":
            labels = [pair_key(case)]
        elif key == "split":
            labels = [str(case.get("split") or "tune")]
        else:
            labels = list(case.get("tags") or ["(none)"])
        for label in labels:
            groups[label].append(i)
    return {label: aggregate([cases[i] for i in idx], [scores[i] for i in idx])
            for label, idx in sorted(groups.items())}


def evaluate(cases: Sequence[Mapping[str, Any]],
             predictions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Everything ``metrics.json`` holds, for the cases that have a prediction."""
    done = [c for c in cases if c["id"] in predictions]
    scores = [score_case(c, predictions[c["id"]]) for c in done]
    return {
        "overall": aggregate(done, scores),
        "by_pair": breakdown(done, scores, "pair"),
        "by_tag": breakdown(done, scores, "tag"),
        "by_split": breakdown(done, scores, "split"),
        # Compact per-case outcomes: what `eval compare` reports as flipped.
        "per_case": {c["id"]: _flags(c, s) for c, s in zip(done, scores, strict=True)},
    }


def _flags(case: Mapping[str, Any], score: Mapping[str, Any]) -> dict[str, int]:
    flags = {"abstention_right": int(score["abstained"] == bool(case["unanswerable"]))}
    if score.get("recall@5") is not None:
        flags["found@5"] = int(score["recall@5"] == 1.0)
    if score.get("containment") is not None:
        flags["contained"] = int(score["containment"])
    return flags
