"""Soak: ingest 500 documents into a `chroma run` server while 20 users ask through the web app.

A real ``chroma run`` server, ``assistant serve`` against it (the bundled corpus ingested
first), then ``assistant ingest`` of 500 generated reports (``bench.performance``'s
generator) while 20 ``gradio_client`` users ask questions (the evaluation's questions and
templated ones about the generated provinces), each with a short pause, until 15 s after
the ingest ends (its files become visible together when the run ends). What must hold,
and is counted:

* no request fails (an error message in the chat or an exception counts);
* no half-indexed document is ever returned: right after each answer, every cited file has
  its committed record on the server; at the end, every passage shown is in the chunks that
  file's record lists; and a checker process-side view (the same snapshot code the app
  uses) finds, every second, each visible file with all of its chunks and no others.

Writes the "soak" section of bench/results.md.

    python -m bench.soak [--docs 500] [--users 20]
"""

from __future__ import annotations

import argparse
import html
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import PROJECT_ROOT, Settings
from bench._measure import load_avg
from bench._results import code_version, write_section
from bench._server import chroma_server, free_port
from bench._synthetic import make_queries, write_corpus
from bench.web_load import _wait_up

BIN = Path(sys.executable).parent


def _clean(text: str) -> str:
    return " ".join(text.split())


_CARD = re.compile(r'<code>([^<]*)</code></small></summary><div class="passage"[^>]*>(.*?)'
                   r"</div></details>", re.S)


def shown_passages(answer_html: str) -> list[tuple[str, str]]:
    """(source, passage) of each citation card the chat showed (a card joins several
    passages of one file with a line of "…")."""
    out = []
    for src, body in _CARD.findall(answer_html):
        text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "\n", body)))
        out += [(html.unescape(src), part) for part in text.split("\n…\n")]
    return out


class Checker(threading.Thread):
    """Reads the server's committed state as the app does, once a second."""

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.settings, self.stop = settings, stop
        self.snapshots = self.violations = 0
        self.max_docs = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from assistant.index.snapshot_cache import SnapshotCache
        from assistant.index.store import ChromaStore

        store = ChromaStore(self.settings)
        cache = SnapshotCache(store.snapshot_root())
        while not self.stop.is_set():
            try:
                snap = cache.current(store)
                for d, doc in enumerate(snap.docs):
                    rows = np.flatnonzero(snap.doc_of_row == d)
                    if {snap.ids[r] for r in rows} != set(doc.chunk_ids):
                        self.violations += 1
                self.snapshots += 1
                self.max_docs = max(self.max_docs, len(snap.docs))
            except Exception as exc:  # counted, shown
                self.errors.append(f"checker: {type(exc).__name__}: {exc}")
            self.stop.wait(1.0)


