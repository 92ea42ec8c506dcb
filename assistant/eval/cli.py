"""``assistant eval`` (run a suite) and ``assistant eval compare`` (judge two runs)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

import click

from assistant.config import Settings
from assistant.errors import AssistantError

BACKENDS = list(get_args(Settings.model_fields["answer_backend"].annotation))
EXIT_REGRESSION = 1


def _fail(exc: AssistantError) -> None:
    click.secho(f"Error: {exc}", fg="red", err=True)
    sys.exit(exc.exit_code)


def _base_settings(ctx: click.Context) -> Settings:
    # The top-level group built the user's settings (env, --index); start from those.
    settings = getattr(ctx.obj, "settings", None)
    return settings if isinstance(settings, Settings) else Settings()


@click.group("eval", invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--qa", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Cases file, JSON Lines (required to run).")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of documents the cases are about (required to run).")
@click.option("--backend", type=click.Choice(BACKENDS),
              help="Answer backend (default: ASSISTANT_ANSWER_BACKEND or extractive).")
@click.option("-k", "--k", "k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Distinct documents kept per question for recall@k and MRR.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Run folder: index, predictions.jsonl, metrics.json, report.md, chart.png "
                   "(required to run; rerun with the same folder to resume).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
def eval_group(ctx: click.Context, qa: Path | None, corpus: Path | None, backend: str | None,
               k: int, out: Path | None, quiet: bool) -> None:
    """Measure retrieval, answers, citations and abstention on a set of cases.

    \b
    Run a suite (indexes CORPUS under OUT/index, never your own index):
      assistant eval --qa eval/cases.jsonl --corpus corpus --out runs/today
    Compare two runs (a folder or a metrics.json; exit 1 on a regression):
      assistant eval compare eval/baseline/metrics.json runs/today

    Cases are JSON Lines: {"id", "question", "question_lang", "answers": [...],
    "gold_docs": [paths relative to CORPUS] (or one "gold_doc"), "unanswerable", "tags"};
    optional "answers_doc_lang" (the references as the document writes them) and
    "doc_lang"; other fields are kept and copied into the predictions. An interrupted run resumes
    where it stopped when given the same --out.
    """
    if ctx.invoked_subcommand is not None:
        return
    missing = [name for name, value in (("--qa", qa), ("--corpus", corpus), ("--out", out))
               if value is None]
    if missing:
        raise click.UsageError(f"Missing {', '.join(missing)} (or a subcommand: compare).")
    assert qa is not None and corpus is not None and out is not None
    from assistant.eval.runner import Evaluation

    settings = _base_settings(ctx)
    if backend:
        settings = settings.variant(answer_backend=backend)
    try:
        result = Evaluation(settings, qa, corpus, out, k=k).run(
            progress=not quiet and sys.stderr.isatty())
    except AssistantError as exc:
        _fail(exc)
        return
    overall = result.metrics["overall"]
    click.echo(f"{result.cases} cases ({result.ran} run now, {result.cases - result.ran} "
               f"resumed); index {result.index_s:.1f} s, cases {result.cases_s:.1f} s "
               f"({result.metrics['run']['cases_cpu_s']:.1f} s CPU)")
    click.echo("  ".join(f"{key} {overall[key]:.3f}" for key in
                         ("recall@1", "recall@5", "mrr@10", "containment", "token_f1",
                          "citation_precision", "abstention_recall")
                         if overall.get(key) is not None))
    click.echo(f"Report: {out / 'report.md'}")


@eval_group.command("compare")
@click.argument("run_a", type=click.Path(exists=True, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, path_type=Path))
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Largest drop tolerated in any quality metric (default 0.02).")
def compare_command(run_a: Path, run_b: Path, threshold: float | None) -> None:
    """Per-metric deltas of RUN_B against RUN_A and the cases that flipped.

    Exits 1 when a quality metric (recall, MRR, containment, F1, citation or abstention
    precision and recall) of RUN_B is lower than RUN_A's by more than the threshold, so
    CI can hold the line against a committed baseline. Latency is shown, never gated.
    """
    from assistant.eval.compare import DEFAULT_THRESHOLD, compare, load_metrics

    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    try:
        result = compare(load_metrics(run_a), load_metrics(run_b), limit)
    except AssistantError as exc:
        _fail(exc)
        return
    click.echo(result.render(limit))
    if result.regressions:
        sys.exit(EXIT_REGRESSION)
