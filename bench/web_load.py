"""Load on the web chat: N users at once through gradio_client, latency p50/p95.

Starts the real app as its own process (`assistant serve`, which indexes the bundled corpus
into a temporary index first), then N threads each sign up a client and ask the example
questions in turn, all starting together. Any error fails the run. Writes the "web_load"
section of bench/results.md.

    python -m bench.web_load [--users 20] [--questions 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from assistant.answer.processes import wait_for_http
from assistant.web.app import EXAMPLES

from ._results import write_section

ROOT = Path(__file__).resolve().parent.parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], limit_s: float = 600) -> None:
    status = wait_for_http(f"{url}config", proc, limit_s)
    if status == "exited":
        raise SystemExit(f"server exited with {proc.returncode}")
    if status == "timeout":
        raise SystemExit("server did not start")


def run(users: int, questions: int) -> dict[str, float]:
    from gradio_client import Client

    port = _port()
    url = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        env.update(ASSISTANT_INDEX_DIR=f"{tmp}/index", ASSISTANT_DATA_DIR=f"{tmp}/data",
                   HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        proc = subprocess.Popen([str(Path(sys.executable).parent / "assistant"), "serve",
                                 "--port", str(port)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_up(url, proc)
            # One warm-up question: model loading is not what this measures.
            Client(url, verbose=False).predict(EXAMPLES[0], [], "(any)", "(any)", "", "",
                                               api_name="/chat")
            latencies: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()
            start = threading.Barrier(users)

            def user(i: int) -> None:
                try:
                    client = Client(url, verbose=False)
                    start.wait()
                    for q in range(questions):
                        question = EXAMPLES[(i + q) % len(EXAMPLES)]
                        t0 = time.perf_counter()
                        history, _, _ = client.predict(question, [], "(any)", "(any)", "", "",
                                                       api_name="/chat")
                        took = time.perf_counter() - t0
                        if "[1]" not in str(history[-1]["content"]):
                            raise AssertionError(f"no cited answer to {question!r}")
                        with lock:
                            latencies.append(took)
                except Exception as exc:  # every failure is counted and shown
                    with lock:
                        errors.append(f"user {i}: {type(exc).__name__}: {exc}")

            threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
            wall = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - wall
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    if errors:
        raise SystemExit("errors:\n" + "\n".join(errors))
    cuts = statistics.quantiles(latencies, n=20)
    return {"load": os.getloadavg()[0], "requests": len(latencies),
            "p50": statistics.median(latencies), "p95": cuts[18], "max": max(latencies),
            "wall": wall, "rps": len(latencies) / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=3, help="questions per user")
    args = parser.parse_args()
    r = run(args.users, args.questions)
    body = (
        "## Web chat under load (`python -m bench.web_load`)\n\n"
        f"{args.users} users at once through `gradio_client`, {args.questions} questions "
        "each (the five example questions, in five languages, in turn), against "
        "`assistant serve` on the bundled corpus with the extractive backend; the app "
        "answers 4 requests at a time (Gradio queue), the rest wait their turn, and the "
        "latency below includes that wait.\n\n"
        "| users | requests | errors | p50 s | p95 s | max s | requests/s |\n"
        "|---|---|---|---|---|---|---|\n"
        f"| {args.users} | {r['requests']:.0f} | 0 | {r['p50']:.2f} | {r['p95']:.2f} | "
        f"{r['max']:.2f} | {r['rps']:.2f} |\n\n"
        f"Load average at the end of the run: {r['load']:.1f} (the benchmark's own server "
        "and 20 clients share the 2 cores; above about 3, other jobs were running too).\n")
    write_section("web_load", body)
    print(body)


if __name__ == "__main__":
    main()
