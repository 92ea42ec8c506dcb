"""The audit log and chat history on a real SQLite file, and `assistant audit export`."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from assistant import Settings
from assistant.cli import cli
from assistant.records import AuditLog, AuditQuery, ChatHistory, Database, audited_check
from assistant.records.db import audit_events

QUESTION = "How many hospital beds does Lang Son have?"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index", **overrides)


def _clock(day: str) -> datetime:
    return datetime.fromisoformat(day)


@pytest.mark.parametrize(("mode", "kept"), [("full", QUESTION), ("metadata", None)])
def test_question_events_keep_text_only_in_full_mode(tmp_path: Path, mode: str,
                                                     kept: str | None) -> None:
    log = AuditLog(_settings(tmp_path, audit=mode))
    assert log.record("question", "sam", "answered", language="en", question=QUESTION,
                      documents=["004.txt"], backend="extractive")
    [row] = log.rows()
    assert row["question"] == kept
    assert (row["user"], row["outcome"], row["language"]) == ("sam", "answered", "en")
    assert row["documents"] == ["004.txt"] and row["detail"] == {"backend": "extractive"}
    assert (tmp_path / "data" / "assistant.sqlite").is_file()  # under the data folder


def test_off_records_nothing(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path, audit="off"))
    assert log.record("question", "sam", question=QUESTION)
    assert AuditLog(_settings(tmp_path)).rows() == []


def test_rows_are_append_only(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    log.record("sign_in", "sam")
    with pytest.raises(sa.exc.IntegrityError, match="append-only"), \
            log.database.engine.begin() as conn:
        conn.execute(sa.update(audit_events).values(user="someone else"))
    assert log.rows()[0]["user"] == "sam"


def test_retention_purges_old_rows_at_start(tmp_path: Path) -> None:
    settings = _settings(tmp_path, audit_retention_days=30)
    AuditLog(settings, clock=lambda: _clock("2026-01-01")).record("sign_in", "old")
    AuditLog(settings, clock=lambda: _clock("2026-02-20")).record("sign_in", "recent")
    # A start on 2026-03-01 purges what is older than 2026-01-30.
    assert [r["user"] for r in AuditLog(settings, clock=lambda: _clock("2026-03-01")).rows()
            ] == ["recent"]
    # 0 keeps everything.
    keep = _settings(tmp_path, audit_retention_days=0)
    AuditLog(keep, clock=lambda: _clock("2030-01-01"))
    assert len(AuditLog(keep).rows()) == 1


def test_a_failed_write_is_counted_then_itself_recorded(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be", encoding="utf-8")
    settings = _settings(tmp_path, database_url=f"sqlite:///{blocker}/audit.sqlite")
    log = AuditLog(settings)
    assert not log.record("question", "sam", "answered", question=QUESTION)
    assert log.failures >= 1 and "audit write(s) failed" in log.status()
    # The database comes back: the next write records the gap first.
    blocker.unlink()
    blocker.mkdir()
    assert log.record("sign_in", "sam")
    events = [(r["event"], r["detail"].get("lost_rows")) for r in log.rows()]
    assert events[0][0] == "audit_failed" and events[0][1] >= 1
    assert events[1] == ("sign_in", None)


def test_sign_in_attempts_are_recorded(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    check = audited_check(lambda user, password: password == "right", log)
    assert check("sam", "right") and not check("sam", "wrong")
    assert [(r["user"], r["outcome"]) for r in log.rows(AuditQuery(events=["sign_in"]))] == [
        ("sam", "ok"), ("sam", "failed")]


def test_history_belongs_to_its_owner(tmp_path: Path) -> None:
    history = ChatHistory(Database.from_settings(_settings(tmp_path)))
    messages = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "2862"}]
    turns = {"1": {"question": QUESTION, "answer": "2862"}}
    cid = history.save("sam", None, messages, turns, QUESTION)
    assert history.save("sam", cid, [*messages, *messages], turns) == cid  # updated in place
    assert history.save("ann", cid, [], {}) != cid  # ann cannot write into sam's
    assert [c for _, c in history.titles("sam")] == [cid]
    assert history.get("ann", cid) is None
    assert not history.rename("ann", cid, "mine now") and not history.delete("ann", cid)
    assert history.rename("sam", cid, "Beds in Lang Son")
    found = history.get("sam", cid)
    assert found is not None and found.title == "Beds in Lang Son"
    assert len(found.messages) == 4 and found.turns == turns
    assert history.delete("sam", cid) and history.titles("sam") == []


def _seed(settings: Settings) -> None:
    for day, user, event in [("2026-03-01", "sam", "question"), ("2026-03-02", "ann", "upload"),
                             ("2026-03-03", "sam", "sign_in"), ("2026-03-05", "sam", "question")]:
        AuditLog(settings, clock=lambda day=day: _clock(day)).record(
            event, user, question=QUESTION if event == "question" else None,
            documents=["004.txt"] if event == "question" else ())


@pytest.mark.parametrize(("args", "expected"), [
    ([], [("sam", "question"), ("ann", "upload"), ("sam", "sign_in"), ("sam", "question")]),
    (["--since", "2026-03-02", "--until", "2026-03-03"], [("ann", "upload"), ("sam", "sign_in")]),
    (["--user", "sam", "--event", "question"], [("sam", "question"), ("sam", "question")]),
])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_audit_export_through_the_cli(tmp_path: Path, args: list[str],
                                      expected: list[tuple[str, str]], fmt: str) -> None:
    settings = _settings(tmp_path, audit_retention_days=0)
    _seed(settings)
    env = {"ASSISTANT_DATA_DIR": str(settings.data_dir),
           "ASSISTANT_INDEX_DIR": str(settings.index_dir),
           "ASSISTANT_RECORDS__AUDIT_RETENTION_DAYS": "0"}
    result = CliRunner().invoke(cli, ["audit", "export", "--format", fmt, *args], env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    rows = ([json.loads(line) for line in out.splitlines()] if fmt == "jsonl"
            else list(csv.DictReader(io.StringIO(out))))
    assert [(r["user"], r["event"]) for r in rows] == expected
    assert f"{len(expected)} audit event(s) exported" in result.stderr
    # The export itself is on record, by the operating-system account that ran it.
    last = AuditLog(settings).rows(AuditQuery(events=["export"]))[-1]
    assert last["user"].startswith("os:") and last["detail"]["rows"] == len(expected)


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "2026-03-05", "--until", "2026-03-01"], "is after --until"),
    (["--since", "last week"], "not a date"),
    (["--format", "xml"], "Invalid value"),
])
def test_audit_export_input_errors(tmp_path: Path, args: list[str], message: str) -> None:
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "data"),
           "ASSISTANT_INDEX_DIR": str(tmp_path / "index")}
    result = CliRunner().invoke(cli, ["audit", "export", *args], env=env)
    assert result.exit_code == 2 and message in result.stderr


def test_old_rows_day_range_is_inclusive(tmp_path: Path) -> None:
    settings = _settings(tmp_path, audit_retention_days=0)
    log = AuditLog(settings, clock=lambda: _clock("2026-03-03T23:59:59"))
    log.record("sign_in", "sam")
    day = _clock("2026-03-03").date()
    assert len(log.rows(AuditQuery(since=day, until=day))) == 1
    assert log.rows(AuditQuery(since=day + timedelta(days=1))) == []


def test_cli_exports_are_audited(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    env = {"ASSISTANT_DATA_DIR": str(settings.data_dir),
           "ASSISTANT_INDEX_DIR": str(settings.index_dir)}
    result = CliRunner().invoke(cli, ["feedback", "export", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    [row] = AuditLog(settings).rows(AuditQuery(events=["export"]))
    assert row["user"].startswith("os:")
    assert row["detail"] == {"what": "feedback", "rows": 0, "format": "csv", "as_user": None}
