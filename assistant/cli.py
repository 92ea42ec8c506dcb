"""The ``assistant`` command: ingest, ask, sources, remove, reset, serve."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from assistant.answer.types import Answer
from assistant.config import Settings
from assistant.errors import AssistantError, InputError
from assistant.eval.cli import eval_group
from assistant.search.filters import Filters
from assistant.service import Assistant
from assistant.text.dates import parse as parse_date

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PARTIAL = 1  # some files failed; the rest were indexed


def _friendly(fn: F) -> F:
    """Our errors become one readable line and a meaningful exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AssistantError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    try:
        return parse_date(value, "date")
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--index", "index_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Chroma folder to use (default: ./index, or ASSISTANT_INDEX_DIR).")
@click.option("--chroma-url", help="Use a Chroma server instead, e.g. http://127.0.0.1:8000.")
@click.version_option(package_name="health-assistant")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None, chroma_url: str | None) -> None:
    """Ask questions about health reports in any of five languages; every answer cites
    the passages it came from. Works offline; no language model needed.

    \b
    Quick start:
      assistant ingest                  # index the bundled corpus/
      assistant ask "How many hospital beds does Lang Son have?"
      assistant serve                   # web chat on http://127.0.0.1:7860
    """
    overrides: dict[str, Any] = {}
    if index_dir:
        overrides["index_dir"] = index_dir
    if chroma_url:
        overrides["chroma_url"] = chroma_url
    ctx.obj = Assistant(Settings(**overrides))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Drop the index first and embed everything anew.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_obj
@_friendly
def ingest(assistant: Assistant, paths: tuple[Path, ...], rebuild: bool, quiet: bool) -> None:
    """Index files and folders (default: the corpus folder).

    New and changed files are embedded, files deleted from a folder are removed from the
    index, unchanged files are skipped. Supported: .txt .md .html .pdf .docx.
    """
    if rebuild:
        assistant.reset()
    targets = list(paths) or [assistant.settings.corpus_dir]
    report = assistant.ingest(targets, progress=not quiet and sys.stderr.isatty())
    for source, reason in report.failed:
        click.secho(f"  failed: {source}: {reason}", fg="yellow", err=True)
    if report.skipped:
        click.echo(f"  skipped {len(report.skipped)} unsupported file(s): "
                   + ", ".join(report.skipped[:5]) + (" …" if len(report.skipped) > 5 else ""),
                   err=True)
    click.echo(report.summary())
    if report.failed:
        sys.exit(EXIT_PARTIAL)


@cli.command()
@click.argument("question")
@click.option("--lang", "languages", multiple=True, metavar="CODE",
              help="Only passages in this language (en, vi, uk, fr, ar); repeatable.")
@click.option("--province", "provinces", multiple=True, help="Only reports about this province.")
@click.option("--source", "sources", multiple=True, help="Only this file (as `sources` lists).")
@click.option("--since", callback=_date, help="Only reports dated on or after YYYY-MM-DD.")
@click.option("--until", callback=_date, help="Only reports dated on or before YYYY-MM-DD.")
@click.option("-k", "k", type=click.IntRange(1, 50), help="Passages to read the answer from.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--backend", type=click.Choice(["extractive", "openai", "local"]),
              help="Answer backend (default: ASSISTANT_ANSWER_BACKEND, else extractive).")
@click.option("--stream", is_flag=True,
              help="Print the answer as it is generated, then the checked answer's sources.")
