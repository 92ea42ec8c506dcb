"""Synthetic material for the benches: generated report text in five languages, questions,
and collections of chunks whose vectors are recombined from a pool of real embeddings.
"""

from __future__ import annotations

import functools
import json
import math
import random
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.config import PROJECT_ROOT, Settings

LANGUAGES = Settings().languages  # the configured languages
LANGS = ("en", "vi", "fr", "uk", "ar")
LANG_WEIGHTS = (0.30, 0.25, 0.15, 0.15, 0.15)  # synthetic collections' language mix
NOISE_SIGMA = 0.006  # per dimension: a noise vector of norm ~0.12 on unit-ish vectors

_VI_NAMES = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Minh Tuấn", "Phạm Quốc Bảo",
             "Hoàng Thị Mai", "Đỗ Thanh Sơn", "Vũ Ngọc Anh"]
_VI_TEMPLATES = [
    "Trong {k} tháng đầu năm {y}, ngành y tế tỉnh {p} đã khám chữa bệnh cho {n} lượt "
    "người, đạt {pct}% kế hoạch năm.",
    "Tỷ lệ người dân tham gia bảo hiểm y tế của tỉnh {p} đạt {pct}%, tăng {d}% so với "
    "cùng kỳ năm trước.",
    "Toàn tỉnh {p} hiện có {n} giường bệnh, đạt {x} giường bệnh trên 10.000 dân.",
    "Số bác sĩ trên 10.000 dân của {p} đạt {x}, số dược sĩ đại học trên 10.000 dân đạt {d}.",
    "Tỷ lệ trẻ em dưới 1 tuổi được tiêm chủng đầy đủ các loại vắc xin tại {p} đạt {pct}%.",
    "Sở Y tế {p} đã tổ chức hội nghị sơ kết công tác y tế {k} tháng đầu năm {y} và triển "
    "khai nhiệm vụ trọng tâm trong thời gian tới.",
    "Ông {name}, Giám đốc Sở Y tế {p}, cho biết ngành sẽ tiếp tục đẩy mạnh chuyển đổi số và "
    "triển khai hồ sơ sức khỏe điện tử cho {pct}% dân số.",
    "Trong năm {y}, tỉnh {p} ghi nhận {n} ca mắc sốt xuất huyết, giảm {d}% so với năm "
    "trước, không có trường hợp tử vong.",
    "Tỷ lệ xã, phường đạt Bộ tiêu chí quốc gia về y tế xã của tỉnh {p} đạt {pct}%.",
    "Các bệnh viện tuyến tỉnh của {p} đã triển khai thành công {m} kỹ thuật mới, trong đó "
    "có {d} kỹ thuật chuyên sâu.",
    "Đoàn kiểm tra an toàn thực phẩm đã kiểm tra {n} cơ sở, phát hiện {m} cơ sở vi phạm và "
    "xử phạt {d} triệu đồng.",
    "Trung tâm Kiểm soát bệnh tật tỉnh {p} đã giám sát chặt chẽ tình hình dịch bệnh, không "
    "để dịch lớn xảy ra trên địa bàn.",
    "Tỷ lệ trạm y tế xã có bác sĩ làm việc đạt {pct}%, {m} trạm y tế đã được cải tạo, "
    "nâng cấp trong năm {y}.",
    "Ngành y tế {p} vẫn thiếu nhân lực, đặc biệt là bác sĩ có trình độ chuyên môn cao ở "
    "tuyến cơ sở, với {m} bác sĩ nghỉ việc trong năm {y}.",
    "Tổng số lượt khám bệnh bằng thẻ bảo hiểm y tế đạt {n} lượt, chi phí được quỹ thanh "
    "toán là {d} tỷ đồng.",
    "Phó Chủ tịch UBND tỉnh {name} đề nghị Sở Y tế {p} tập trung hoàn thiện tổ chức bộ máy "
    "sau sáp nhập trước ngày {dd}/{mm}/{y}.",
    "Tỷ lệ suy dinh dưỡng thể thấp còi ở trẻ em dưới 5 tuổi của {p} giảm còn {x}%.",
    "Đã có {m} cơ sở khám chữa bệnh tại {p} triển khai thanh toán viện phí không dùng "
    "tiền mặt, đạt {pct}%.",
]
_TITLES = {
    "en": "{p} Department of Health: review of the first {k} months of {y}",
    "fr": "{p} : bilan du secteur de la santé pour les {k} premiers mois de {y}",
    "uk": "Департамент охорони здоров'я {p}: підсумки перших {k} місяців {y} року",
    "ar": "إدارة الصحة في {p}: مراجعة الأشهر {k} الأولى من عام {y}",
    "vi": "Sở Y tế {p}: sơ kết công tác y tế {k} tháng đầu năm {y}",
}
_QUESTIONS = {
    "en": ["How many hospital beds does {p} have?",
           "What was the health insurance coverage rate in {p} in 2025?",
           "How many doctors per 10,000 inhabitants are there in {p}?",
           "How many medical examinations were performed in {p} in the first six months?",
           "What share of communes in {p} met the national health criteria?",
           "How many dengue fever cases were recorded in {p} last year?",
           "What percentage of children were fully vaccinated in {p}?",
           "How many new medical techniques did hospitals introduce this year?"],
    "fr": ["Combien de lits d'hôpital la province de {p} compte-t-elle ?",
           "Quel était le taux de couverture de l'assurance maladie à {p} en 2025 ?",
           "Combien de médecins pour 10 000 habitants à {p} ?",
           "Combien de consultations ont été réalisées à {p} au premier semestre ?",
           "Quelle proportion des communes de {p} répond aux critères nationaux de santé ?",
           "Combien de cas de dengue ont été enregistrés à {p} l'an dernier ?",
           "Quel pourcentage d'enfants a été entièrement vacciné à {p} ?",
           "Combien de nouvelles techniques médicales les hôpitaux ont-ils introduites ?"],
    "uk": ["Скільки лікарняних ліжок є в провінції {p}?",
           "Яким був рівень охоплення медичним страхуванням у {p} у 2025 році?",
           "Скільки лікарів припадає на 10 000 жителів у {p}?",
           "Скільки медичних оглядів було проведено в {p} за перші шість місяців?",
           "Яка частка комун у {p} відповідає національним критеріям охорони здоров'я?",
           "Скільки випадків лихоманки денге зареєстровано в {p} минулого року?",
           "Який відсоток дітей у {p} отримав повну вакцинацію?",
           "Скільки нових медичних методик запровадили лікарні цього року?"],
    "ar": ["كم عدد أسرة المستشفيات في مقاطعة {p}؟",
           "ما هي نسبة التغطية بالتأمين الصحي في {p} في عام 2025؟",
           "كم عدد الأطباء لكل 10000 نسمة في {p}؟",
           "كم عدد الفحوصات الطبية التي أجريت في {p} خلال الأشهر الستة الأولى؟",
           "ما نسبة البلديات في {p} التي استوفت المعايير الوطنية للصحة؟",
           "كم عدد حالات حمى الضنك المسجلة في {p} العام الماضي؟",
           "ما هي نسبة الأطفال الذين تلقوا التطعيم الكامل في {p}؟",
           "كم عدد التقنيات الطبية الجديدة التي أدخلتها المستشفيات هذا العام؟"],
    "vi": ["Tỉnh {p} có bao nhiêu giường bệnh?",
           "Tỷ lệ bao phủ bảo hiểm y tế của {p} năm 2025 là bao nhiêu?",
           "{p} có bao nhiêu bác sĩ trên 10.000 dân?",
           "Trong 6 tháng đầu năm, {p} đã khám chữa bệnh cho bao nhiêu lượt người?",
           "Bao nhiêu phần trăm số xã của {p} đạt Bộ tiêu chí quốc gia về y tế?",
           "Năm ngoái {p} ghi nhận bao nhiêu ca sốt xuất huyết?",
           "Tỷ lệ trẻ em được tiêm chủng đầy đủ ở {p} là bao nhiêu?",
           "Các bệnh viện đã triển khai bao nhiêu kỹ thuật mới trong năm nay?"],
}
_NUMBER = re.compile(r"\d+")


