"""Scanned pages made on the spot: report text in each of the five languages rendered at
300 DPI, with a slight skew, sensor noise and blur, wrapped into an image-only PDF.

Shared by the OCR tests and ``bench.ocr``; needs Pillow (with raqm, for Arabic shaping) and
a font covering Latin with Vietnamese marks, Cyrillic and Arabic (Debian's DejaVu Sans,
installed by ``make ocr``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

DPI = 300
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

# Each page's lines; every figure on them must come back exact.
PAGES: dict[str, list[str]] = {
    "vi": [
        "Báo cáo y tế tỉnh Lạng Sơn năm 2025",
        "Tỉnh có 2862 giường bệnh và 412 bác sĩ.",
        "Tỷ lệ tiêm chủng đầy đủ cho trẻ em đạt 97,4%.",
        "Trạm y tế xã Hữu Lũng khám 18.230 lượt người.",
    ],
    "uk": [
        "Звіт про охорону здоров'я Полтавської області",
        "В області працює 1946 лікарів і 37 лікарень.",
        "Охоплення щепленнями дітей становить 91,2%.",
        "Центр у Кременчуці прийняв 6415 пацієнтів.",
    ],
    "fr": [
        "Rapport sanitaire de la province de Kindia",
        "La province compte 583 infirmières et 29 centres.",
        "La couverture vaccinale des enfants atteint 88,5 %.",
        "L'hôpital régional a reçu 12 764 patients en mai.",
    ],
    "en": [
        "Health report of the Northern district, 2025",
        "The district has 734 hospital beds and 58 clinics.",
        "Measles vaccination coverage reached 95.1 percent.",
        "The mobile team screened 4,906 residents in June.",
    ],
    "ar": [
        "تقرير الصحة في محافظة إربد لعام 2025",
        "يوجد في المحافظة 1530 سريرا و 44 مركزا صحيا.",
        "بلغت نسبة التطعيم للأطفال 93 بالمئة.",
        "استقبل المستشفى 8125 مريضا في شهر أيار.",
    ],
}


def render_page(lines: list[str], seed: int = 0, skew: float = 1.2, noise: float = 18.0,
                rtl: bool = False) -> Any:
    """One grey-scale page (a PIL image): the lines at 12 pt, rotated ``skew`` degrees,
    with Gaussian noise of ``noise`` grey levels, a little blur and some specks."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(seed)
    width, height = int(6.5 * DPI), int(4.0 * DPI)
    page = Image.new("L", (width, height), 250)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), size=int(12 / 72 * DPI))
    for i, line in enumerate(lines):
        y = int(0.5 * DPI) + i * int(0.33 * DPI)
        if rtl:
            draw.text((width - int(0.5 * DPI), y), line, font=font, fill=20, anchor="ra",
                      direction="rtl", language="ar")
        else:
            draw.text((int(0.5 * DPI), y), line, font=font, fill=20)
    page = page.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=250, expand=False)
    page = page.filter(ImageFilter.GaussianBlur(0.6))
    # Seeded noise (Pillow's effect_noise is not): the same page every run.
    grain = np.random.default_rng(seed).normal(128, noise, (height, width))
    noisy = Image.fromarray(np.clip(grain, 0, 255).astype(np.uint8), "L")
    page = Image.blend(page, noisy, 0.12)
    pixels = page.load()
    for _ in range(width * height // 4000):  # dust specks
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = 0
    return page


def scanned_pdf(path: Path, pages: list[Any]) -> Path:
    """Wrap page images into a PDF with no text layer, as a scanner does."""
    first, *rest = [p.convert("L") for p in pages]
    first.save(path, "PDF", resolution=DPI, save_all=True, append_images=rest)
    return path


def page_image(language: str, seed: int = 0) -> Any:
    return render_page(PAGES[language], seed=seed, rtl=language == "ar")
