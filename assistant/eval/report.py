"""An evaluation run as a reader sees it: ``report.md`` and a PNG chart.

The chart's heat-maps put question languages on rows and document languages on columns,
so a weak language pair is a pale cell, visible at a glance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Metrics shown, in order: (key in metrics.json, column title).
HEADLINE = [
    ("recall@1", "R@1"), ("recall@3", "R@3"), ("recall@5", "R@5"), ("recall@10", "R@10"),
    ("mrr@10", "MRR@10"), ("containment", "contains"),
    ("containment_qlang", "contains (q lang)"), ("token_f1", "F1"),
    ("citation_precision", "cite P"), ("citation_recall", "cite R"),
    ("abstention_precision", "abstain P"), ("abstention_recall", "abstain R"),
    ("lead_in_question_lang", "lead lang"),
    ("answer_precision", "answer P"), ("wrong_figure_rate", "wrong fig"),
    ("answered_when_unanswerable", "answered unans"),
    ("abstain_when_gold_first", "abstain gold@1"),
]
MIXED = "multi"
# Recall@1, not @5: on a small corpus every pair finds its document among the first five.
HEATMAPS = [("recall@1", "Right document first (recall@1)"),
            ("containment", "Answer contains the reference (containment)")]
WEAK_BELOW = 0.6


def _fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "–"
    if key.endswith("_ms"):
        return f"{value:.0f}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(groups: dict[str, dict[str, Any]], first: str) -> list[str]:
    cols = [*HEADLINE, ("latency_p50_ms", "p50 ms")]
    lines = [f"| {first} | n | " + " | ".join(title for _, title in cols) + " |",
             "|---|---:|" + "---:|" * len(cols)]
    for label, m in groups.items():
        lines.append(f"| {label} | {m['cases']} | "
                     + " | ".join(_fmt(m.get(key), key) for key, _ in cols) + " |")
    return lines


def weak_pairs(metrics: dict[str, Any], below: float = WEAK_BELOW) -> list[tuple[str, float]]:
    """(pair, its lowest heat-map value) for pairs under ``below`` on any of them, worst first."""
    weak = []
    for pair, m in metrics["by_pair"].items():
        values = [m[key] for key, _ in HEATMAPS if m.get(key) is not None]
        if values and min(values) < below:
            weak.append((pair, min(values)))
    return sorted(weak, key=lambda item: item[1])


def write_report(metrics: dict[str, Any], path: Path, chart: str | None = None) -> None:
    run, overall = metrics["run"], metrics["overall"]
    lines = [
        "# Evaluation report", "",
        f"Cases: {overall['cases']} of {run['cases']} ({run['cross_lingual']} cross-lingual) · "
        f"backend `{run['backend']}` · fusion `{run['fusion']}` · k {run['k']} · "
        f"corpus `{run['corpus']}` · {run['finished']}", "",
        "## Headline", "",
        "| metric | value |", "|---|---:|",
        *(f"| {title} ({key}) | {_fmt(overall.get(key))} |" for key, title in HEADLINE),
        f"| latency p50 / p95 | {overall['latency_p50_ms']} / {overall['latency_p95_ms']} ms |",
        "",
    ]
    if chart:
        lines += [f"![Recall@1 and containment per language pair]({chart})", ""]
    weak = weak_pairs(metrics)
    lines += ["## Weak language pairs", "",
              f"Question → document language pairs below {WEAK_BELOW} on recall@1 or "
              "containment, worst first:", ""]
    lines += [f"- **{pair}** (n={metrics['by_pair'][pair]['cases']}): " + ", ".join(
        f"{key} {metrics['by_pair'][pair][key]:.3f}" for key, _ in HEATMAPS
        if metrics["by_pair"][pair].get(key) is not None) for pair, _ in weak] or ["- none"]
    lines += ["", "## By question language → document language", "",
              *_table(metrics["by_pair"], "pair"), "",
              "## By tag", "", *_table(metrics["by_tag"], "tag"), ""]
    if metrics.get("by_split"):
        lines += ["## By split (tune: cases tuned on; heldout: never tuned on)", "",
                  *_table(metrics["by_split"], "split"), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _grid(metrics: dict[str, Any], key: str) -> tuple[list[str], list[str], Any, Any]:
    import numpy as np

    pairs = {tuple(p.split("→", 1)): m for p, m in metrics["by_pair"].items()
             if m.get(key) is not None}
    rows = sorted({q for q, _ in pairs})
    # Mixed-language (two-report) cases in the last column, after the single languages.
    cols = sorted({d for _, d in pairs}, key=lambda d: (d == MIXED, d))
    values = np.full((len(rows), len(cols)), np.nan)
    counts = np.zeros((len(rows), len(cols)), dtype=int)
    for (q, d), m in pairs.items():
        values[rows.index(q), cols.index(d)] = m[key]
        counts[rows.index(q), cols.index(d)] = m["cases"]
    return rows, cols, values, counts


def write_chart(metrics: dict[str, Any], path: Path) -> None:
    """Headline bars and one heat-map per pair metric, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 1 + len(HEATMAPS), figsize=(6 + 5 * len(HEATMAPS), 4.8))
    overall = metrics["overall"]
    shown = [(title, overall[key]) for key, title in HEADLINE if overall.get(key) is not None]
    bars = axes[0]
    bars.barh([t for t, _ in shown][::-1], [v for _, v in shown][::-1], color="#4c72b0")
    bars.set_xlim(0, 1)
    bars.set_title(f"Headline ({overall['cases']} cases)")
    for y, (_, value) in enumerate(shown[::-1]):
        bars.text(min(value + 0.01, 0.88), y, f"{value:.2f}", va="center", fontsize=8)
    cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#dddddd")  # grey: no case
    for ax, (key, title) in zip(axes[1:], HEATMAPS, strict=True):
        rows, cols, values, counts = _grid(metrics, key)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1,
                          aspect="auto")
        ax.set_xticks(range(len(cols)), cols)
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlabel("document language")
        ax.set_ylabel("question language")
        ax.set_title(title, fontsize=10)
        for i in range(len(rows)):
            for j in range(len(cols)):
                if counts[i, j]:
                    ax.text(j, i, f"{values[i, j]:.2f}\nn={counts[i, j]}", ha="center",
                            va="center", fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
