"""Answers a staff member can act on, through the whole pipeline on the bundled corpus: the
figure in the question's language with the quoted evidence under it, and "the report does
not say" (with what it does say) when the fact is missing."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answer.lead import load_answer_messages
from assistant.text import numbers
from assistant.text.languages import detect

from .test_lead import BEDS, BUDGET  # the same questions, in five languages

LANGUAGES = ("en", "vi", "uk", "fr", "ar")


@pytest.mark.parametrize("language", LANGUAGES)
def test_figure_lead_in_the_question_language_above_the_quoted_evidence(
        indexed: Assistant, language: str) -> None:
    answer = indexed.ask(BEDS[language])
    assert not answer.abstained
    lead, _, quote = answer.answer.partition("\n")
    assert lead.endswith("[1]") and "2862" in lead
    assert detect(lead, LANGUAGES) == language
    assert answer.span == "2862"
    # The lead's figures are the cited sentence's, exactly; the sentence is quoted under it.
    cited = answer.citations[0]
    assert any(s in quote for s in cited.sentences)
    assert numbers.keys(lead.replace("[1]", ""), language) <= numbers.keys(
        " ".join(cited.sentences), cited.language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_missing_fact_abstains_and_says_what_the_report_holds(
        indexed: Assistant, language: str) -> None:
    answer = indexed.ask(BUDGET[language])
    assert answer.abstained and answer.citations == []
    names = load_answer_messages(indexed.settings.prompts_dir, LANGUAGES).names
    assert names["budget"][language] in answer.answer
    assert names["hospital_beds"][language] in answer.answer
    assert detect(answer.answer, LANGUAGES) == language
    data = answer.to_dict()
    assert data["abstained"] is True
    assert data["nearest"] and data["nearest"][0]["provinces"] == ["Lang Son"]
    assert answer.answer.endswith("[1]")


def test_the_fact_of_another_province_is_not_given(indexed: Assistant) -> None:
    # Hai Phong's report has no hospital beds; Lang Son's has: no Lang Son figure for it.
    answer = indexed.ask("How many hospital beds does Hai Phong have?")
    assert answer.abstained
    assert "2862" not in answer.answer and "Hai Phong" in answer.answer


@pytest.mark.parametrize(("question", "named"), [
    ("How many hospitals are in Ben Tre province?", "Ben Tre"),
    ("Bến Tre có bao nhiêu bệnh viện?", "Bến Tre"),
    ("Скільки лікарень у провінції Бен Тре?", "Бен Тре"),
    ("Скільки лікарів у Бенче?", "Бенче"),
    ("كم عدد الأطباء في كا ماو؟", "كا ماو"),
    ("Combien de médecins à Can Tho ?", "Can Tho"),
])
def test_a_province_no_report_covers_is_named(indexed: Assistant, question: str,
                                              named: str) -> None:
    # Before, a Ukrainian spelling the gazetteer lacked fell through to "the Tra Vinh
    # report gives doctors and inpatients, not the indicator asked", as if asked about it.
    answer = indexed.ask(question)
    assert answer.abstained and named in answer.answer.partition("\n")[0]


@pytest.mark.parametrize(("question", "label"), [
    ("How many hospital beds per 10,000 people does Lang Son have?",
     "hospital beds per 10,000 people: 34"),
    ("Tỉnh Trà Vinh có bao nhiêu bác sĩ trên 10.000 dân?", "bác sĩ trên 10.000 dân: 9.6"),
])
def test_a_rate_per_10000_people_is_labelled_as_one(indexed: Assistant, question: str,
                                                    label: str) -> None:
    # Before: "hospital beds: 34", as if the province had 34 beds.
    assert label in indexed.ask(question).answer.partition("\n")[0]
