"""Where the web app writes the files it offers for download (briefings, audit exports).

Gradio serves a copy from its own cache, which the app's ``delete_cache`` empties; the
originals live in one private temporary folder per app. Files older than the configured
time are pruned whenever a new one is written, and the folder is removed when the server
stops (or, for an app never served, when it is garbage-collected or the process exits),
so a long-running server keeps no trail of what was downloaded.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from pathlib import Path


class Downloads:
    def __init__(self, keep_minutes: int = 60) -> None:
        self.keep_s = keep_minutes * 60
        self._folder = tempfile.TemporaryDirectory(prefix="assistant-downloads-",
                                                   ignore_cleanup_errors=True)
        self.folder = Path(self._folder.name)

    def new(self, name: str) -> Path:
        """A path named ``name`` to write a download to, in a folder of its own: Gradio
        copies the file only after the handler returns, so two requests must never share
        one (two people briefing on one topic would get the same file)."""
        self.prune()
        own = self.folder / secrets.token_hex(8)
        own.mkdir(parents=True)
        return own / name

    def prune(self) -> None:
        cutoff = time.time() - self.keep_s
        for own in self.folder.glob("*"):
            try:
                if own.stat().st_mtime < cutoff:
                    shutil.rmtree(own, ignore_errors=True)
            except OSError:  # another request's prune got there first
                continue

    def close(self) -> None:
        self._folder.cleanup()
