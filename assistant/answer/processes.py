"""Servers the assistant (or its tests and benchmarks) start as child processes."""

from __future__ import annotations

import subprocess
import time
from typing import Literal


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout_s: float,
                  interval_s: float = 0.5) -> Literal["up", "exited", "timeout"]:
    """Poll ``url`` until it answers 200 ("up"), ``process`` dies ("exited") or time runs
    out ("timeout"); each caller turns the outcome into its own kind of error."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return "up"
        except httpx.HTTPError:
            pass
        time.sleep(interval_s)
    return "timeout"
