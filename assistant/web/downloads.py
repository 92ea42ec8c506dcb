"""Where the web app writes the files it offers for download (briefings, audit exports).

Gradio serves a copy from its own cache, which the app's ``delete_cache`` empties; the
originals live in one private temporary folder per app. Files older than the configured
time are pruned whenever a new one is written, and the folder is removed when the server
stops (or, for an app never served, when it is garbage-collected or the process exits),
so a long-running server keeps no trail of what was downloaded. A process that was killed
(SIGKILL, out of memory, power cut) cannot clean up: its folder is named by its process id,
and the next app started on the machine removes the folders of processes no longer running.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

PREFIX = "assistant-downloads-"
log = logging.getLogger(__name__)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    return True


def remove_left_over(parent: Path) -> list[Path]:
    """Remove the download folders of app processes that are no longer running; return
    them. Another user's folders cannot be removed and are left alone."""
    removed = []
    for folder in parent.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


class Downloads:
    def __init__(self, keep_minutes: int = 60) -> None:
        self.keep_s = keep_minutes * 60
        if left := remove_left_over(Path(tempfile.gettempdir())):
            log.info("removed %d download folder(s) of app processes no longer running",
                     len(left))
        self._folder = tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-",
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
