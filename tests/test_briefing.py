"""Briefings on the bundled corpus: real embedder, real Chroma (the session ``indexed`` fixture)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from langchain_core.language_models import FakeListChatModel

from assistant import Assistant
from assistant.briefing.briefer import check_figures
from assistant.briefing.export import to_docx, to_json, to_markdown
from assistant.briefing.types import Briefing, BriefRequest
from assistant.text.anchors import fold

EMR_CASHLESS = {
    # report: the electronic-medical-record and cashless-payment figures it holds
    "002_198b8447694e4d5d.txt": {"100%"},  # uk: 100% of public facilities run EMRs
    "003_e434e3938b5c5e7a.txt": {"80 %", "98 %"},  # fr: 80 % cashless, 98 % EMR
    "004_3160aee91d886ff2.txt": {"71.4%"},  # ar: 71.4% pay hospital fees electronically
}
LANG_SON = {"003_e434e3938b5c5e7a.txt", "004_3160aee91d886ff2.txt"}
TOPICS = [
    "digital transformation", "transformation numérique", "chuyển đổi số", "vaccination",
    "sécurité alimentaire", "медичне страхування", "التأمين الصحي", "hospital beds",
    "doctors per 10,000 people", "shortage of human resources", "merger of health departments",
    "malnutrition des enfants", "онлайн-реєстрація", "khám chữa bệnh", "budget",
]


def _cited_passage(briefing: Briefing, n: int) -> str:
    return briefing.citations[n - 1].text


def _all_lines(briefing: Briefing) -> list[tuple[str, int]]:
    lines = [*briefing.summary, *briefing.directives, *briefing.problems,
             *(x for group in briefing.by_province.values() for x in group)]
    return [(x.text, x.cite) for x in lines]


def test_digital_transformation_brief(indexed: Assistant) -> None:
    briefing = indexed.brief(BriefRequest("digital transformation"))
    sources = {c.source for c in briefing.citations}
    assert len(sources) >= 3
    by_source: dict[str, set[str]] = {}
    for row in briefing.figures:
        by_source.setdefault(row.source, set()).add(row.value)
        assert briefing.citations[row.cite - 1].source == row.source  # the right source
    for source, figures in EMR_CASHLESS.items():
        assert figures <= by_source.get(source, set()), source
    concepts = {row.concept for row in briefing.figures}
    assert {"electronic_records", "cashless_payment"} <= concepts
    assert 3 <= len(briefing.summary) <= 5


@pytest.mark.parametrize(("topic", "concept"), [
    ("vaccination", "vaccination"), ("couverture d'assurance maladie", "health_insurance")])
def test_a_subject_brief_lists_only_what_is_about_it(indexed: Assistant, topic: str,
                                                     concept: str) -> None:
    from assistant.text.anchors import find_terms

    briefing = indexed.brief(BriefRequest(topic))
    assert briefing.figures
    for row in briefing.figures:
        assert concept in find_terms(row.sentence), row
    for line in [*briefing.summary[:1], *briefing.directives]:
        assert concept in find_terms(line.text), line


@pytest.mark.parametrize("request_", [
    BriefRequest("", province="Lang Son"),
    BriefRequest("Where does Lang Son stand this year?"),
    BriefRequest("health insurance", province="Lạng Sơn", language="vi"),
])
def test_lang_son_brief_covers_both_reports_and_no_other_province(
        indexed: Assistant, request_: BriefRequest) -> None:
    briefing = indexed.brief(request_)
    assert {c.source for c in briefing.citations} == LANG_SON
    assert {p for c in briefing.citations for p in c.provinces} == {"Lang Son"}
    # As the brief's language writes it ("Lạng Sơn" in Vietnamese).
    assert {fold(row.province) for row in briefing.figures} == {"lang son"}
    assert not briefing.by_province  # one province: no per-province sections


def test_french_brief_on_english_and_ukrainian_topic_keeps_figures_exact(
        indexed: Assistant) -> None:
    # Remote consultations and online registration appear only in the English (001) and
    # Ukrainian (002) reports; the brief is asked for in French.
    briefing = indexed.brief(BriefRequest(
        "consultations médicales à distance et enregistrement en ligne", language="fr"))
    markdown = to_markdown(briefing)
    assert markdown.startswith("# Note de synthèse")
    assert "## Chiffres clés" in markdown and "| Indicateur | Valeur |" in markdown
    values = {(row.source, row.value) for row in briefing.figures}
    # Figures as their reports write them: a Ukrainian decimal comma, English separators.
    assert ("002_198b8447694e4d5d.txt", "4,1") in values
    assert ("001_233030e2ea93ce29.txt", "99.5%") in values
    assert ("001_233030e2ea93ce29.txt", "1,647,334") in values
    for row in briefing.figures:
        assert row.value in row.sentence and row.sentence in _cited_passage(briefing, row.cite)
        assert f"| {row.value} |" in markdown


@pytest.mark.parametrize("topic", TOPICS)
def test_every_figure_occurs_in_the_passage_it_cites(indexed: Assistant, topic: str) -> None:
    briefing = indexed.brief(BriefRequest(topic))
    assert briefing.citations, topic
    for row in briefing.figures:
        passage = _cited_passage(briefing, row.cite)
        assert row.value in passage, (topic, row)
        if row.target:
            assert row.target.split(" ")[0] in passage
    for text, n in _all_lines(briefing):
        assert 1 <= n <= len(briefing.citations)
        assert text in _cited_passage(briefing, n)  # every line quotes what it cites
        assert check_figures(f"{text} [{n}]", {c.n: c for c in briefing.citations})
    assert [c.n for c in briefing.citations] == list(range(1, len(briefing.citations) + 1))


def test_period_filters_and_undated_reports(indexed: Assistant) -> None:
    briefing = indexed.brief(BriefRequest("", province="Lang Son", since=date(2025, 8, 1)))
    assert {c.source for c in briefing.citations} == {"003_e434e3938b5c5e7a.txt"}
    empty = indexed.brief(BriefRequest("vaccination", since=date(2030, 1, 1)))
    assert empty.empty and "Aucun" not in to_markdown(empty)
    assert "No indexed document" in to_markdown(empty)


def test_docx_holds_the_table_and_sources(indexed: Assistant, tmp_path: Path) -> None:
    from docx import Document

    briefing = indexed.brief(BriefRequest("digital transformation", language="uk"))
    path = to_docx(briefing, tmp_path / "brief.docx")
    doc = Document(str(path))
    assert len(doc.tables) == 1
    table = doc.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header[:2] == ["Показник", "Значення"]
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [(r[1], r[6]) for r in rows] == [(f.value, f"[{f.cite}]") for f in briefing.figures]
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Джерела" in text
    for c in briefing.citations:
        assert f"[{c.n}] {c.title}" in text


def test_json_export_round_trips(indexed: Assistant) -> None:
    briefing = indexed.brief(BriefRequest("vaccination", language="ar"))
    data = json.loads(to_json(briefing))
    assert data["language"] == "ar" and data["title"].startswith("موجز")
    assert len(data["sources"]) == len(briefing.citations)
    assert {f["value"] for f in data["figures"]} == {f.value for f in briefing.figures}


def test_model_summary_keeps_only_figures_its_sources_hold(indexed: Assistant) -> None:
    extractive = indexed.brief(BriefRequest("digital transformation", language="fr"))
    n = next(r.cite for r in extractive.figures if r.value == "71.4%")
    good = f"Le paiement électronique des frais hospitaliers atteint 71.4% à Lang Son [{n}]."
    invented = f"Le paiement électronique atteint 93.7% [{n}]."
    uncited = "La transformation numérique progresse partout."
    wrong_source = f"Dossiers électroniques : 98 % [{n}]."  # 98 % is in another report
    assert "98" not in extractive.citations[n - 1].text
    model = FakeListChatModel(responses=["\n".join([good, invented, uncited, wrong_source])])
    briefing = indexed.brief(BriefRequest("digital transformation", language="fr"), model)
    assert briefing.backend == "model"
    assert [x.text for x in briefing.summary] == [good]
    assert invented in briefing.dropped and uncited in briefing.dropped
    assert wrong_source in briefing.dropped
    # The table stays extractive: figures verbatim from their sources.
    assert [r.value for r in briefing.figures] == [r.value for r in extractive.figures]


def test_model_that_invents_everything_falls_back_to_extractive(indexed: Assistant) -> None:
    model = FakeListChatModel(responses=["Tout va bien : 99.99% [1]."])
    briefing = indexed.brief(BriefRequest("vaccination", language="fr"), model)
    assert briefing.backend == "extractive" and briefing.dropped
    assert all(re.search(r"\w", x.text) for x in briefing.summary)


def test_model_that_fails_keeps_the_extractive_brief(indexed: Assistant) -> None:
    class Down(FakeListChatModel):
        def _call(self, *args: object, **kwargs: object) -> str:
            raise ConnectionError("endpoint down")

    extractive = indexed.brief(BriefRequest("vaccination"))
    briefing = indexed.brief(BriefRequest("vaccination"), Down(responses=["unused"]))
    assert briefing.backend == "extractive" and briefing.model_error == "ConnectionError"
    assert [x.text for x in briefing.summary] == [x.text for x in extractive.summary]


@pytest.mark.parametrize(("province", "value", "unit", "label"), [
    # The unit is what the figure counts, not the word after it ("public", "of", "lits").
    ("Tra Vinh", "118", "public medical examination and treatment facilities", ""),
    ("Tra Vinh", "3/3", "of the main socio -economic targets", ""),
    ("Hai Phong", "65", "розумних терміналів", ""),
    ("Hai Phong", "4,1", "мільйона візитів", "Medical examinations"),
    ("Lang Son", "34", "lits d'hôpitaux pour 10 000 habitants", "Hospital beds"),
    # Labelled by what its own phrase names: a share of medical stations is not doctors.
    ("Tra Vinh", "100%", "%", ""),
])
def test_a_key_figure_says_what_it_counts(indexed: Assistant, province: str, value: str,
                                          unit: str, label: str) -> None:
    briefing = indexed.brief(BriefRequest("", province=province))
    row = next(r for r in briefing.figures if r.value == value and r.unit == unit)
    named, colon, _ = row.indicator.partition(": ")
    assert (named if colon else "") == label, row


@pytest.mark.parametrize(("province", "language", "title"), [
    ("Чавінь", "uk", "Довідка: Чавінь"),  # before: "Довідка: Tra Vinh"
    ("Tra Vinh", "vi", "Báo cáo tóm tắt: Trà Vinh"),
    ("tra vinh", "en", "Briefing: Tra Vinh"),  # its listed spelling
])
def test_a_province_brief_is_titled_as_asked(indexed: Assistant, province: str,
                                             language: str, title: str) -> None:
    briefing = indexed.brief(BriefRequest("", province=province, language=language))
    assert briefing.title == title and briefing.figures


@pytest.mark.parametrize(("language", "hai_phong"), [
    ("en", "Hai Phong"), ("vi", "Hải Phòng"), ("uk", "Хайфон"), ("ar", "هاي فونغ")])
def test_provinces_are_written_in_the_briefs_language(indexed: Assistant, language: str,
                                                      hai_phong: str) -> None:
    # Headings, the figures' province column and the coverage line (all were Latin).
    briefing = indexed.brief(BriefRequest("digital transformation", language=language))
    assert hai_phong in briefing.by_province
    assert hai_phong in {row.province for row in briefing.figures}
    coverage = next(x for x in to_markdown(briefing).splitlines()
                    if x.startswith(f"- {briefing.labels['provinces']}:"))
    assert hai_phong in coverage
