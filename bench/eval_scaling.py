"""Does `assistant eval` take time linear in the number of cases? Measured on a dev set.

The command is run exactly as a user would run it (the installed entry point) on a folder
of text files from ``../shared/devsets/`` with a JSON Lines file of cases that name one
``gold_doc``. The folder is indexed once (shared overhead, timed on its own); each subset
then starts from a copy of that index, so its case time is the evaluation alone.

    python -m bench.eval_scaling                      # xquad_mixed_dev, 200/400/800 cases
    python -m bench.eval_scaling --sizes 100 200 --set ntrex_mixed_dev
    python -m bench.eval_scaling --sizes 50 100 200 --reuse /tmp/earlier-run
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.config import PROJECT_ROOT

from ._results import write_section

DEVSETS = PROJECT_ROOT.parent / "shared" / "devsets"
BIN = Path(sys.executable).parent


def _eval(qa: Path, corpus: Path, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    subprocess.run([str(BIN / "assistant"), "eval", "--qa", str(qa), "--corpus", str(corpus),
                    "--out", str(out), "-q"], check=True, capture_output=True, text=True)
    metrics: dict[str, Any] = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    metrics["run"]["wall_s"] = round(time.perf_counter() - started, 1)
    return metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="xquad_mixed_dev", help="folder in ../shared/devsets")
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 400, 800])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print, leave results.md")
    parser.add_argument("--reuse", type=Path, metavar="RUN",
                        help="an earlier `assistant eval` run folder on the same set: copy its "
                             "index (and report its index time) instead of indexing again")
    args = parser.parse_args(argv)
    corpus = DEVSETS / args.set
    lines = (DEVSETS / f"{args.set}.jsonl").read_text(encoding="utf-8").splitlines()
    # One shuffled order; each subset is a prefix of it, so larger subsets hold smaller ones.
    random.Random(args.seed).shuffle(lines)
    rows = []
    with tempfile.TemporaryDirectory(prefix="eval-scaling-") as tmp_dir:
        tmp = Path(tmp_dir)
        if args.reuse:
            shutil.copytree(args.reuse / "index", tmp / "indexed" / "index")
            index_s = json.loads((args.reuse / "metrics.json").read_text())["run"]["index_s"]
        else:
            (tmp / "one.jsonl").write_text(lines[0] + "\n", encoding="utf-8")
            index_s = _eval(tmp / "one.jsonl", corpus, tmp / "indexed")["run"]["index_s"]
        print(f"index of {args.set}: {index_s:.1f} s", flush=True)
        for n in args.sizes:
            qa = tmp / f"cases-{n}.jsonl"
            qa.write_text("\n".join(lines[:n]) + "\n", encoding="utf-8")
            out = tmp / f"run-{n}"
            out.mkdir()
            shutil.copytree(tmp / "indexed" / "index", out / "index")
            metrics = _eval(qa, corpus, out)
            run, overall = metrics["run"], metrics["overall"]
            rows.append((n, run["cases_s"], run["cases_cpu_s"], run["wall_s"], overall))
            print(f"{n} cases: {run['cases_s']:.1f} s wall, {run['cases_cpu_s']:.1f} s CPU "
                  f"({1000 * run['cases_cpu_s'] / n:.0f} ms/case), R@5 {overall['recall@5']:.3f}",
                  flush=True)
    first_n, first_cpu = rows[0][0], rows[0][2]
    table = ["| cases | case time, wall (s) | case time, CPU (s) | CPU per case (ms) | "
             "CPU vs linear | whole command, wall (s) | R@1 | R@5 | MRR@10 | containment |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, cases_s, cpu_s, wall_s, o in rows:
        ratio = cpu_s / (first_cpu * n / first_n)
        table.append(f"| {n} | {cases_s:.1f} | {cpu_s:.1f} | {1000 * cpu_s / n:.0f} | "
                     f"{ratio:.2f} | {wall_s:.1f} | {o['recall@1']:.3f} | {o['recall@5']:.3f} "
                     f"| {o['mrr@10']:.3f} | {o['containment']:.3f} |")
    body = "\n".join([
        f"## Evaluation time vs number of cases ({args.set})", "",
        f"`python -m bench.eval_scaling` runs `assistant eval` on subsets of "
        f"`{args.set}.jsonl` (seeded shuffle, each a prefix of the next). Indexing the "
        f"{len(list(corpus.iterdir()))} files is shared overhead, {index_s:.1f} s, "
        "measured once; every subset starts from a copy of that index. 'CPU vs linear' is "
        "the CPU time of the cases divided by the smallest subset's scaled up: 1.00 is "
        "exactly linear (CPU time, all threads, because four other jobs shared the two "
        "cores and the wall clock measures them too). 'Whole command' includes starting "
        "Python and loading the models. Containment accepts the reference in the "
        "question's or the document's language (`answers_doc_lang`): the extractive "
        "backend quotes the document.", "", *table])
    print(body)
    if not args.no_write:
        write_section(f"eval-scaling-{args.set}", body)


if __name__ == "__main__":
    main()
