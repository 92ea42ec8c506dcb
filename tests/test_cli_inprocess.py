"""Every command's wiring and exit codes, in-process through Click's ``CliRunner`` (the
subprocess tests in ``test_cli.py`` cover the installed entry point end to end)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import assistant.cli._support as cli_support
from assistant.cli import cli

from .conftest import ROOT

BASELINE = ROOT / "eval" / "baseline" / "metrics.json"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = list(_commands(cli))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings pointed at an empty index, data folder and corpus under ``tmp_path``."""
    for name in [n for n in os.environ if n.startswith("ASSISTANT_")]:
        monkeypatch.delenv(name)
    (tmp_path / "corpus").mkdir()
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "corpus"))
    return tmp_path


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="assistant", input=input)


def test_every_command_is_covered() -> None:
    # A new command shows up here, and so in the help test below.
    top = {c[0] for c in COMMANDS}
    assert top >= {"add", "ask", "audit", "brief", "eval", "feedback", "ingest", "keys",
                   "remove", "reset", "serve", "sources", "users"}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_explains_itself(command: tuple[str, ...]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: assistant {' '.join(command)}" in result.output
    found = cli
    for name in command:
        assert isinstance(found, click.Group)
        found = found.commands[name]
    summary = (found.help or "").strip().splitlines()[0].strip()
    assert summary and summary[:40] in " ".join(result.output.split())


@pytest.mark.parametrize(("args", "code", "says"), [
    (("ask", ""), 2, "empty"),
    (("ask", "?!?!"), 2, "no words"),
    (("ask", "--lang", "xx", "hospital beds"), 2, "--lang xx"),
    (("ask", "--since", "2025-12-01", "--until", "2025-01-01", "beds"), 2, "after it ends"),
    (("ask", "How many hospital beds does Lang Son have?"), 3, "assistant ingest"),
    (("brief", "hospital beds"), 3, "assistant ingest"),
    (("remove", "nothing.txt"), 1, "not in the index"),
    (("add", "missing.txt"), 2, "does not exist"),
    (("users", "add", "ann"), 2, "ASSISTANT_USERS_FILE"),
    (("audit", "export", "--since", "2025-12-01", "--until", "2025-01-01"), 2, "after"),
    (("serve", "--no-ingest", "--host", "0.0.0.0"), 1, "--allow-anonymous"),
    (("keys", "revoke", "key_none"), 2, "no key 'key_none'"),
    (("keys", "add", "two words"), 2, "no spaces"),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else str(v))
def test_exit_codes(home: Path, args: tuple[str, ...], code: int, says: str) -> None:
    result = run(*args, input="a-password\na-password\n")
    assert result.exit_code == code, result.output
    assert says.casefold() in " ".join(result.output.split()).casefold()


def test_empty_index_lists_nothing(home: Path) -> None:
    listing = run("sources", "--json")
    assert listing.exit_code == 0 and json.loads(listing.output) == []
    assert run("reset", "--yes").exit_code == 0
    exported = run("feedback", "export")
    assert exported.exit_code == 0 and "0 feedback row(s)" in exported.output


def test_users_add_writes_the_users_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    users = home / "users.yaml"
    monkeypatch.setenv("ASSISTANT_USERS_FILE", str(users))
    result = run("users", "add", "ann", "--role", "admin", "--group", "north",
                 input="a-password\na-password\n")
    assert result.exit_code == 0, result.output
    assert "Saved ann (admin" in result.output
    text = users.read_text(encoding="utf-8")
    assert "ann:" in text and "north" in text and "a-password" not in text


@pytest.mark.parametrize(("worse", "code"), [(False, 0), (True, 1)])
def test_eval_compare_exit_code(home: Path, worse: bool, code: int) -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    runs = []
    for name, metrics in (("a", baseline), ("b", _lowered(baseline) if worse else baseline)):
        folder = home / name
        folder.mkdir()
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        runs.append(str(folder))
    result = run("eval", "compare", *runs)
    assert result.exit_code == code, result.output


def _lowered(metrics: object) -> object:
    """Every score-like number a good deal lower: a regression ``compare`` must catch."""
    if isinstance(metrics, dict):
        return {k: _lowered(v) for k, v in metrics.items()}
    if isinstance(metrics, list):
        return [_lowered(v) for v in metrics]
    if isinstance(metrics, float) and 0.2 < metrics <= 1.0:
        return metrics - 0.2
    return metrics


@pytest.mark.parametrize("args", [
    ("users", "add", "bob"),
    ("eval", "compare", "A", "B"),
    ("audit", "export"),
], ids=" ".join)
def test_commands_that_need_no_index_build_none(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                args: tuple[str, ...]) -> None:
    def no_assistant(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("this command built an Assistant (embedder, Chroma, backend)")

    monkeypatch.setattr(cli_support, "Assistant", no_assistant)
    monkeypatch.setenv("ASSISTANT_USERS_FILE", str(home / "users.yaml"))
    for name in ("A", "B"):
        (home / name).mkdir()
        shutil.copy(BASELINE, home / name / "metrics.json")
    monkeypatch.chdir(home)
    result = run(*args, input="pw-123456\npw-123456\n")
    assert not isinstance(result.exception, AssertionError), result.output
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("variable", "named"), [
    ("ASSISTANT_PORT", "ASSISTANT_PORT:"),
    ("ASSISTANT_SEARCH__RETRIEVAL_K", "ASSISTANT_SEARCH__RETRIEVAL_K (or ASSISTANT_RETRIEVAL_K):"),
    ("ASSISTANT_RETRIEVAL_K", "ASSISTANT_SEARCH__RETRIEVAL_K (or ASSISTANT_RETRIEVAL_K):"),
    ("ASSISTANT_LLM__TIMEOUT", "ASSISTANT_LLM__TIMEOUT (or ASSISTANT_LLM_TIMEOUT):"),
    ("ASSISTANT_SEARCH__NO_SUCH_FIELD", "ASSISTANT_SEARCH__NO_SUCH_FIELD:"),
    ("ASSISTANT_SEARCH", 'error parsing value for field "search"'),  # not a JSON object
])
def test_a_bad_setting_is_a_message_not_a_traceback(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                     variable: str, named: str) -> None:
    monkeypatch.setenv(variable, "not-a-number")
    result = run("sources")
    assert result.exit_code == 2
    assert f"Invalid setting: {named}" in result.output, result.output
    assert "Traceback" not in result.output
