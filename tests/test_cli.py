"""The CLI through its installed entry point, as a user runs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from .conftest import clean_env, cli

Run = Callable[..., CompletedProcess[str]]


@pytest.mark.parametrize("command", [[], ["ingest"], ["ask"], ["sources"], ["remove"],
                                     ["reset"], ["serve"]])
def test_help(run_cli: Run, command: list[str]) -> None:
    result = run_cli(*command, "--help", check=True)
    assert "Usage: assistant" in result.stdout
    assert "Options" in result.stdout


def test_ingest_ask_sources_remove_reset(run_cli: Run, corpus_copy: Path) -> None:
    first = run_cli("ingest", str(corpus_copy), check=True)
    assert "5 added" in first.stdout
    again = run_cli("ingest", str(corpus_copy), check=True)
    assert again.stdout.startswith("Nothing to embed") and "5 unchanged" in again.stdout

    listing = json.loads(run_cli("sources", "--json", check=True).stdout)
    assert [d["source"] for d in listing] == sorted(p.name for p in corpus_copy.glob("*.txt"))
    assert {d["language"] for d in listing} == {"en", "uk", "fr", "ar"}
    assert all(d["chunks"] > 0 for d in listing)

    result = run_cli("ask", "--json", "How many hospital beds does Lang Son province have in "
                     "total?", check=True)
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "answer", "abstained", "citations", "retrieved"}
    assert "2862" in data["answer"] and data["abstained"] is False
    assert data["citations"][0]["source"] == "004_3160aee91d886ff2.txt"
    assert data["citations"][0]["url"].startswith("https://baolangson.vn/")
    assert data["retrieved"][0]["source"].endswith(".txt")

    plain = run_cli("ask", "--province", "Tra Vinh", "Combien de médecins pour 10 000 "
                    "habitants la province de Tra Vinh compte-t-elle ?", check=True)
    assert "9.6" in plain.stdout and "[1] Tra Vinh" in plain.stdout

    filtered = json.loads(run_cli("ask", "--json", "--lang", "fr", "hospital beds",
                                  check=True).stdout)
    assert {r["source"] for r in filtered["retrieved"]} == {"003_e434e3938b5c5e7a.txt"}

    removed = run_cli("remove", "003_e434e3938b5c5e7a.txt", check=True)
    assert "Removed" in removed.stdout
    missing = run_cli("remove", "003_e434e3938b5c5e7a.txt")
    assert missing.returncode == 1 and "not in the index" in missing.stderr
    assert len(json.loads(run_cli("sources", "--json", check=True).stdout)) == 4

    run_cli("reset", "--yes", check=True)
    assert "empty" in run_cli("sources", check=True).stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (["ask", ""], 2, "empty"),
    (["ask", "--since", "July 2025", "beds"], 2, "is not a date"),
    (["ask", "-k", "0", "beds"], 2, "Invalid value"),
    (["ingest", "/nonexistent/folder"], 2, "No such file or folder"),
    (["frobnicate"], 2, "No such command"),
])
def test_usage_errors(run_cli: Run, args: list[str], code: int, message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_python_dash_m_entry_point(cli_env: dict[str, str]) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "assistant", "--help"], env=cli_env,
                            capture_output=True, text=True, timeout=120, check=True)
    assert "ingest" in result.stdout


# -- issue 22 item 6: input errors, not "the documents don't answer this question" ---------

@pytest.mark.parametrize(("args", "message"), [
    (["😀😀🏥"], "no words"),
    (["?!?!"], "no words"),
    (["--lang", "xx", "hospital beds"], "--lang xx is not one of the configured languages"),
    (["--since", "2025-12-01", "--until", "2025-01-01", "hospital beds"], "swap the dates"),
    (["--source", "nope.txt", "hospital beds"], "--source nope.txt is not an indexed document"),
], ids=["emoji", "punctuation", "lang", "period", "source"])
def test_unusable_ask_options_exit_2(indexed: Any, args: list[str], message: str) -> None:
    result = cli(clean_env(indexed.settings.index_dir), "ask", *args)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_titles_cannot_drive_the_terminal_and_refusals_are_not_accepted(
        run_cli: Run, tmp_path: Path) -> None:
    corpus = tmp_path / "reports"
    corpus.mkdir()
    (corpus / "beds.txt").write_text(
        "Lang Son province has 2862 hospital beds in total in 2025.\n", encoding="utf-8")
    title = "\x1b]0;owned\x07\x1b[2J\x1b[31mBeds\x9b31m report\x1b[0m"
    (corpus / "metadata.yaml").write_text(json.dumps({"beds.txt": {"title": title}}),
                                          encoding="utf-8")
    run_cli("ingest", str(corpus), check=True)
    listing = run_cli("sources", check=True).stdout
    answer = run_cli("ask", "How many hospital beds does Lang Son have?", check=True).stdout
    for out in (listing, answer):
        assert "Beds report" in out, out
        assert not any(c in out for c in "\x1b\x07\x9b"), repr(out)
    broken = tmp_path / "minutes.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + b"not really a pdf\n" * 20)
    added = run_cli("add", str(broken))
    assert added.returncode == 1
    assert "Refused: minutes.pdf: corrupt or unreadable PDF" in added.stdout
    assert "Accepted" not in added.stdout, added.stdout
