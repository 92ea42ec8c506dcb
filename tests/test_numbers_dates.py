"""The one number rule and the one date codec, in all five languages."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.errors import InputError
from assistant.text import dates, numbers


@pytest.mark.parametrize(("text", "language", "value"), [
    ("9.6 doctors per 10,000 people", "en", "9.6"),
    ("9,6 médecins pour 10 000 habitants", "fr", "9.6"),
    ("9,6 bác sĩ trên 10.000 dân", "vi", "9.6"),
    ("9,6 лікаря на 10 000 населення", "uk", "9.6"),
    ("9.6 طبيب لكل 10000 نسمة", "ar", "9.6"),
    ("٩٫٦ طبيب", "ar", "9.6"),
    ("1,647,334 people", "en", "1647334"),
    ("1 647 334 personnes", "fr", "1647334"),
    ("1\u202f647\u202f334 personnes", "fr", "1647334"),
    ("1.647.334 người", "vi", "1647334"),
    ("1 647 334 осіб", "uk", "1647334"),
    ("١٬٦٤٧٬٣٣٤ شخص", "ar", "1647334"),
    ("2,862 beds", "en", "2862"),
    ("2.862 giường bệnh", "vi", "2862"),
    ("٢٨٦٢ سريرًا", "ar", "2862"),
    ("0.125 of the budget", "en", "0.125"),
    ("12/13 targets", "en", "12/13"),
])
def test_one_value_per_figure(text: str, language: str, value: str) -> None:
    assert value in numbers.keys(text, language)


@pytest.mark.parametrize(("a", "la", "b", "lb"), [
    ("9.6", "en", "96", "en"),           # a decimal is never its digits run together
    ("9,6", "fr", "96", "fr"),
    ("2,862", "fr", "2862", "en"),       # in French 2,862 is two point eight six two
    ("14.8%", "en", "-14.8%", "en"),     # the sign of a change is kept
])
def test_different_figures_stay_apart(a: str, la: str, b: str, lb: str) -> None:
    assert numbers.keys(a, la) != numbers.keys(b, lb)


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("coverage rose to 96 %", "en", "coverage rose to 96%"),
    ("taux de 71,4 %", "fr", "taux de 71.4%"),
    ("وبلغ المعدل 71.4٪", "ar", "وبلغ المعدل 71.4%"),
    ("зниження на -3,5%", "uk", "зниження на -3.5%"),
    ("tỷ lệ 98,5%", "vi", "tỷ lệ 98.5%"),
])
def test_percentages_keep_their_sign(text: str, language: str, expected: str) -> None:
    assert numbers.canonical(text, language) == expected
    assert all(f.percent for f in numbers.figures(text, language))


def test_spans_are_verbatim() -> None:
    text = "có 2.862 giường (mục tiêu 2.790 giường)"
    assert [f.text for f in numbers.figures(text, "vi")] == ["2.862", "2.790"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2025-07-10", date(2025, 7, 10)),
    ("20250710", date(2025, 7, 10)),
    (20250710, date(2025, 7, 10)),
    (date(2025, 7, 10), date(2025, 7, 10)),
    ("", None),
    (None, None),
])
def test_date_codec(value: object, expected: date | None) -> None:
    assert dates.parse(value) == expected
    if expected:
        assert dates.to_int(value) == 20250710
        assert dates.iso(value) == "2025-07-10"


@pytest.mark.parametrize("value", ["10/07/2025x", "yesterday", "2025-13-40"])
def test_bad_dates_say_so(value: str) -> None:
    with pytest.raises(InputError, match="is not a date like 2025-07-10"):
        dates.parse(value, "From")


@pytest.mark.parametrize(("text", "expected"), [
    ("Theo buổi làm việc ngày 4/11/2025, tỷ lệ bao phủ là bao nhiêu?", {(11, 4)}),
    ("Hội nghị sáng 10/7 được kết nối với bao nhiêu điểm cầu?", {(7, 10)}),
    ("Ngày 4 tháng 11 năm 2025", {(11, 4)}),
    ("the workshop of June 13, 2025", {(6, 13)}),
    ("la séance de travail du 4 novembre 2025", {(11, 4)}),
    ("на робочій зустрічі 4 листопада 2025 року", {(11, 4)}),
    ("حسب جلسة العمل في ٤ نوفمبر ٢٠٢٥", {(11, 4)}),
    # Fractions are not dates: "4/6 of the key tasks", "12/13 targets", "3/3".
    ("completed 4/6 of the key tasks and 12/13 targets, 3/3 in 2023", set()),
    ("How many beds does Lang Son have?", set()),
])
def test_days_a_question_names(text: str, expected: set[tuple[int, int]]) -> None:
    assert dates.days_in(text) == expected
