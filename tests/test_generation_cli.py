"""``assistant ask --backend openai [--stream]`` through the installed entry point, against a
real OpenAI-protocol server on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import clean_env, cli
from .openai_server import FakeOpenAI, Reply
from .test_generation import DATA, KEY

QUESTION = "How many hospital beds does Lang Son have?"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = clean_env(tmp_path_factory.mktemp("cli-gen") / "index")
    result = cli(env, "ingest", str(DATA))
    assert result.returncode == 0, result.stderr
    return env


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    def reply(request: dict[str, Any]) -> Reply:
        user = request["messages"][1]["content"]
        n = re.search(r'<source id="(\d+)" title="Lang Son', user)
        assert n is not None
        return Reply(f"Lang Son has 2,862 hospital beds [{n.group(1)}][9].")

    fake = FakeOpenAI(reply).start()
    yield fake
    fake.stop()


def model_env(env: dict[str, str], server: FakeOpenAI) -> dict[str, str]:
    return {**env, "ASSISTANT_LLM__OPENAI_BASE_URL": server.url,
            "ASSISTANT_LLM__OPENAI_API_KEY": KEY, "ASSISTANT_LLM__MAX_RETRIES": "0",
            "ASSISTANT_LLM__TIMEOUT": "5"}


def test_ask_stream_with_a_model(env: dict[str, str], server: FakeOpenAI) -> None:
    result = cli(model_env(env, server), "ask", "--backend", "openai", "--stream", QUESTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Lang Son has 2,862 hospital beds [1].\n")
    assert "[9]" not in result.stdout
    assert re.search(r"^  \[1\] Lang Son Department of Health.*\(lang_son.txt\)$",
                     result.stdout, re.MULTILINE)
    assert server.requests[-1]["stream"] is True
    assert KEY not in result.stdout + result.stderr
    # With a model configured, the question was also translated for the search.
    assert len(server.translation_requests) == 1


def test_backend_from_settings_and_json(env: dict[str, str], server: FakeOpenAI) -> None:
    result = cli({**model_env(env, server), "ASSISTANT_ANSWER_BACKEND": "openai"},
                 "ask", "--json", QUESTION)
    data = json.loads(result.stdout)
    assert data["backend"] == "openai" and data["citations"][0]["n"] == 1
    assert KEY not in result.stdout + result.stderr


def test_model_failure_falls_back(env: dict[str, str], server: FakeOpenAI) -> None:
    server.default = Reply(status=401, error={"message": f"bad key {KEY}", "type": "auth"})
    result = cli(model_env(env, server), "ask", "--backend", "openai", "--stream", QUESTION)
    assert result.returncode == 0, result.stderr
    assert "Note: The language model could not be used" in result.stderr
    assert "refused the API key (HTTP 401)" in result.stderr
    assert "2,862" in result.stdout and "[1]" in result.stdout  # the extractive answer
    assert KEY not in result.stdout + result.stderr


def test_eval_runs_with_the_openai_backend(env: dict[str, str], server: FakeOpenAI,
                                           tmp_path: Any) -> None:
    # The evaluation command measures a model's answers through the same backend seam.
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({"id": "beds", "question": QUESTION, "question_lang": "en",
                                 "answers": ["2862"], "gold_doc": "lang_son.txt"}) + "\n",
                     encoding="utf-8")
    out = tmp_path / "run"
    result = cli(model_env(env, server), "eval", "--qa", str(cases), "--corpus", str(DATA),
                 "--backend", "openai", "--out", str(out))
    assert result.returncode == 0, result.stderr
    prediction = json.loads((out / "predictions.jsonl").read_text(encoding="utf-8"))
    assert prediction["answer"].startswith("Lang Son has 2,862 hospital beds [1].")
    assert prediction["citations"] == ["lang_son.txt"] and not prediction["abstained"]
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overall"]["containment"] == 1.0
    assert metrics["run"]["backend"] == "openai"
    assert server.requests and KEY not in result.stdout + result.stderr


def test_brief_with_the_model_down_quotes_the_reports(env: dict[str, str]) -> None:
    from .conftest import free_port

    down = {**env, "ASSISTANT_ANSWER_BACKEND": "openai", "ASSISTANT_LLM__OPENAI_API_KEY": KEY,
            "ASSISTANT_LLM__OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "ASSISTANT_LLM__MAX_RETRIES": "0", "ASSISTANT_LLM__TIMEOUT": "5"}
    result = cli(down, "brief", "--province", "Lang Son")
    assert result.returncode == 0, result.stderr
    assert "the language model failed" in result.stderr and KEY not in result.stderr
    assert "[1]" in result.stdout
