"""Measuring helpers for the benches: a stopwatch over named callables, memory, load, percentiles.
"""

from __future__ import annotations

import functools
import os
import resource
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np


class Stopwatch:
    """Wraps callables (methods, module functions) to add up their wall time and calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attr: str, name: str | Callable[..., str] | None = None,
             count: Callable[..., int] | None = None) -> None:
        # A missing attribute is an error, not a silent gap in the figures: the code moved on
        # and the bench must follow it.
        original = getattr(owner, attr)
        own = attr in vars(owner)
        before = vars(owner).get(attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                label = name(*args, **kwargs) if callable(name) else name or attr
                self.seconds[label] += elapsed
                self.calls[label] += 1
                if count is not None:
                    self.items[label] += count(*args, **kwargs)

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, before) if own
                          else delattr(owner, attr))

    def wrap_iter(self, owner: Any, attr: str, name: str) -> None:
        """Like ``wrap`` for a generator: times the work done inside each ``next``."""
        original = getattr(owner, attr)
        own = attr in vars(owner)
        before = vars(owner).get(attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            iterator = iter(original(*args, **kwargs))
            while True:
                start = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    self.seconds[name] += time.perf_counter() - start
                yield item

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, before) if own
                          else delattr(owner, attr))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.items.clear()



def timed(fn: Callable[[int], Any], n: int, budget_s: float) -> list[float]:
    """Milliseconds of ``fn(0)``, ``fn(1)``, ... up to ``n`` calls or ``budget_s`` seconds."""
    out: list[float] = []
    deadline = time.perf_counter() + budget_s
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(1000 * (time.perf_counter() - t))
        if time.perf_counter() > deadline:
            break
    return out


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def load_avg() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def du_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


