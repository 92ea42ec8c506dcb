"""Figure, directive and problem extraction across the five languages (no model needed)."""

from __future__ import annotations

import pytest

from assistant.briefing.figures import cues, deadline, extract_figures, is_directive, is_problem
from assistant.config import Settings


@pytest.mark.parametrize(("sentence", "expected"), [
    # value, unit, target, concept
    ("In 2023, the facilities examined more than 1,647,334 patients, reaching 128.7%; "
     "treated 143,219 inpatients",
     [("1,647,334", "patients", None, "examinations"), ("128.7%", "%", None, ""),
      ("143,219", "inpatients", None, "inpatients")]),
    ("reaching 9.6 doctors/10,000 people and 28.45 hospital beds/10,000 people",
     [("9.6", "doctors/10,000 people", None, "doctors"),
      ("28.45", "hospital beds/10,000 people", None, "hospital_beds")]),
    ("le taux de paiements dématérialisés dans les établissements de soins a atteint 80 % et "
     "98 % des patients bénéficient d'un dossier médical électronique.",
     [("80 %", "%", None, "cashless_payment"), ("98 %", "%", None, "electronic_records")]),
    ("Медичне обстеження та лікування продовжували покращуватися, з більш ніж 4,1 мільйона "
     "візитів, що на 8% більше, ніж за аналогічний період 2024 року.",
     [("4,1", "мільйона візитів", None, "examinations"), ("8%", "%", None, "")]),
    ("يوجد في المقاطعة بأكملها 2862 سريرًا في المستشفيات (الهدف 2790 سريرًا )؛ 34 سريرًا في "
     "المستشفيات لكل 10000 شخص (الهدف 33.6 سريرًا)",
     [("2862", "سريرًا", "2790 سريرًا", "hospital_beds"),
      ("34", "سريرًا", "33.6 سريرًا", "hospital_beds")]),
    ("Tỷ lệ thanh toán không dùng tiền mặt đạt 75,5%, chỉ tiêu 80%.",
     [("75,5%", "%", "80%", "cashless_payment")]),
])
def test_figures_are_verbatim_with_unit_target_and_indicator(
        sentence: str, expected: list[tuple[str, str, str | None, str]]) -> None:
    figures = extract_figures(sentence)
    assert [(f.value, f.unit, f.target, f.concept) for f in figures] == expected
    for f in figures:
        assert f.value in sentence and f.indicator.rstrip("…") in sentence


@pytest.mark.parametrize("sentence", [
    "On the afternoon of June 13, in Ba Ria City, the department held a workshop.",
    "في صباح يوم 10 يوليو، عقدت إدارة الصحة مؤتمرا.",
    "la mise en œuvre de la résolution n° 72 du 9 septembre 2025 du Politburo",
    "Source: https://baolangson.vn/so-y-te-trien-khai-nhiem-vu-6-thang-cuoi-5052761.html",
    "maintaining reception at 3 focal points in 2025",
])
def test_dates_references_links_years_and_small_counts_are_not_figures(sentence: str) -> None:
    assert extract_figures(sentence) == []


def test_period_comes_from_the_sentence_or_the_report() -> None:
    assert extract_figures("In 2023, 143,219 inpatients were treated.")[0].period == "2023"
    assert extract_figures("143,219 inpatients were treated.", "2025")[0].period == "2025"


@pytest.mark.parametrize(("sentence", "directive", "problem"), [
    ("The Deputy Secretary requested smooth operation and thoroughly handle the backlog.",
     True, True),
    ("Mr. Tang Chi Thuong - Director of the Department of Health - affirmed that care is "
     "not a concern.", False, False),
    ("Il a demandé au ministère de la Santé de mener à bien les tâches restantes d'ici 2025.",
     True, False),
    ("Директор департаменту звернувся до центрів з проханням тісно співпрацювати.", True, False),
    ("Однак сектор стикається з багатьма труднощами: брак людських ресурсів.", False, True),
    ("طالب قادة وزارة الصحة الإدارات المعنية بمواصلة تعزيز روح المبادرة", True, False),
    ("Sở Y tế yêu cầu các bệnh viện khắc phục khó khăn về nhân lực.", True, True),
])
def test_directives_and_problems_in_every_language(sentence: str, directive: bool,
                                                   problem: bool) -> None:
    assert is_directive(sentence) is directive
    assert is_problem(sentence) is problem


def test_deadline_is_read_from_the_directive() -> None:
    assert deadline("mener à bien les tâches restantes d'ici 2025") == "d'ici 2025"
    assert deadline("complete the plan by 2026") == "by 2026"
    assert deadline("continue to improve quality") is None


def test_cue_file_covers_every_language() -> None:
    loaded = cues()
    assert loaded.lacking(Settings().languages) == []
    assert loaded.lacking(["en", "de"])[0] == "directive lacks de"
