"""Sign-in accounts and answer feedback, through the library and the CLI entry point."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from assistant.errors import AssistantError, InputError
from assistant.web.auth import Users, add_user
from assistant.web.feedback import FeedbackStore, Turn

TURN = Turn(question="How many beds?", answer="2862 beds [1]", backend="extractive",
            latency_ms=120.5, abstained=False,
            sources=[{"n": 1, "source": "004.txt", "title": "Lang Son", "url": None,
                      "sentences": ["2862 beds"]}])


def test_users_file_roles_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    add_user(path, "ann", "s3cret-admin", "admin")
    add_user(path, "sam", "s3cret-staff", "staff")
    assert "s3cret" not in path.read_text(encoding="utf-8")  # only hashes are stored
    users = Users.load(path)
    assert users.enabled
    assert users.check("ann", "s3cret-admin") and not users.check("ann", "s3cret-staff")
    assert not users.check("nobody", "x") and not users.check("sam", "")
    assert users.role("ann") == "admin" and users.role("sam") == "staff"
    assert users.role(None) is None and not users.is_admin("sam")


def test_no_users_file_means_local_admin() -> None:
    users = Users.load(None)
    assert not users.enabled and users.is_admin(None)


@pytest.mark.parametrize(("text", "error"), [
    ("users: {ann: {role: boss, password_hash: x}}", AssistantError),
    ("users: [1, 2]", AssistantError),
    ("users: {ann: {role: admin}}", AssistantError),
])
def test_invalid_users_file_is_reported(tmp_path: Path, text: str,
                                        error: type[Exception]) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(error, match="invalid"):
        Users.load(path)


@pytest.mark.parametrize(("name", "password"), [("", "pw"), ("a b", "pw"), ("ann", "")])
def test_bad_accounts_are_refused(tmp_path: Path, name: str, password: str) -> None:
    with pytest.raises(InputError):
        add_user(tmp_path / "users.yaml", name, password, "staff")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_feedback_export_through_cli(fmt: str, tmp_path: Path,
                                     run_cli: Callable[..., CompletedProcess[str]]) -> None:
    store = FeedbackStore(tmp_path / "data")
    store.record(TURN, 1, "exactly right", user="sam")
    store.record(TURN, -1, user="ann")
    result = run_cli("feedback", "export", "--format", fmt,
                     env={"ASSISTANT_DATA_DIR": str(tmp_path / "data")}, check=True)
    if fmt == "jsonl":
        rows = [json.loads(line) for line in result.stdout.splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        for row in rows:
            row["sources"] = json.loads(row["sources"])
            row["rating"] = int(row["rating"])
    assert [r["rating"] for r in rows] == [1, -1]
    assert rows[0]["comment"] == "exactly right" and rows[0]["user"] == "sam"
    assert rows[0]["question"] == TURN.question and rows[0]["backend"] == "extractive"
    assert rows[0]["sources"][0]["source"] == "004.txt"
    assert "2 feedback row(s)" in result.stderr


def test_users_add_through_cli(tmp_path: Path,
                               run_cli: Callable[..., CompletedProcess[str]]) -> None:
    path = tmp_path / "users.yaml"
    run_cli("users", "add", "ann", "--role", "admin", "--password", "pw-ann",
            env={"ASSISTANT_USERS_FILE": str(path)}, check=True)
    assert Users.load(path).is_admin("ann") and Users.load(path).check("ann", "pw-ann")
    missing = run_cli("users", "add", "bob", "--password", "x")
    assert missing.returncode == 2 and "ASSISTANT_USERS_FILE" in missing.stderr
