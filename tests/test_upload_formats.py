"""Uploads of the formats of issue 23: long names, images, spreadsheets."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Settings
from assistant.errors import DocumentError
from assistant.index.uploads import safe_name, stage, uploads_dir

FACT = "In 2025 the Ninh Binh Department of Health opened 37 new malaria clinics.\n"


@pytest.mark.parametrize(("name", "kept"), [
    ("b" * 156 + ".txt", "b" * 156 + ".txt"),  # 160 characters: refused before issue 23
    ("Báo cáo " * 24 + "2025.txt", "Báo cáo " * 24 + "2025.txt"),  # 248 bytes in UTF-8
    ("é" * 200 + ".xlsx", "é" * 125 + ".xlsx"),  # 405 bytes: the stem is shortened
])
def test_names_up_to_255_bytes_are_kept_and_longer_ones_keep_their_type(
        tmp_path: Path, name: str, kept: str, make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(data_dir=tmp_path / "data")
    src = tmp_path / "x"
    src.write_text(FACT, encoding="utf-8")
    assert safe_name(name) == kept.strip()
    if kept.endswith(".txt"):
        staged, report = stage([(src, name)], settings, [])
        assert report.refused == [] and staged == [uploads_dir(settings) / kept.strip()]
        assert staged[0].read_text(encoding="utf-8") == FACT


def _bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
        for _ in range(300):
            member.write(b"\x00" * (1 << 20))


@pytest.mark.parametrize(("name", "write", "reason"), [
    ("scan.png", lambda p: p.write_bytes(b"GIF89a" + b"\x00" * 100), "not look like a PNG"),
    ("photo.jpg", lambda p: p.write_text("hello", encoding="utf-8"), "not look like a JPG"),
    ("sheet.xlsx", _bomb, "zip bomb"),
    ("sheet.xlsx", lambda p: p.write_text("a,b", encoding="utf-8"), "not a valid .xlsx"),
])
def test_images_and_spreadsheets_are_checked_before_parsing(
        tmp_path: Path, name: str, write: Callable[[Path], object], reason: str,
        make_settings: Callable[..., Settings]) -> None:
    src = tmp_path / "upload"
    write(src)
    staged, report = stage([(src, name)], make_settings(data_dir=tmp_path / "data"), [])
    assert staged == [] and report.refused[0][0] == name and reason in report.refused[0][1]


@pytest.mark.parametrize("name", ["sheet.xlsx", "report.docx"])
def test_a_folder_file_obeys_the_same_unzipped_limit(tmp_path: Path, name: str) -> None:
    # One limit (Settings.ingest.max_unzipped_mb) for uploads and for files found in a folder; the
    # folder path once hard-coded 200 MB for .docx and had none for .xlsx.
    from assistant.ingest.loading import load

    path = tmp_path / name
    _bomb(path)  # 300 MB inflated
    with pytest.raises(DocumentError, match="more than 100 MB"):
        load(path, name, ["en"], max_unzipped_mb=100)
