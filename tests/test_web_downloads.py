"""Files the web app offers or receives (briefings, audit exports, uploads) do not outlive
it, and one person's download is never another's: a real server through gradio_client."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.access import User
from assistant.web.app import serve
from assistant.web.auth import add_user
from assistant.web.briefing import make_brief
from assistant.web.downloads import Downloads

from .conftest import free_port

ADMIN = ("ann", "admin-password")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_two_briefs_on_one_topic_never_share_a_file(indexed: Assistant) -> None:
    # Gradio copies the file after the handler returns: one name for both would hand the
    # first reader whatever the second one's brief holds (documents it may not read).
    downloads = Downloads()
    _, a = make_brief(indexed, "digital transformation", "(any)", "", "", "en", "md",
                      downloads, User("ann", "admin"))
    _, b = make_brief(indexed, "digital transformation", "(any)", "", "", "fr", "md",
                      downloads, User("sam"))
    assert a and b and a != b and Path(a).name == Path(b).name  # the topic's own name
    assert Path(a).read_text(encoding="utf-8") != Path(b).read_text(encoding="utf-8")
    downloads.close()
    assert not downloads.folder.exists()


def test_old_downloads_are_pruned(tmp_path: Path) -> None:
    import os

    downloads = Downloads(keep_minutes=1)
    old = downloads.new("old.md")
    old.write_text("x", encoding="utf-8")
    os.utime(old.parent, (0, 0))  # written long ago
    fresh = downloads.new("fresh.md")
    assert not old.parent.exists() and fresh.parent.exists()
    downloads.close()


@pytest.mark.parametrize("killed", [True, False])
def test_a_killed_apps_downloads_go_at_the_next_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed: bool) -> None:
    # SIGKILL (out of memory, a service manager's last resort) leaves no chance to clean
    # up: the next app removes the folder, unless its process still runs.
    import signal
    import subprocess
    import sys

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code = ("import os, signal, sys, tempfile; tempfile.tempdir = sys.argv[1]\n"
            "from assistant.web.downloads import Downloads\n"
            "d = Downloads(); d.new('brief.md').write_text('x'); print(d.folder, flush=True)\n"
            f"os.kill(os.getpid(), signal.SIGKILL) if {killed} else sys.stdin.read()\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    left = Path(proc.stdout.readline().strip())
    try:
        if killed:
            assert proc.wait(timeout=60) == -signal.SIGKILL
        assert _files(left)
        downloads = Downloads()
        assert left.exists() is not killed
        assert downloads.folder.exists()
        downloads.close()
    finally:
        proc.communicate("")


@pytest.mark.slow
def test_downloads_and_uploads_are_gone_when_the_server_stops(
        indexed: Assistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gradio_client import Client, handle_file

    temp, cache = tmp_path / "tmp", tmp_path / "gradio"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    add_user(tmp_path / "users.yaml", *ADMIN, "admin")
    data = tmp_path / "data"
    upload = tmp_path / "minutes.txt"
    upload.write_text("Lang Son: 12 ambulances were bought in 2025.\n", encoding="utf-8")
    assistant = Assistant(Settings(index_dir=tmp_path / "index",
                                   corpus_dir=indexed.settings.corpus_dir,
                                   data_dir=data, users_file=tmp_path / "users.yaml"))
    port = free_port()
    server = serve(assistant, host="127.0.0.1", port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", auth=ADMIN, verbose=False,
                        download_files=str(tmp_path / "client"))
        status, _, _ = client.predict([handle_file(str(upload))], api_name="/upload")
        assert "minutes.txt" in status
        _, brief = client.predict("digital transformation", "(any)", "", "", "en", "md",
                                  api_name="/brief")
        status, audit = client.predict("", "", "", "(any)", api_name="/audit_export")
        assert "exported" in status
        assert brief and audit  # downloaded by the client, out of the server's folders
        offered = [p.name for p in _files(temp) + _files(cache)]
        assert any(n.endswith(".md") for n in offered), offered
        assert any(n.endswith(".csv") for n in offered), offered
    finally:
        server.close()
    assert _files(temp) == []
    # Gradio leaves its multipart staging file of an upload behind, emptied (moved out).
    assert [p for p in _files(cache) if p.stat().st_size] == []
    # Nor the app's own folders (gradio_client leaves empty ones of its own there).
    assert [p.name for p in temp.iterdir() if len(p.name) != 40] == []
    # The uploaded report is kept where the index keeps it, not in a temporary folder.
    assert [p.name for p in _files(data) if p.name == "minutes.txt"]


@pytest.mark.slow
def test_the_server_stops_while_a_page_is_open(indexed: Assistant, tmp_path: Path) -> None:
    from gradio_client import Client

    assistant = Assistant(Settings(index_dir=indexed.settings.index_dir,
                                   corpus_dir=indexed.settings.corpus_dir,
                                   data_dir=tmp_path / "data"))
    port = free_port()
    server = serve(assistant, host="127.0.0.1", port=port, block=False)
    closed: list[bool] = []
    server.on_close = lambda: closed.append(True)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False,
                    download_files=str(tmp_path / "client"))
    assert client.predict("How many hospital beds per 10,000 people does Lang Son have?",
                          [], "(any)", "(any)", "", "", api_name="/chat")
    server.close()  # the client's session stream is still open
    # Before, uvicorn waited for that stream until close() gave up (15 s): the server
    # thread lived on, and its shutdown (which deletes the cached files) never ran.
    assert server.thread is not None and not server.thread.is_alive()
    assert closed == [True]


@pytest.mark.slow
def test_a_server_stopped_by_sigterm_leaves_nothing(tmp_path: Path) -> None:
    # As a service manager stops it. uvicorn re-raises the signal once its shutdown is
    # done, which ends the process there: cleaning up after ``run`` returns is too late.
    import signal
    import subprocess

    from gradio_client import Client

    from assistant.answer.processes import wait_for_http

    from .conftest import BIN, CORPUS, clean_env, cli

    temp, cache = tmp_path / "tmp", tmp_path / "gradio"
    temp.mkdir()
    env = clean_env(tmp_path / "index")
    env.update(ASSISTANT_CORPUS_DIR=str(CORPUS), TMPDIR=str(temp), GRADIO_TEMP_DIR=str(cache))
    assert cli(env, "ingest", "-q").returncode == 0
    port = free_port()
    proc = subprocess.Popen([str(BIN / "assistant"), "serve", "--no-ingest", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}/"
        assert wait_for_http(f"{url}config", proc, 300) == "up"
        _, brief = Client(url, verbose=False, download_files=str(tmp_path / "client")
                          ).predict("digital transformation", "(any)", "", "", "en", "md",
                                    api_name="/brief")
        assert brief and [p for p in _files(temp) if p.suffix == ".md"]
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert _files(temp) == [], err
    assert [p.name for p in temp.iterdir() if len(p.name) != 40] == []
    assert [p for p in _files(cache) if p.stat().st_size] == []