def _script_class(alias: str) -> str:
    if re.search("[\u0400-\u04ff]", alias):
        return "uk"
    if re.search("[\u0600-\u06ff]", alias):
        return "ar"
    return "vi" if any(ord(ch) > 127 for ch in alias) else "latin"


@functools.lru_cache(maxsize=1)
def province_forms() -> dict[str, dict[str, list[str]]]:
    """Province -> language -> spellings, from the assistant's gazetteer."""
    raw = yaml.safe_load((PROJECT_ROOT / "assistant" / "data" / "provinces.yaml").read_text(
        encoding="utf-8"))
    forms: dict[str, dict[str, list[str]]] = {}
    for name, aliases in raw.items():
        if name.startswith("_"):  # not a province (e.g. _not_places)
            continue
        by: dict[str, list[str]] = defaultdict(list)
        by["latin"].append(name)
        for alias in aliases or []:
            by[_script_class(alias)].append(alias)
        entry = {"en": by["latin"], "fr": by["latin"], "uk": by["uk"], "ar": by["ar"],
                 "vi": by["vi"] or by["latin"]}
        forms[name] = entry
    return forms


def province_name(province: str, lang: str) -> str | None:
    spellings = province_forms()[province][lang]
    return spellings[0] if spellings else None


def provinces_for(lang: str) -> list[str]:
    return [p for p in province_forms() if province_name(p, lang)]


