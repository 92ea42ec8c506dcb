"""The web server: one ASGI app (the API, the sign-in routes, Gradio at ``/``) run by
uvicorn; ``close()`` stops it, as ``Blocks.close`` would."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from assistant.errors import AssistantError

GRACE_S = 5  # seconds an answer under way may take to finish when the server stops


def _gradio_apps(app: Any) -> Iterator[Any]:
    """The Gradio apps mounted in ``app`` (at any depth)."""
    for route in getattr(app, "routes", ()):
        sub = getattr(route, "app", None)
        if hasattr(sub, "stop_event") and hasattr(sub, "get_blocks"):
            yield sub
        elif sub is not None and sub is not app:
            yield from _gradio_apps(sub)


def _server(config: Any, web: WebServer) -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            # An open page holds Gradio's heartbeat stream for ever: end it as
            # ``Blocks.close`` does, or stopping waits for every tab to close and the
            # shutdown (which deletes the app's cached files) never comes.
            for gradio in _gradio_apps(config.app):
                gradio.get_blocks().is_running = False
                gradio.stop_event.set()
            await super().shutdown(sockets)
            # Here, not after ``run``: on SIGTERM uvicorn re-raises the signal once this
            # is done, and the process ends there.
            web._closed()

    return Server(config)


class WebServer:
    def __init__(self, app: Any, host: str, port: int, root_path: str = "",
                 how: str = "", on_close: Callable[[], None] | None = None) -> None:
        import uvicorn

        # The grace bounds what the streams above do not end (an answer being streamed).
        config = uvicorn.Config(app, host=host, port=port, root_path=root_path,
                                log_level="warning", proxy_headers=True,
                                timeout_graceful_shutdown=GRACE_S)
        self.app = app
        self.server = _server(config, self)
        self.how = how  # printed after the address, e.g. how people sign in
        self.thread: threading.Thread | None = None
        self.on_close = on_close  # after the server stopped, e.g. remove its downloads

    @property
    def local_url(self) -> str:
        config = self.server.config
        return f"http://{config.host}:{config.port}{config.root_path}/"

    def run(self) -> None:
        # What Gradio's launch() prints; uvicorn itself is quiet below warnings.
        print(f"* Running on {self.local_url}{f' ({self.how})' if self.how else ''}",
              flush=True)
        try:
            self.server.run()
        finally:
            self._closed()  # if it stopped before its shutdown ran

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
            self.thread.join(timeout=GRACE_S + 10)
        self._closed()

    def _closed(self) -> None:
        on_close, self.on_close = self.on_close, None  # once, whichever way it stopped
        if on_close is not None:
            on_close()
