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


# -- issue 22 item 1: sign-in fails closed, and the users file is live ---------------------

@pytest.mark.parametrize("text", ["", "users: {}\n", "# nobody yet\n"])
def test_a_users_file_naming_nobody_is_an_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AssistantError, match=r"has no users; add one with `assistant users "
                                             r"add NAME --role admin`"):
        Users.load(path)
    add_user(path, "ann", "pw-ann", "admin")  # and `users add` can still start it
    assert Users.load(path).is_admin("ann")


@pytest.mark.parametrize(("host", "allow", "role"), [
    ("127.0.0.1", False, "admin"), ("localhost", False, "admin"), ("::1", False, "admin"),
    ("0.0.0.0", True, "staff"), ("10.0.0.5", True, "staff"), ("127.0.0.1", True, "staff"),
])
def test_without_a_users_file(host: str, allow: bool, role: str) -> None:
    users = Users.for_serving(None, host, allow)
    anonymous = users.user(None)
    assert not users.enabled and anonymous is not None and anonymous.role == role


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "assistant.example.org"])
def test_a_public_address_without_sign_in_is_refused(host: str) -> None:
    with pytest.raises(AssistantError, match="--allow-anonymous"):
        Users.for_serving(None, host)


def test_changes_to_the_users_file_apply_without_a_restart(tmp_path: Path) -> None:
    from assistant.web.auth import remove_user

    path = tmp_path / "users.yaml"
    add_user(path, "ann", "old-password", "admin", ["Lang-Son"])
    add_user(path, "sam", "pw-sam", "staff")
    users = Users.load(path)  # one object, as a running server holds it
    assert users.check("ann", "old-password") and users.is_admin("ann")
    assert users.user("ann").groups == {"lang-son"}  # type: ignore[union-attr]
    add_user(path, "ann", "new-password", "staff")  # reset and demoted
    assert users.check("ann", "new-password") and not users.check("ann", "old-password")
    assert users.role("ann") == "staff" and users.user("ann").groups == set()  # type: ignore[union-attr]
    assert remove_user(path, "sam") and users.user("sam") is None
    assert not users.check("sam", "pw-sam") and not remove_user(path, "sam")
    path.write_text("users: [broken", encoding="utf-8")  # unusable: nobody, not everybody
    assert users.user("ann") is None and not users.check("ann", "new-password")
    assert users.enabled


def test_users_add_with_groups_and_serve_refusals(
        tmp_path: Path, run_cli: Callable[..., CompletedProcess[str]]) -> None:
    path = tmp_path / "users.yaml"
    env = {"ASSISTANT_USERS_FILE": str(path)}
    saved = run_cli("users", "add", "ann", "--role", "staff", "--group", "a", "--group", "b",
                    "--password", "pw-ann", env=env, check=True)
    assert "applies it at the next request" in saved.stdout
    assert Users.load(path).user("ann").groups == {"a", "b"}  # type: ignore[union-attr]
    removed = run_cli("users", "remove", "ann", env=env, check=True)
    assert "Removed ann" in removed.stdout
    # Both refusals come before any ingest: quick, exit 1, one line, no traceback.
    empty = run_cli("serve", "--no-ingest", env=env)
    assert empty.returncode == 1 and "has no users; add one with" in empty.stderr
    public = run_cli("serve", "--no-ingest", "--host", "0.0.0.0")
    assert public.returncode == 1 and "--allow-anonymous" in public.stderr
    assert "Traceback" not in empty.stderr + public.stderr
