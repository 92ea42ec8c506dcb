"""The evaluation runner: cases in, predictions, metrics, a report and a chart out.

A run owns its output folder: the corpus is indexed under ``OUT/index`` (never the user's
index), each prediction is appended to ``predictions.jsonl`` as soon as it exists, and a
rerun with the same folder skips the cases already there, so an interrupted run resumes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.config import Settings
from assistant.errors import EmptyIndexError, InputError
from assistant.eval.metrics import NO_DOC, evaluate
from assistant.eval.report import MIXED, write_chart, write_report
from assistant.service import Assistant
from assistant.text.languages import detect

PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"
REPORT = "report.md"
CHART = "chart.png"


class Case(BaseModel):
    """One line of a cases file; fields we do not know are kept and carried along."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    question_lang: str
    answers: list[str] = Field(default_factory=list)
    # The same references as the document writes them (development sets carry these): a
    # backend that quotes the document is right when it contains either.
    answers_doc_lang: list[str] = Field(default_factory=list)
    gold_docs: list[str] = Field(default_factory=list)
    unanswerable: bool = False
    tags: list[str] = Field(default_factory=list)
    doc_lang: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_gold_doc(cls, data: Any) -> Any:
        # Development sets name one gold file: {"gold_doc": "a.txt"} means gold_docs [a.txt].
        if isinstance(data, dict) and "gold_doc" in data and not data.get("gold_docs"):
            data = {**data, "gold_docs": [data["gold_doc"]]}
            data.pop("gold_doc")
        return data

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def load_cases(path: Path) -> list[Case]:
    """Parse a JSON Lines cases file; a bad line is reported with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"Cannot read the cases file {path}: {exc.strerror}") from None
    cases: list[Case] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            case = Case.model_validate_json(line)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "line"
            raise InputError(f"{path}:{number}: {where}: {problem['msg']}") from None
        if case.id in seen:
            raise InputError(f"{path}:{number}: the id '{case.id}' is used twice")
        seen.add(case.id)
        cases.append(case)
    if not cases:
        raise InputError(f"{path} holds no cases (one JSON object per line expected).")
    return cases


def read_predictions(path: Path) -> dict[str, dict[str, Any]]:
    """Predictions already written; a line cut short by an interruption is dropped."""
    if not path.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    intact: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        done[row["id"]] = row
        intact.append(line)
    path.write_text("".join(f"{line}\n" for line in intact), encoding="utf-8")
    return done


@dataclass
class RunResult:
    out: Path
    cases: int
    ran: int  # cases answered by this invocation (the rest were resumed)
    metrics: dict[str, Any]
    index_s: float
    cases_s: float


class Evaluation:
    def __init__(self, settings: Settings, qa: Path, corpus: Path, out: Path,
                 k: int = 10) -> None:
        self.qa, self.corpus, self.out, self.k = qa, corpus.resolve(), out, k
        self.corpus_name = str(corpus)  # as given: a committed baseline names no home folder
        if not self.corpus.is_dir():
            raise InputError(f"The corpus folder {corpus} does not exist.")
        # Own embedded index inside OUT: the user's index and Chroma server stay untouched.
        self.settings = settings.variant(index_dir=out / "index", corpus_dir=self.corpus,
                                         chroma_url=None)
        self.assistant = Assistant(self.settings)

    def run(self, progress: bool = False) -> RunResult:
        from tqdm.auto import tqdm

        cases = load_cases(self.qa)
        self.out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        report = self.assistant.ingest([self.corpus], progress=progress)
        if report.failed:
            failed = ", ".join(source for source, _ in report.failed[:3])
            raise InputError(f"{len(report.failed)} file(s) of {self.corpus} failed to "
                             f"load ({failed}); fix or remove them before evaluating.")
        if self.assistant.store.is_empty():
            raise EmptyIndexError(f"({self.corpus} holds no document to evaluate on.)")
        index_s = time.perf_counter() - started
        path = self.out / PREDICTIONS
        done = read_predictions(path)
        todo = [c for c in cases if c.id not in done]
        if todo:
            # Models and the BM25 lexicon load on first use: not a case's latency.
            self.assistant.ask(todo[0].question)
        started, cpu = time.perf_counter(), time.process_time()
        with path.open("a", encoding="utf-8") as sink:
            for case in tqdm(todo, desc="eval", unit="case", disable=not progress,
                             initial=len(cases) - len(todo), total=len(cases)):
                row = self.predict(case)
                done[case.id] = row
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                sink.flush()  # what is written survives an interruption
        cases_s = time.perf_counter() - started
        # CPU seconds (all threads) beside wall time: on a shared machine the wall clock
        # also measures the neighbours.
        cases_cpu_s = time.process_time() - cpu
        metrics = self.score(cases, done)
        metrics["run"].update(index_s=round(index_s, 2), cases_s=round(cases_s, 2),
                              cases_cpu_s=round(cases_cpu_s, 2), ran=len(todo))
        self.write(metrics)
        return RunResult(self.out, len(cases), len(todo), metrics, index_s, cases_s)

    def predict(self, case: Case) -> dict[str, Any]:
        started = time.perf_counter()
        query = self.assistant.prepare(case.question)
        answer = self.assistant.ask(query)
        latency = (time.perf_counter() - started) * 1000
        # Ranking for recall@k: one deeper search for the same query, distinct files first.
        hits = self.assistant.search(query, self.settings.search.candidate_k)
        retrieved = list(dict.fromkeys(h.source for h in hits))[: self.k]
        row: dict[str, Any] = {
            "id": case.id, "question_lang": case.question_lang, "retrieved": retrieved,
            "answer": answer.answer, "citations": [c.source for c in answer.citations],
            "abstained": answer.abstained, "latency_ms": round(latency, 1),
            "backend": answer.backend,
        }
        if not answer.abstained:
            # The line a reader reads first: the lead when there is one (issue 13), checked
            # with the same offline detector that chose the answer's language.
            lead = answer.lead or answer.answer
            row["lead_lang"] = detect(lead, self.settings.languages)
            if answer.span:
                row["span"] = answer.span
        row["status"], row["support"] = answer.status, round(answer.support, 3)
        if answer.vetoed:
            row["vetoed"] = True  # a model's answer the answerability check turned down
        if case.extra:
            row["extra"] = case.extra
        return row

    def doc_languages(self) -> dict[str, str]:
        return {r.source: r.language for r in self.assistant.sources()}

    def score(self, cases: list[Case], predictions: dict[str, dict[str, Any]]) -> dict[str, Any]:
        languages = self.doc_languages()
        rows = [self._row(c, languages) for c in cases]
        metrics = evaluate(rows, predictions)
        metrics["run"] = {
            "qa": str(self.qa), "corpus": self.corpus_name, "backend": self.settings.answer_backend,
            "fusion": self.settings.search.fusion, "k": self.k, "cases": len(cases),
            "cross_lingual": sum(r["doc_lang"] not in (NO_DOC, r["question_lang"]) for r in rows),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }
        return {"run": metrics.pop("run"), **metrics}

    @staticmethod
    def _row(case: Case, languages: dict[str, str]) -> dict[str, Any]:
        row = case.model_dump(include={"id", "question_lang", "gold_docs", "unanswerable",
                                       "tags"})
        row["split"] = str(case.extra.get("split") or "tune")
        # Near-duplicates of the gold passage (health dev sets): an answer citing one is right.
        row["relevant_docs"] = list(case.extra.get("relevant_docs") or [])
        row["answers"] = case.answers + case.answers_doc_lang
        if case.answers_doc_lang:
            row["answers_qlang"] = case.answers
        # A case's own doc_lang wins; otherwise the detected language of its gold files.
        langs = {languages.get(doc, "und") for doc in case.gold_docs}
        detected = (langs.pop() if len(langs) == 1 else MIXED) if langs else NO_DOC
        row["doc_lang"] = case.doc_lang or detected
        return row

    def write(self, metrics: dict[str, Any]) -> None:
        (self.out / METRICS).write_text(json.dumps(metrics, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        write_chart(metrics, self.out / CHART)
        write_report(metrics, self.out / REPORT, chart=CHART)

