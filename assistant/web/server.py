"""The web server: one ASGI app (the API, the sign-in routes, Gradio at ``/``) run by
uvicorn; ``close()`` stops it, as ``Blocks.close`` would."""

from __future__ import annotations

import threading
from typing import Any

from assistant.errors import AssistantError


class WebServer:
    def __init__(self, app: Any, host: str, port: int, root_path: str = "",
                 how: str = "") -> None:
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, root_path=root_path,
                                log_level="warning", proxy_headers=True)
        self.app = app
        self.server = uvicorn.Server(config)
        self.how = how  # printed after the address, e.g. how people sign in
        self.thread: threading.Thread | None = None

    @property
    def local_url(self) -> str:
        config = self.server.config
        return f"http://{config.host}:{config.port}{config.root_path}/"

    def run(self) -> None:
        # What Gradio's launch() prints; uvicorn itself is quiet below warnings.
        print(f"* Running on {self.local_url}{f' ({self.how})' if self.how else ''}",
              flush=True)
        self.server.run()

    def start(self) -> WebServer:
        self.thread = threading.Thread(target=self.server.run, daemon=True, name="web")
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise AssistantError("The web server did not start (is the port in use?).")
            self.thread.join(0.05)
        return self

    def close(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=15)