@click.pass_obj
@_friendly
def ask(assistant: Assistant, question: str, languages: tuple[str, ...],
        provinces: tuple[str, ...], sources: tuple[str, ...], since: date | None,
        until: date | None, k: int | None, as_json: bool, backend: str | None,
        stream: bool) -> None:
    """Answer QUESTION from the indexed documents, with numbered citations.

    With a language model (--backend openai or local; see README) the answer is written in
    the question's language; if the model fails, the extractive answer is shown instead.
    """
    filters = Filters(languages, provinces, sources, since, until)
    if backend and backend != assistant.settings.answer_backend:
        assistant = Assistant(assistant.settings.model_copy(update={"answer_backend": backend}))
    try:
        if stream and not as_json:
            answer = _print_stream(assistant.ask_stream(question, filters, k))
        else:
            answer = assistant.ask(question, filters, k)
    finally:
        assistant.close()
    if answer.extra.get("fallback"):
        click.secho(f"Note: {answer.extra['notice']}", fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    if not stream:
        click.echo(answer.answer)
    click.secho(f"[{answer.status}]", fg={"answered": "green", "partial": "yellow"}.get(
        answer.status, "red"), err=True)
    # An abstention's [1] is the nearest report ("it gives X, not Y").
    cited = answer.citations or answer.nearest
    if cited:
        click.echo()
        for c in cited:
            url = f"\n      {c.url}" if c.url else ""
            click.echo(f"  [{c.n}] {c.title} ({c.source}){url}")
    if answer.abstained and answer.suggestions:
        # Apart from the answer: the closest passages, which the answer does not cite.
        click.echo("\nClosest passages (suggestions, not an answer):")
        for c in answer.suggestions:
            click.echo(f"  - {c.title} ({c.source}): {c.text[:160]}")


def _print_stream(items: Iterator[str | Answer]) -> Answer:
    """Deltas as they come; the final answer again if checking changed it (or a fallback)."""
    shown: list[str] = []
    for item in items:
        if isinstance(item, Answer):
            click.echo()
            if item.answer != "".join(shown).strip():
                click.echo(item.answer)
            return item
        shown.append(item)
        click.echo(item, nl=False)
    raise AssertionError("the answer stream ended without an Answer")


@cli.command()
@click.argument("topic", default="")
@click.option("--province", help="Only reports about this province (any spelling or script).")
@click.option("--since", callback=_date, help="Only reports dated on or after YYYY-MM-DD.")
@click.option("--until", callback=_date, help="Only reports dated on or before YYYY-MM-DD.")
@click.option("--lang", "language", metavar="CODE",
              help="Language of headings and labels: one of ASSISTANT_LANGUAGES "
                   "(default: the first, en).")
@click.option("--format", "fmt", type=click.Choice(["md", "docx", "json"]), default="md",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (required for docx; default: print).")
@click.pass_obj
@_friendly
def brief(assistant: Assistant, topic: str, province: str | None, since: date | None,
          until: date | None, language: str | None, fmt: str, output: Path | None) -> None:
    """A one-page briefing on TOPIC from every relevant report, every line cited.

    \b
    Examples:
      assistant brief "digital transformation"
      assistant brief --province "Lang Son" --lang fr --format docx -o lang-son.docx
    """
    from assistant.briefing.briefer import BriefRequest
    from assistant.briefing.export import export

    if fmt == "docx" and output is None:
        raise click.UsageError("--format docx needs -o FILE.docx")
    languages = assistant.settings.languages
    if language is not None and language not in languages:
        raise InputError(f"--lang {language} is not one of the configured languages "
                         f"({', '.join(languages)}).")
    language = language or languages[0]
    briefing = assistant.brief(BriefRequest(topic, province, since, until, language))
    if briefing.model_error:
        click.echo(f"Note: the language model failed ({briefing.model_error}); "
                   "the summary quotes the reports instead.", err=True)
    result = export(briefing, fmt, output)  # type: ignore[arg-type]
    if output is None:
        click.echo(result)
    else:
        click.echo(f"Wrote {output} ({len(briefing.citations)} source(s), "
                   f"{len(briefing.figures)} figure(s)).")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@_friendly
def sources(assistant: Assistant, as_json: bool) -> None:
    """List indexed documents with language, chunk count and date."""
    records = assistant.sources()
    if as_json:
        click.echo(json.dumps([{
            "source": r.source, "title": r.title, "language": r.language,
            "chunks": len(r.chunk_ids), "date": r.date, "url": r.url,
            "provinces": r.provinces} for r in records], ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("The index is empty. Run `assistant ingest` first.")
        return
    click.echo(f"{'source':<40} {'lang':<5} {'chunks':>6}  {'date':<10}  title")
    for r in records:
        click.echo(f"{r.source:<40} {r.language:<5} {len(r.chunk_ids):>6}  "
                   f"{r.date or '-':<10}  {r.title[:60]}")
    click.echo(f"{len(records)} document(s), {sum(len(r.chunk_ids) for r in records)} chunks.")


@cli.command()
@click.argument("source")
@click.pass_obj
@_friendly
def remove(assistant: Assistant, source: str) -> None:
    """Remove SOURCE (a path as `sources` lists it) and its chunks from the index."""
    if not assistant.remove(source):
        raise click.ClickException(f"'{source}' is not in the index (see `assistant sources`).")
    click.echo(f"Removed {source}.")


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
@_friendly
def reset(assistant: Assistant, yes: bool) -> None:
    """Delete every document and vector from the index."""
    if not yes and not click.confirm(f"Delete the whole index at {assistant.store.location}?"):
        raise click.Abort()
    assistant.reset()
    click.echo("Index reset.")


@cli.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 7860).")
@click.option("--no-ingest", is_flag=True, help="Serve the index as it is.")
@click.option("--root-path", help="URL prefix behind a reverse proxy, e.g. /assistant.")
@click.pass_obj
@_friendly
def serve(assistant: Assistant, host: str | None, port: int | None, no_ingest: bool,
          root_path: str | None) -> None:
    """Start the web chat (ingests the corpus folder first unless --no-ingest).

    Sign-in is on when ASSISTANT_USERS_FILE names a users file (see `assistant users add`).
    """
    from assistant.web.app import serve as serve_web

    if root_path is not None:  # settings are chosen once, before anything is built
        assistant = Assistant(assistant.settings.model_copy(update={"root_path": root_path}))
    if not no_ingest:
        click.echo(assistant.ingest(progress=sys.stderr.isatty()).summary())
    assistant.warm_up()  # the first user's question does not pay for loading
    serve_web(assistant, host=host, port=port)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False,
                                                                  path_type=Path))
@click.pass_obj
@_friendly
def add(assistant: Assistant, files: tuple[Path, ...]) -> None:
    """Check FILES as the web upload does (size, type, zip bombs, duplicates), copy the good
    ones into the uploads folder and index them."""
    report = assistant.add_files([(f, f.name) for f in files])
    click.echo(report.summary())
    if report.refused or (report.ingest and report.ingest.failed):
        sys.exit(EXIT_PARTIAL)


@cli.group()
def feedback() -> None:
    """Feedback staff gave on answers in the web chat."""


@feedback.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl",
              show_default=True)
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
@click.pass_obj
@_friendly
def feedback_export(assistant: Assistant, fmt: str, output: Any) -> None:
    """Write every feedback row (rating, comment, question, answer, sources, backend,
    latency) as CSV or JSONL, e.g. to turn into evaluation cases."""
    from assistant.web.feedback import FeedbackStore

    count = FeedbackStore(assistant.settings.data_dir).export(output, fmt)  # type: ignore[arg-type]
    click.echo(f"{count} feedback row(s) exported.", err=True)


@cli.group()
def users() -> None:
    """Web sign-in accounts, kept in ASSISTANT_USERS_FILE with bcrypt-hashed passwords."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff",
              show_default=True, help="Admins may upload and delete documents.")
@click.password_option(help="Asked for when not given.")
@click.pass_obj
@_friendly
def users_add(assistant: Assistant, name: str, role: str, password: str) -> None:
    """Create NAME, or replace its password and role."""
    from assistant.web.auth import add_user

    path = assistant.settings.users_file
    if path is None:
        raise click.UsageError("Set ASSISTANT_USERS_FILE to the users file to write.")
    add_user(path, name, password, role)  # type: ignore[arg-type]
    click.echo(f"Saved {name} ({role}) in {path}.")


cli.add_command(eval_group)


def main() -> None:
    cli(prog_name="assistant")
