"""A real HTTP server speaking the OpenAI chat-completions protocol, scripted by tests.

It runs on 127.0.0.1 in a thread (so subprocesses such as the CLI can reach it too), records
every request, and answers from a queue of ``Reply`` scripts: text (streamed as server-sent
events when asked), error statuses with OpenAI-style bodies, delays.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from assistant.prompts import load_translation

from .conftest import ROOT

_TRANSLATION_SYSTEM = load_translation(ROOT / "prompts", ()).system


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay: float = 0.0
    chunks: list[str] | None = None  # streamed pieces; default: a few characters each
    error: dict[str, Any] | None = None  # the "error" object of an error body
    headers: dict[str, str] = field(default_factory=dict)


class FakeOpenAI:
    def __init__(self, default: Reply | Callable[[dict[str, Any]], Reply] | None = None) -> None:
        self.replies: deque[Reply] = deque()
        self.default = default or Reply("The documents don't answer this question.")
        self.requests: list[dict[str, Any]] = []
        # Question-translation requests (prompts/translation.yaml) are answered apart, so the
        # scripted replies stay for the answers; default: no usable translation.
        self.translation_requests: list[dict[str, Any]] = []
        self.translate: Callable[[dict[str, Any]], Reply] = lambda _body: Reply("{}")
        self.headers: list[dict[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: dict[str, Any]) -> Reply:
        if self.replies:
            return self.replies.popleft()
        return self.default(request) if callable(self.default) else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not self.path.split("?")[0].endswith("/chat/completions"):
                    self._json(404, {"error": {"message": "no such route"}})
                    return
                if _is_translation(body):
                    fake.translation_requests.append(body)
                    reply = fake.translate(body)
                else:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                    reply = fake._next(body)
                time.sleep(reply.delay)
                try:
                    if reply.status != 200:
                        error = reply.error or {"message": f"scripted {reply.status}",
                                                "type": "error", "code": None}
                        self._json(reply.status, {"error": error}, reply.headers)
                    elif body.get("stream"):
                        self._stream(body, reply)
                    else:
                        self._json(200, _completion(body, reply.content))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def _json(self, status: int, data: dict[str, Any],
                      headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = reply.chunks if reply.chunks is not None else [
                    reply.content[i:i + 5] for i in range(0, len(reply.content), 5)]
                for piece in pieces:
                    event = {"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                             "created": 0, "model": body.get("model", "fake"),
                             "choices": [{"index": 0, "delta": {"content": piece},
                                          "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                done = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                        "model": body.get("model", "fake"),
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

        return Handler


def _is_translation(body: dict[str, Any]) -> bool:
    messages = body.get("messages") or [{}]
    return messages[0].get("content") == _TRANSLATION_SYSTEM


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