def perturb_numbers(text: str, rng: random.Random, p: float = 0.7) -> str:
    """Vary the figures of a sentence (years stay plausible)."""
    def repl(match: re.Match[str]) -> str:
        digits = match.group()
        if rng.random() > p:
            return digits
        if len(digits) == 4 and digits.startswith("20"):
            return str(rng.choice((2023, 2024, 2025)))
        if len(digits) == 1:
            return str(rng.randint(1, 9))
        return str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))
    return _NUMBER.sub(repl, text)


def swap_province(text: str, lang: str, target: str) -> str:
    """Replace every known spelling of any province (in ``lang``) by ``target``'s."""
    new = province_name(target, lang)
    if not new:
        return text
    for province, by_lang in province_forms().items():
        if province == target:
            continue
        for alias in sorted(by_lang[lang], key=len, reverse=True):
            if len(alias) > 3 and alias in text:
                text = text.replace(alias, new)
    return text


def vietnamese_sentence(rng: random.Random, province: str) -> str:
    template = rng.choice(_VI_TEMPLATES)
    return template.format(
        p=province_name(province, "vi"), k=rng.choice((3, 6, 9)), y=rng.choice((2023, 2024, 2025)),
        n=f"{rng.randint(10_000, 2_000_000):,}".replace(",", "."), pct=rng.randint(60, 99),
        d=rng.randint(2, 40), x=f"{rng.uniform(5, 40):.1f}".replace(".", ","),
        m=rng.randint(5, 300), name=rng.choice(_VI_NAMES), dd=rng.randint(1, 28),
        mm=rng.randint(1, 12))


def corpus_sentences() -> dict[str, list[str]]:
    """Sentences of the bundled reports by language, split as the chunker splits them."""
    from assistant.ingest.loading import load
    from assistant.text.sentences import split_sentences

    out: dict[str, list[str]] = defaultdict(list)
    for path in sorted((PROJECT_ROOT / "corpus").glob("*.txt")):
        doc = load(path, path.name, LANGUAGES)
        for line in doc.content_lines:
            out[doc.language].extend(split_sentences(line, doc.language))
    return dict(out)


def make_sentence(lang: str, base: dict[str, list[str]], province: str,
                  rng: random.Random) -> str:
    if lang == "vi":
        return vietnamese_sentence(rng, province)
    sentence = rng.choice(base[lang])
    if rng.random() < 0.8:
        sentence = swap_province(sentence, lang, province)
    return perturb_numbers(sentence, rng)


def write_corpus(folder: Path, n_docs: int, seed: int) -> list[tuple[str, str]]:
    """Copy the bundled reports and write ``n_docs`` generated ones; (sentence, lang) used."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for path in (PROJECT_ROOT / "corpus").iterdir():
        if path.is_file():
            shutil.copy2(path, folder / path.name)
    base = corpus_sentences()
    used: list[tuple[str, str]] = [(s, lang) for lang, ss in base.items() for s in ss]
    for i in range(n_docs):
        lang = LANGS[i % len(LANGS)]
        province = rng.choice(provinces_for(lang))
        title = _TITLES[lang].format(p=province_name(province, lang), k=rng.choice((3, 6, 9)),
                                     y=rng.choice((2023, 2024, 2025)))
        lines = [title]
        seen: set[str] = set()
        for _ in range(rng.randint(3, 5)):
            paragraph = []
            for _ in range(rng.randint(2, 3)):
                sentence = make_sentence(lang, base, province, rng)
                if sentence not in seen:
                    seen.add(sentence)
                    paragraph.append(sentence)
                    used.append((sentence, lang))
            if paragraph:
                lines.append(" ".join(paragraph))
        lines.append(f"Source: https://reports.example.org/{lang}/{i:03d}-{seed}.html")
        (folder / f"gen_{i:03d}_{lang}.txt").write_text("\n\n".join(lines) + "\n",
                                                        encoding="utf-8")
    return used


def make_queries(n: int, seed: int) -> list[tuple[str, str]]:
    """The eval questions (all five languages) topped up with templated ones."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    cases = PROJECT_ROOT / "eval" / "cases.jsonl"
    if cases.is_file():
        for line in cases.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                out.append((case["question"], case.get("question_lang", "und")))
    rng.shuffle(out)
    out = out[:n]
    i = 0
    while len(out) < n:
        lang = LANGS[i % len(LANGS)]
        template = rng.choice(_QUESTIONS[lang])
        province = rng.choice(provinces_for(lang))
        out.append((template.format(p=province_name(province, lang)), lang))
        i += 1
    rng.shuffle(out)
    return out




