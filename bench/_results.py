"""Each benchmark owns one marked section of bench/results.md and rewrites only that."""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
PROJECT_ROOT = RESULTS.parent.parent


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal"))
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        mem = "unknown RAM"
    return (f"{cpu}, {os.cpu_count()} cores, {mem}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


# What follows this line in a section, up to its stamp, was written by hand (earlier runs,
# what changed): a rerun keeps it under the new figures.
NOTES = "<!-- notes: kept when the bench rewrites this section -->"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section between BEGIN/END markers named ``name``, keeping
    its notes (``NOTES``)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->",
                         re.S)
    found = pattern.search(text)
    notes = ""
    if found and NOTES in found.group(0):
        kept = found.group(0)[found.group(0).index(NOTES):]
        end = kept.rfind("\n_Measured ")  # the old stamp is not a note
        notes = (kept[:end] if end > 0 else kept).rstrip() + "\n\n"
    block = (f"<!-- BEGIN {name} -->\n{body.rstrip()}\n\n{notes}"
             f"_Measured {stamp} on {machine()}._\n<!-- END {name} -->")
    text = pattern.sub(lambda _: block, text) if found else f"{text.rstrip()}\n\n{block}\n"
    RESULTS.write_text(text, encoding="utf-8")


def code_version() -> str:
    """Git HEAD, and a digest of assistant/*.py (the working tree may be ahead of HEAD)."""
    digest = hashlib.sha256()
    for path in sorted((PROJECT_ROOT / "assistant").rglob("*.py")):
        digest.update(path.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "assistant"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head, dirty = "unknown", ""
    return (f"{head}{' + uncommitted changes' if dirty else ''}, "
            f"assistant/*.py digest {digest.hexdigest()[:10]}")

