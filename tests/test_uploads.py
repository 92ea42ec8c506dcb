"""Upload checks: bad files are refused with a reason and change nothing; good ones index."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from assistant import Assistant, Settings
from assistant.index.uploads import safe_name, stage, uploads_dir

from .conftest import CORPUS

FACT = ("In 2025 the Ninh Binh Department of Health opened 37 new malaria clinics in "
        "mountain communes.\nEach clinic serves about 4,000 residents.\n")


def _big(path: Path) -> tuple[Path, str]:
    with path.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    return path, "report.txt"


def _exe_as_txt(path: Path) -> tuple[Path, str]:
    path.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 200)
    return path, "minutes.txt"


def _exe(path: Path) -> tuple[Path, str]:
    path.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    return path, "setup.exe"


def _zip_bomb(path: Path) -> tuple[Path, str]:
    # A .docx is a zip: 300 MB of zeros deflate to ~300 KB, past the 200 MB default cap.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("word/document.xml", "w", force_zip64=True) as member:
        block = b"\x00" * (1 << 20)
        for _ in range(300):
            member.write(block)
    return path, "budget.docx"


def _fake_pdf(path: Path) -> tuple[Path, str]:
    path.write_text("not a pdf at all", encoding="utf-8")
    return path, "plan.pdf"


@pytest.mark.parametrize(("make", "reason"), [
    (_big, "larger than the 50 MB limit"),
    (_exe_as_txt, "a program"),
    (_exe, "unsupported file type '.exe'"),
    (_zip_bomb, "zip bomb"),
    (_fake_pdf, "does not look like a PDF"),
])
def test_bad_uploads_are_refused_and_nothing_is_staged(
        make: Callable[[Path], tuple[Path, str]], reason: str, tmp_path: Path,
        make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(data_dir=tmp_path / "data")
    good = tmp_path / "good.txt"
    good.write_text(FACT, encoding="utf-8")
    bad = make(tmp_path / "upload.bin")
    staged, report = stage([bad, (good, "good.txt")], settings, [])
    assert [name for name, _ in report.refused] == [bad[1]]
    assert reason in report.refused[0][1]
    # The good file in the same batch is unaffected.
    assert report.accepted == ["good.txt"]
    assert sorted(p.name for p in uploads_dir(settings).iterdir()) == ["good.txt"]
    assert staged == [uploads_dir(settings) / "good.txt"]


@pytest.mark.parametrize(("name", "safe"), [
    ("/abs/path/r\u00e9sum\u00e9 2025.md", "r\u00e9sum\u00e9 2025.md"),
    ("C:\\Users\\ann\\win.ini.txt", "win.ini.txt"),
    ("a;rm -rf $HOME.txt", "a_rm -rf _HOME.txt"),
    ("folder/.hidden.txt", "hidden.txt"),
])
def test_names_cannot_leave_the_uploads_folder(name: str, safe: str, tmp_path: Path,
                                               make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(data_dir=tmp_path / "data")
    src = tmp_path / "x"
    src.write_text(FACT, encoding="utf-8")
    staged, _report = stage([(src, name)], settings, [])
    assert safe_name(name) == safe
    assert staged == [uploads_dir(settings) / safe]
    assert staged[0].resolve().parent == uploads_dir(settings).resolve()


@pytest.mark.parametrize("name", ["..", "../", "   ", ".txt", "../../etc/passwd.txt",
                                  "..\\..\\windows\\win.ini.txt", "a/../../b.txt"])
def test_unusable_names_are_refused(name: str, tmp_path: Path,
                                    make_settings: Callable[..., Settings]) -> None:
    src = tmp_path / "x"
    src.write_text(FACT, encoding="utf-8")
    staged, report = stage([(src, name)], make_settings(data_dir=tmp_path / "data"), [])
    assert staged == [] and len(report.refused) == 1


def test_copy_of_an_indexed_file_is_a_duplicate(indexed: Assistant, tmp_path: Path,
                                                make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(data_dir=tmp_path / "data")
    copy = tmp_path / "renamed.txt"
    copy.write_bytes((CORPUS / "004_3160aee91d886ff2.txt").read_bytes())
    staged, report = stage([(copy, "renamed.txt")], settings, indexed.sources())
    assert staged == [] and report.refused == []
    assert report.duplicates == [("renamed.txt", "004_3160aee91d886ff2.txt")]


def test_upload_indexes_answers_and_deletes(tmp_path: Path,
                                            make_settings: Callable[..., Settings]) -> None:
    assistant = Assistant(make_settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "c"))
    src = tmp_path / "ninh_binh.txt"
    src.write_text(FACT, encoding="utf-8")
    seen: list[tuple[int, int]] = []
    report = assistant.add_files([(src, "ninh_binh.txt")],
                       lambda done, total, _name: seen.append((done, total)))
    assert report.accepted == ["ninh_binh.txt"] and report.ingest is not None
    assert report.ingest.added == ["ninh_binh.txt"]
    assert seen == [(0, 1), (1, 1)]
    answer = assistant.ask("How many malaria clinics did Ninh Binh open?")
    assert "37" in answer.answer and answer.citations[0].source == "ninh_binh.txt"

    again = assistant.add_files([(src, "copy.txt")])  # same bytes, another name
    assert again.duplicates == [("copy.txt", "ninh_binh.txt")] and again.ingest is None
    assert [r.source for r in assistant.sources()] == ["ninh_binh.txt"]

    # A rebuild starts over from the corpus folder (absent here) and the uploads.
    assert assistant.rebuild().added == ["ninh_binh.txt"]
    assert [r.source for r in assistant.sources()] == ["ninh_binh.txt"]

    assert assistant.remove("ninh_binh.txt")
    assert assistant.sources() == []
    assert not (uploads_dir(assistant.settings) / "ninh_binh.txt").exists()


def test_cli_add_checks_like_the_web_upload(
        tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]) -> None:
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "data")}
    good = tmp_path / "ninh_binh.txt"
    good.write_text(FACT, encoding="utf-8")
    bad, _ = _exe(tmp_path / "setup.exe")
    result = run_cli("add", str(good), str(bad), env=env)
    assert result.returncode == 1, result.stderr
    assert "Accepted: ninh_binh.txt" in result.stdout
    assert "Refused: setup.exe: unsupported file type '.exe'" in result.stdout
    again = run_cli("add", str(good), env=env, check=True)
    assert "Duplicate: ninh_binh.txt is already indexed as ninh_binh.txt" in again.stdout
    listed = json.loads(run_cli("sources", "--json", env=env, check=True).stdout)
    assert [d["source"] for d in listed] == ["ninh_binh.txt"]