def build_pool(used: list[tuple[str, str]], size: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    by_lang: dict[str, list[str]] = defaultdict(list)
    for sentence, lang in dict.fromkeys(used):
        by_lang[lang].append(sentence)
    texts: list[str] = []
    langs: list[str] = []
    share = math.ceil(size / len(LANGS))
    for lang in LANGS:
        pick = by_lang[lang][:]
        rng.shuffle(pick)
        for sentence in pick[:share]:
            texts.append(sentence)
            langs.append(lang)
    return texts[:size], langs[:size]


def synthetic_documents(pool_texts: list[str], pool_langs: list[str], pool_vecs: np.ndarray,
                        size: int, per_doc: int, seed: int
                        ) -> Iterator[tuple[str, str, str, list[str], list[str], np.ndarray]]:
    """(source, lang, title, provinces, chunk texts, vectors) until ``size`` chunks.

    Like a real report, each document is about one province: the province names in its
    sentences are rewritten to that province, so a province filter selects a realistic
    share of the collection (about one in the number of provinces), not all of it.
    """
    from assistant.text.anchors import find_provinces  # the gazetteer the searcher uses

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(pool_langs):
        by_lang[lang].append(i)
    langs = [lang for lang in LANGS if by_lang[lang]]
    weights = [LANG_WEIGHTS[LANGS.index(lang)] for lang in langs]
    localised: dict[tuple[int, str], tuple[str, list[str]]] = {}

    def sentence(i: int, province: str) -> tuple[str, list[str]]:
        if (i, province) not in localised:
            text = swap_province(pool_texts[i], pool_langs[i], province)
            localised[i, province] = (text, find_provinces(text))
        return localised[i, province]

    made = 0
    doc = 0
    while made < size:
        lang = rng.choices(langs, weights)[0]
        province = rng.choice(provinces_for(lang))
        n = min(per_doc, size - made)
        texts: list[str] = []
        vecs = np.empty((n, pool_vecs.shape[1]), dtype=np.float32)
        doc_provinces: set[str] = {province}
        seen: set[str] = set()
        while len(texts) < n:
            idx = rng.sample(by_lang[lang], min(len(by_lang[lang]), rng.randint(4, 7)))
            if rng.random() < 0.1:  # a sentence in another language (quotes, mixed reports)
                other = rng.choice([x for x in langs if x != lang])
                idx[rng.randrange(len(idx))] = rng.choice(by_lang[other])
            parts = [sentence(i, province) for i in idx]
            text = " ".join(perturb_numbers(t, rng, 0.5) for t, _ in parts)
            if text in seen:
                continue
            seen.add(text)
            vec = pool_vecs[idx].mean(axis=0) + nrng.normal(0, NOISE_SIGMA, pool_vecs.shape[1])
            vecs[len(texts)] = vec / np.linalg.norm(vec)
            texts.append(text)
            for _, found in parts:
                doc_provinces.update(found)
        title = _TITLES[lang].format(p=province_name(province, lang), k=rng.choice((3, 6, 9)),
                                     y=rng.choice((2023, 2024, 2025)))
        yield (f"synthetic/{doc:05d}_{lang}.txt", lang, title, sorted(doc_provinces),
               texts, vecs)
        made += n
        doc += 1


def commit_many(store: Any, records: list[Any], texts: list[str]) -> None:
    """``ChromaStore.commit_document`` for many records at once (one upsert)."""
    if records:
        store.docs.upsert(ids=[r.source for r in records], embeddings=[[1.0]] * len(records),
                          metadatas=[r.to_metadata() for r in records], documents=texts)


