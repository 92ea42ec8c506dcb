"""The evaluation suite end to end, through the installed ``assistant`` entry point.

The bundled suite runs once per module on the bundled corpus; CI fails when it falls below
the committed baseline (eval/baseline/metrics.json, refreshed with `make eval-baseline`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistant.errors import InputError
from assistant.eval.compare import compare, load_metrics
from assistant.eval.metrics import CUTOFFS
from assistant.eval.runner import Case, Evaluation
from assistant.eval.runner import load_cases as parse_cases

from .conftest import CASES, CORPUS, ROOT, clean_env, cli, load_cases

BASELINE = ROOT / "eval" / "baseline" / "metrics.json"
DOC_LANG = {"000": "en", "001": "en", "002": "uk", "003": "fr", "004": "ar"}
PREDICTION_KEYS = {"id", "retrieved", "answer", "citations", "abstained", "latency_ms"}

pytestmark = pytest.mark.slow


def run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(clean_env(tmp / "user-index"), *args)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("eval")
    out = tmp / "run"
    result = run(tmp, "eval", "--qa", str(CASES), "--corpus", str(CORPUS), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{len(load_cases())} cases ({len(load_cases())} run now, 0 resumed)" in result.stdout
    assert not (tmp / "user-index").exists()  # the user's index is never touched
    return out


def test_cases_meet_the_brief() -> None:
    cases = load_cases()
    answerable = [c for c in cases if not c["unanswerable"]]
    cross = [c for c in answerable
             if {DOC_LANG[g[:3]] for g in c["gold_docs"]} != {c["question_lang"]}]
    assert len(cases) >= 80
    assert {c["question_lang"] for c in cases} == {"en", "vi", "uk", "fr", "ar"}
    assert {g[:3] for c in cases for g in c["gold_docs"]} == set(DOC_LANG)
    assert len(cross) >= 0.4 * len(cases)
    assert sum(len(c["gold_docs"]) >= 2 for c in cases) >= 5
    unanswerable = [c for c in cases if c["unanswerable"]]
    assert len(unanswerable) >= 10 and all(not c["answers"] for c in unanswerable)
    # Hard ones: a covered province, a figure another province's report gives.
    assert sum("missing-fact" in c["tags"] for c in unanswerable) >= 5
    assert all(c["answers"] for c in answerable)
    assert len({c["id"] for c in cases}) == len(cases)


def test_bundled_suite_holds_the_baseline(bundled: Path, tmp_path: Path) -> None:
    result = run(tmp_path, "eval", "compare", str(BASELINE), str(bundled))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No metric dropped" in result.stdout


def test_run_writes_predictions_metrics_report_and_chart(bundled: Path) -> None:
    rows = [json.loads(line) for line in
            (bundled / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [c["id"] for c in load_cases()]
    for row in rows:
        assert set(row) >= PREDICTION_KEYS
        assert len(row["retrieved"]) == len(set(row["retrieved"])) <= 10
        assert set(row["citations"]) <= set(row["retrieved"]) or row["abstained"]
    metrics = json.loads((bundled / "metrics.json").read_text(encoding="utf-8"))
    headline = {f"recall@{k}" for k in CUTOFFS} | {
        "mrr@10", "containment", "token_f1", "citation_precision", "citation_recall",
        "abstention_precision", "abstention_recall", "latency_p50_ms", "latency_p95_ms"}
    assert headline <= set(metrics["overall"])
    for groups in (metrics["by_pair"], metrics["by_tag"]):
        assert all(headline <= set(m) for m in groups.values())
    assert {"en→ar", "fr→uk", "vi→en", "ar→fr", "uk→multi", "en→none"} <= set(metrics["by_pair"])
    assert {"multi-doc", "unanswerable", "missing-fact"} <= set(metrics["by_tag"])
    report = (bundled / "report.md").read_text(encoding="utf-8")
    for heading in ("## Headline", "## Weak language pairs", "## By question language",
                    "## By tag", "](chart.png)"):
        assert heading in report
    assert (bundled / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("change", "threshold", "regressions"), [
    ({}, 0.02, []),
    ({"containment": -0.05}, 0.02, ["containment"]),
    ({"containment": -0.05}, 0.1, []),
    ({"containment": -0.02}, 0.02, []),  # at the threshold is not beyond it
    ({"recall@5": +0.05, "abstention_recall": +0.2}, 0.02, []),
    ({"abstention_recall": -0.03, "mrr@10": -0.5}, 0.02, ["mrr@10", "abstention_recall"]),
    ({"latency_p50_ms": +5000, "latency_p95_ms": +9000}, 0.02, []),  # timings never gated
])
def test_compare_deltas(change: dict[str, float], threshold: float,
                        regressions: list[str]) -> None:
    base = load_metrics(BASELINE)
    other = json.loads(json.dumps(base))
    for key, delta in change.items():
        other["overall"][key] = (other["overall"][key] or 0) + delta
    result = compare(base, other, threshold)
    assert result.regressions == regressions
    assert all(d == (pytest.approx(change.get(k, 0)) if d is not None else None)
               for k, _, _, d in result.deltas if base["overall"].get(k) is not None)
    assert result.flipped == {}


def test_compare_through_the_cli_names_flips_and_exits_1_on_a_regression(
        tmp_path: Path) -> None:
    worse = load_metrics(BASELINE)
    worse["overall"]["containment"] -= 0.05
    flipped = next(c for c, f in worse["per_case"].items() if f.get("contained") == 1)
    worse["per_case"][flipped]["contained"] = 0
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(worse), encoding="utf-8")
    result = run(tmp_path, "eval", "compare", str(BASELINE), str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "REGRESSION" in result.stdout and f"- {flipped}" in result.stdout
    assert "contained: 0 gained, 1 lost" in result.stdout
    relaxed = run(tmp_path, "eval", "compare", str(BASELINE), str(path), "--threshold", "0.1")
    assert relaxed.returncode == 0 and "No metric dropped" in relaxed.stdout


@pytest.mark.parametrize(("content", "message"), [
    ("not json\n", "cases.jsonl:1"),
    ('{"id": "a", "question_lang": "en"}\n', "cases.jsonl:1: question"),
    ('\n{"id": "a", "question": "q", "question_lang": "en", "unanswerable": "maybe"}\n',
     "cases.jsonl:2: unanswerable"),
    ('{"id": "a", "question": "q", "question_lang": "en"}\n' * 2, "used twice"),
    ("\n", "holds no cases"),
])
def test_bad_cases_file(tmp_path: Path, content: str, message: str) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        parse_cases(cases)


def test_bad_cases_file_is_a_readable_error(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "question_lang": "en"}\n', encoding="utf-8")
    result = run(tmp_path, "eval", "--qa", str(cases), "--corpus", str(CORPUS),
                 "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "cases.jsonl:1: question" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("content", [None, "{not json", '{"run": {}}'])
def test_compare_needs_runs(tmp_path: Path, content: str | None) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if content is not None:
        (run_dir / "metrics.json").write_text(content, encoding="utf-8")
    with pytest.raises(InputError):
        load_metrics(run_dir)


def test_help_explains_both_commands(tmp_path: Path) -> None:
    result = run(tmp_path, "eval", "--help")
    assert result.returncode == 0
    assert "assistant eval --qa" in result.stdout and "assistant eval compare" in result.stdout
    missing = run(tmp_path, "eval")
    assert missing.returncode == 2 and "--qa" in missing.stderr


def test_gold_doc_and_extra_fields(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "x", "question": "q?", "question_lang": "en", "answers": ["1"], '
                    '"gold_doc": "a.txt", "split": "mono", "meta": {"n": 1}}\n', encoding="utf-8")
    (case,) = parse_cases(path)
    assert case.gold_docs == ["a.txt"] and case.extra == {"split": "mono", "meta": {"n": 1}}


@pytest.mark.parametrize(("fields", "doc_lang", "answers"), [
    ({"gold_docs": ["a.txt"]}, "ar", ["1"]),
    ({"gold_docs": ["a.txt", "b.txt"]}, "multi", ["1"]),
    ({"gold_docs": ["a.txt", "c.txt"]}, "ar", ["1"]),
    ({"gold_docs": ["a.txt"], "doc_lang": "vi"}, "vi", ["1"]),  # the case's own wins
    ({"gold_docs": []}, "none", ["1"]),
    ({"gold_doc": "b.txt", "answers_doc_lang": ["١"]}, "en", ["1", "١"]),
])
def test_document_language_and_references(fields: dict[str, Any], doc_lang: str,
                                          answers: list[str]) -> None:
    case = Case.model_validate({"id": "x", "question": "q?", "question_lang": "fr",
                                "answers": ["1"], **fields})
    row = Evaluation._row(case, {"a.txt": "ar", "b.txt": "en", "c.txt": "ar"})
    assert row["doc_lang"] == doc_lang and row["answers"] == answers


def test_resume_after_interruption_with_gold_doc_and_extra_fields(
        bundled: Path, tmp_path: Path) -> None:
    # Four bundled cases the way development sets write them: one gold_doc, extra fields.
    picked = [c for c in load_cases() if len(c["gold_docs"]) == 1][:4]
    rows = []
    for case in picked:
        row = {k: v for k, v in case.items() if k != "gold_docs"}
        rows.append({**row, "gold_doc": case["gold_docs"][0], "split": "test", "origin": {"n": 1}})
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                     encoding="utf-8")
    out = tmp_path / "run"
    out.mkdir()
    shutil.copytree(bundled / "index", out / "index")  # the corpus is indexed already
    # An interrupted run: two predictions written, the third cut off mid-line.
    done = [json.loads(line) for line in
            (bundled / "predictions.jsonl").read_text(encoding="utf-8").splitlines()[:2]]
    assert [d["id"] for d in done] == [r["id"] for r in rows[:2]]
    for row in done:
        row["latency_ms"] = 12345.0  # a mark: a resumed prediction is kept, not redone
    (out / "predictions.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in done) + '{"id": "r0',
        encoding="utf-8")
    result = run(tmp_path, "eval", "--qa", str(cases), "--corpus", str(CORPUS),
                 "--out", str(out), "-k", "3")
    assert result.returncode == 0, result.stderr
    assert "4 cases (2 run now, 2 resumed)" in result.stdout
    got = [json.loads(line) for line in
           (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [g["id"] for g in got] == [r["id"] for r in rows]
    assert [g["latency_ms"] for g in got[:2]] == [12345.0, 12345.0]
    assert all(g["extra"] == {"split": "test", "origin": {"n": 1}} for g in got[2:])
    assert all(len(g["retrieved"]) <= 3 for g in got[2:])
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overall"]["cases"] == 4 and metrics["overall"]["recall@3"] == 1.0
    assert Counter(metrics["per_case"][r["id"]]["found@5"] for r in rows) == Counter({1: 4})