def run(n_docs: int, users: int, pause_s: float, seed: int, after_s: float = 15.0,
        backend: str = "snapshot", app_log: Path | None = None) -> dict[str, Any]:
    from gradio_client import Client

    from assistant.index.store import ChromaStore

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp_name, \
            chroma_server(Path(tmp_name) / "server") as srv:
        tmp = Path(tmp_name)
        new = tmp / "new"
        write_corpus(new, n_docs, seed)
        for bundled in (PROJECT_ROOT / "corpus").iterdir():  # already served: only the new
            (new / bundled.name).unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
        # The app and the ingest alike: with ``chroma`` the ingest writes the centred
        # collection the app searches.
        env.update(ASSISTANT_CHROMA_URL=srv.url, ASSISTANT_DATA_DIR=str(tmp / "data"),
                   ASSISTANT_SEARCH__BACKEND=backend,
                   HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
                   TOKENIZERS_PARALLELISM="false")
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        # The app's tracebacks, when asked for: an error in a request names only its type.
        log = app_log.open("w", encoding="utf-8") if app_log else None
        app = subprocess.Popen([str(BIN / "assistant"), "serve", "--port", str(port)], env=env,
                               cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=log if log else subprocess.DEVNULL)
        settings = Settings(chroma_url=srv.url, index_cache_dir=tmp / "checker-cache")
        try:
            _wait_up(url, app)
            # The evaluation's questions, then templated ones about the generated provinces.
            questions = [q for q, _ in make_queries(400, seed)]
            latencies: list[float] = []
            errors: list[str] = []
            cited: list[tuple[str, str]] = []
            uncommitted: list[str] = []
            lock = threading.Lock()
            stop = threading.Event()

            def user(i: int) -> None:
                rng = random.Random(seed + i)
                client = Client(url, verbose=False)
                store = ChromaStore(settings)  # one connection per thread
                while not stop.is_set():
                    question = rng.choice(questions)
                    try:
                        t0 = time.perf_counter()
                        history, _, _ = client.predict(
                            question, [], "(any)", "(any)", "", "", api_name="/chat")
                        took = time.perf_counter() - t0
                        content = str(history[-1]["content"])
                        if content.startswith("⚠️"):
                            raise RuntimeError(content[:200])
                        shown = shown_passages(content)
                        missing = [src for src in {src for src, _ in shown}
                                   if store.document(src) is None]
                        with lock:
                            latencies.append(took)
                            cited.extend(shown)
                            uncommitted.extend(missing)
                    except Exception as exc:  # every failure is counted and shown
                        with lock:
                            errors.append(f"user {i}: {type(exc).__name__}: {exc} "
                                          f"(asked {question!r})")
                    stop.wait(rng.uniform(0.5, 1.5) * pause_s)

            checker = Checker(settings, stop)
            checker.start()
            threads = [threading.Thread(target=user, args=(i,)) for i in range(users)]
            for t in threads:
                t.start()
            time.sleep(5)  # the users are asking before the ingest starts
            t0 = time.perf_counter()
            ingest = subprocess.run([str(BIN / "assistant"), "ingest", "-q", str(new)],
                                    env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
            ingest_s = time.perf_counter() - t0
            load = load_avg()
            # The new files become visible when the run ends (its revision moves once): ask on.
            time.sleep(after_s)
            stop.set()
            for t in threads:
                t.join()
            checker.join()
            if ingest.returncode != 0:
                errors.append(f"ingest exited {ingest.returncode}: {ingest.stderr[-500:]}")
            # Every passage shown lies in the chunks its file's (final) record lists.
            store = ChromaStore(settings)
            records = {r.source: r for r in store.documents()}
            chunk_texts: dict[str, str] = {}
            outside: list[str] = []
            for source, passage in set(cited):
                record = records.get(source)
                if record is None:
                    outside.append(f"{source}: no record")
                    continue
                if source not in chunk_texts:
                    got = store.get_chunks(record.chunk_ids, None)
                    chunk_texts[source] = "\n".join(_clean(t) for t in got["documents"])
                if _clean(passage) not in chunk_texts[source]:
                    outside.append(f"{source}: {_clean(passage)[:300]!r}")
            new_sources = {p.name for p in new.iterdir()}
            return {
                "docs": len(new_sources), "ingest_s": ingest_s,
                "ingest_summary": ingest.stdout.strip().splitlines()[-1:] or [""],
                "requests": len(latencies),
                "errors": errors + checker.errors + [f"shown, not indexed: {x}" for x in outside],
                "p50": statistics.median(latencies) if latencies else float("nan"),
                "p95": statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1
                else float("nan"),
                "max": max(latencies, default=float("nan")),
                "cited": len(cited),
                "cited_new": sum(1 for s, _ in cited if Path(s).name in new_sources),
                "uncommitted": len(uncommitted), "outside": len(outside),
                "snapshots": checker.snapshots, "violations": checker.violations,
                "visible_docs": checker.max_docs, "load": load,
                "server_mib": srv.memory_mib(), "code": code_version(),
            }
        finally:
            app.terminate()
            app.wait(timeout=30)
            if log:
                log.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500, help="generated documents to ingest")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--pause", type=float, default=2.0,
                        help="mean seconds a user waits between questions")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--backend", choices=("snapshot", "chroma"), default="snapshot",
                        help="search.backend of the app and the ingest (chroma: the search "
                        "runs in Chroma; its own section of results.md)")
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    parser.add_argument("--app-log", type=Path, default=None,
                        help="keep the web app's log (its tracebacks) in this file")
    args = parser.parse_args(argv)
    r = run(args.docs, args.users, args.pause, args.seed, backend=args.backend,
            app_log=args.app_log)
    chroma = args.backend == "chroma"
    body = (
        "## Soak: ingest while users ask, on a `chroma run` server (`python -m bench.soak"
        f"{' --backend chroma' if chroma else ''}`)\n\n"
        + ("The search runs in Chroma (`ASSISTANT_SEARCH__BACKEND=chroma` for the app and the "
           "ingest: no snapshot in the app).\n\n" if chroma else "") +
        f"`assistant ingest` of {r['docs']} generated reports into a real `chroma run` "
        f"server while {args.users} `gradio_client` users ask `assistant serve` (same "
        f"server, bundled corpus served first), each pausing about {args.pause:.0f} s "
        "between questions, until 15 s after the ingest ends (a run's files become visible "
        "together when it ends). Checks: errors (a failed request or a "
        "warning in the chat); cited files without a committed record right after the "
        "answer; passages shown that are not in the chunks their file's record lists; a checker "
        "reading the committed state every second (each visible file must have exactly its "
        f"listed chunks). Code: {r['code']}.\n\n"
        "| documents | ingest s | requests | errors | p50 s | p95 s | max s | citations (of "
        "new files) | uncommitted / outside | checker views (violations) | load avg |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"| {r['docs']} | {r['ingest_s']:.0f} | {r['requests']} | {len(r['errors'])} | "
        f"{r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} | {r['cited']} "
        f"({r['cited_new']}) | {r['uncommitted']} / {r['outside']} | {r['snapshots']} "
        f"({r['violations']}) | {r['load']} |\n\n"
        f"Ingest: {r['ingest_summary'][0]} Chroma server resident memory at the end "
        f"{r['server_mib']['rss']:.0f} MiB (peak {r['server_mib']['peak']:.0f}).\n")
    print(body)
    for e in r["errors"][:20]:
        print(e)
    if not args.no_write:
        write_section("soak-chroma" if chroma else "soak", body)
    bad = len(r["errors"]) + r["uncommitted"] + r["outside"] + r["violations"]
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
