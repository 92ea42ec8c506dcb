"""A real ``chroma run`` server for the benches that measure client/server mode (and for
``tests/test_chroma_server.py``).

Started on a free port with its data in a folder that outlives the run (so a million-chunk
build is done once); its resident memory is read from /proc, as the app's is.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    path: Path

    def memory_mib(self) -> dict[str, float]:
        """Resident memory now and at its peak (VmRSS / VmHWM), MiB."""
        out = {"rss": float("nan"), "peak": float("nan")}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out["rss"] = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    out["peak"] = int(line.split()[1]) / 1024
        except OSError:
            pass
        return out


@contextmanager
def chroma_server(path: Path, start_s: float = 300.0) -> Iterator[Server]:
    """``chroma run --path PATH`` until the block ends (a big store takes a while to open)."""
    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = (path.parent / f"{path.name}.log").open("ab")
    chroma = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}: "
                                   + Path(log.name).read_text(errors="replace")[-2000:])
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"chroma run gave no heartbeat in {start_s:.0f} s: "
                                   + Path(log.name).read_text(errors="replace")[-2000:])
            time.sleep(0.5)
        yield Server(url, proc.pid, path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
