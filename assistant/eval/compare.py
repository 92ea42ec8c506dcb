"""Two evaluation runs side by side: metric deltas, flipped cases, and a verdict for CI."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import InputError
from assistant.eval.metrics import LOWER_IS_BETTER
from assistant.eval.report import HEADLINE
from assistant.eval.runner import METRICS

# Quality measures that hold the line; latency is reported, never gated (timings vary).
GATED = [key for key, _ in HEADLINE]
DEFAULT_THRESHOLD = 0.02


def load_metrics(path: Path) -> dict[str, Any]:
    """A run folder or its metrics.json (a committed baseline is just that file)."""
    file = path / METRICS if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError:
        raise InputError(f"No evaluation run at {path} (expected {METRICS} there).") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{file} is not valid JSON: {exc}") from None
    if "overall" not in data:
        raise InputError(f"{file} is not an evaluation's {METRICS}.")
    return dict(data)


@dataclass
class Comparison:
    deltas: list[tuple[str, float | None, float | None, float | None]]
    regressions: list[str]
    flipped: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    only_in_a: int = 0
    only_in_b: int = 0

    def render(self, threshold: float) -> str:
        lines = [f"{'metric':<22} {'A':>8} {'B':>8} {'delta':>8}"]
        for key, a, b, delta in self.deltas:
            mark = "  REGRESSION" if key in self.regressions else ""
            lines.append(f"{key:<22} {_f(a):>8} {_f(b):>8} {_f(delta, True):>8}{mark}")
        if self.only_in_a or self.only_in_b:
            lines.append(f"\ncases only in A: {self.only_in_a}, only in B: {self.only_in_b} "
                         "(flips are counted on the cases both ran)")
        for flag, flips in self.flipped.items():
            lost = [case for case, a, b in flips if a > b]
            gained = [case for case, a, b in flips if b > a]
            lines.append(f"\n{flag}: {len(gained)} gained, {len(lost)} lost")
            lines += [f"  - {case}" for case in lost[:20]]
            lines += [f"  + {case}" for case in gained[:20]]
        verdict = (f"\nRegression beyond {threshold}: " + ", ".join(self.regressions)
                   if self.regressions else f"\nNo metric dropped by more than {threshold}.")
        return "\n".join(lines) + verdict


def _f(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def compare(a: dict[str, Any], b: dict[str, Any],
            threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """B judged against A: a gated metric worse by more than ``threshold`` (lower; higher
    for ``LOWER_IS_BETTER``) is a regression."""
    deltas: list[tuple[str, float | None, float | None, float | None]] = []
    regressions = []
    keys = [*GATED, "latency_p50_ms", "latency_p95_ms"]
    for key in keys:
        va, vb = a["overall"].get(key), b["overall"].get(key)
        delta = None if va is None or vb is None else round(vb - va, 4)
        deltas.append((key, va, vb, delta))
        worse = -delta if delta is not None and key in LOWER_IS_BETTER else delta
        if key in GATED and worse is not None and worse < -threshold:
            regressions.append(key)
    cases_a, cases_b = a.get("per_case", {}), b.get("per_case", {})
    flipped: dict[str, list[tuple[str, int, int]]] = {}
    for case in sorted(cases_a.keys() & cases_b.keys()):
        for flag, value in cases_a[case].items():
            other = cases_b[case].get(flag)
            if other is not None and other != value:
                flipped.setdefault(flag, []).append((case, value, other))
    return Comparison(deltas, regressions, flipped, len(cases_a.keys() - cases_b.keys()),
                      len(cases_b.keys() - cases_a.keys()))
