from __future__ import annotations

import pytest

from assistant.text.anchors import find_provinces, find_terms
from assistant.text.languages import detect, normalize, strip_accents, tokenize

LANGS = ["en", "vi", "uk", "fr", "ar"]


@pytest.mark.parametrize(("text", "expected"), [
    ("How many hospital beds are there?", "en"),
    ("Tỉnh Lạng Sơn có bao nhiêu giường bệnh?", "vi"),
    ("Скільки лікарів у Хайфоні?", "uk"),
    ("Combien de médecins pour 10 000 habitants ?", "fr"),
    ("كم عدد الأسرة في المستشفيات؟", "ar"),
    ("2025 — 12/13", "und"),
])
def test_detect_short_questions(text: str, expected: str) -> None:
    assert detect(text, LANGS) == expected


@pytest.mark.parametrize(("raw", "folded"), [
    ("أسرّة", "اسره"),            # hamza on alef, shadda, ta marbuta
    ("مستشفى", "مستشفي"),         # alef maqsura
    ("٢٠٢٥", "2025"),             # Arabic-Indic digits
    ("ЛІКАРІВ", "лікарів"),
    ("Ｆｕｌｌ", "full"),            # NFKC
])
def test_normalize(raw: str, folded: str) -> None:
    assert normalize(raw) == folded


def test_strip_accents_only_touches_latin() -> None:
    assert strip_accents("Lạng Sơn, Đà Nẵng") == "Lang Son, Da Nang"
    assert strip_accents("й ї") == "й ї"  # Cyrillic letters are not Latin diacritics


def test_tokenize_keeps_vietnamese_and_figures() -> None:
    tokens = tokenize("Tỉnh có 2.862 giường; 9,6 bác sĩ")
    assert "giường" in tokens and "tỉnh" in tokens
    assert {"2.862", "2862", "9,6", "9.6"} <= set(tokens)
    assert "96" not in tokens  # 9,6 is nine point six, never ninety-six


@pytest.mark.parametrize(("text", "province"), [
    ("beds in Lang Son", "Lang Son"),
    ("giường bệnh ở Lạng Sơn", "Lang Son"),
    ("лікарі в Хайфоні та Хайфон", "Hai Phong"),
    ("مقاطعة لانج سون", "Lang Son"),
    ("le budget de Da Nang", "Da Nang"),
    # Ukrainian: the concatenated spelling, declined, and one written syllable by syllable.
    ("Скільки лікарень у Бенче?", "Ben Tre"),
    ("лікарні в Бен Тре", "Ben Tre"),
    ("семінар департаментів охорони здоров'я Хошиміна, Біньзионга та Баріа-Вунгтау",
     "Binh Duong"),
    ("Скільки лікарів у провінції Ка Мау?", "Ca Mau"),
    ("вакцинація в Куангнамі", "Quang Nam"),
    ("كم عدد المستشفيات في بن تري؟", "Ben Tre"),
    ("التأمين الصحي في مقاطعة كوانغ نام", "Quang Nam"),
    # Arabic writes "and", "in" onto the name.
    ("لانغ سون وهاي فونغ", "Hai Phong"),
    ("قارن بين لانغ سون ودا نانغ", "Da Nang"),
    ("في هو تشي منه وبينه دونغ وبا ريا - فونغ تاو", "Ba Ria - Vung Tau"),
])
def test_provinces_in_every_script(text: str, province: str) -> None:
    assert province in find_provinces(text)


@pytest.mark.parametrize(("text", "provinces"), [
    # "Lạng Sơn là" folds to "lang son la": "Son La" overlaps the name just read.
    ("Tỷ lệ bao phủ bảo hiểm y tế của tỉnh Lạng Sơn là bao nhiêu?", ["Lang Son"]),
    ("Sơn La có bao nhiêu giường bệnh?", ["Son La"]),
    ("Lang Son and Son La", ["Lang Son", "Son La"]),
])
def test_overlapping_province_names_are_read_once(text: str, provinces: list[str]) -> None:
    assert find_provinces(text) == provinces


@pytest.mark.parametrize("text", [
    "The workshop discussed emergency care and digital records.",
    "Bão hình thành trên Thái Bình Dương",  # the Pacific Ocean, not Thai Binh nor Binh Duong
])
def test_no_province_in_unrelated_text(text: str) -> None:
    assert find_provinces(text) == []


@pytest.mark.parametrize("text", [
    "How many hospital beds?", "giường bệnh", "лікарняних ліжок", "lits d'hôpitaux",
    "2862 سريرًا في المستشفيات",
])
def test_indicator_terms_across_languages(text: str) -> None:
    assert "hospital_beds" in find_terms(text)
