"""The ``assistant`` command: ingest, ask, brief, sources, remove, reset, serve, add, and the
groups of other modules (eval, audit, users, feedback)."""


from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from assistant.access import clean_groups
from assistant.answer.types import Answer
from assistant.cli._support import (
    AS_USER,
    EXIT_PARTIAL,
    Session,
    optional_date,
    pass_assistant,
    plain,
    reader_named,
)
from assistant.cli.accounts import feedback_group, users_group
from assistant.cli.keys import keys_group
from assistant.config import Settings, describe
from assistant.errors import InputError
from assistant.eval.cli import eval_group
from assistant.records.cli import audit_group, cli_event
from assistant.search.filters import Filters
from assistant.service import Assistant


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
    try:
        ctx.obj = Session(Settings(**overrides))
    except ValidationError as exc:  # a bad ASSISTANT_* value: say which, not a traceback
        problems = "; ".join(f"{describe(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise click.UsageError(f"Invalid setting: {problems}") from None
    except SettingsError as exc:  # a group's variable that is not a JSON object
        raise click.UsageError(f"Invalid setting: {exc} (ASSISTANT_<GROUP> takes a JSON "
                               "object; one field: ASSISTANT_<GROUP>__<FIELD>)") from None


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Drop the index first and embed everything anew.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@pass_assistant
def ingest(assistant: Assistant, paths: tuple[Path, ...], rebuild: bool, quiet: bool) -> None:
    """Index files and folders (default: the corpus folder).

    New and changed files are embedded, files deleted from a folder are removed from the
    index, unchanged files are skipped. Supported: .txt .md .csv .html .pdf .docx .xlsx
    .png .jpg .tif (scanned PDF pages and images are read by OCR: `make ocr`).
    """
    if rebuild:
        assistant.reset()
    targets = list(paths) or [assistant.settings.corpus_dir]
    report = assistant.ingest(targets, progress=not quiet and sys.stderr.isatty())
    for source, reason in report.failed:
        click.secho(f"  failed: {plain(source)}: {plain(reason)}", fg="yellow", err=True)
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
@click.option("--since", callback=optional_date, help="Only reports dated on or after YYYY-MM-DD.")
@click.option("--until", callback=optional_date, help="Only reports dated on or before YYYY-MM-DD.")
@click.option("-k", "k", type=click.IntRange(1, 50), help="Passages to read the answer from.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--backend", type=click.Choice(["extractive", "openai", "local"]),
              help="Answer backend (default: ASSISTANT_ANSWER_BACKEND, else extractive).")
@click.option("--stream", is_flag=True,
              help="Print the answer as it is generated, then the checked answer's sources.")
@AS_USER
@pass_assistant
def ask(assistant: Assistant, question: str, languages: tuple[str, ...],
        provinces: tuple[str, ...], sources: tuple[str, ...], since: date | None,
        until: date | None, k: int | None, as_json: bool, backend: str | None,
        stream: bool, as_user: str | None) -> None:
    """Answer QUESTION from the indexed documents, with numbered citations.

    With a language model (--backend openai or local; see README) the answer is written in
    the question's language; if the model fails, the extractive answer is shown instead.
    """
    reader = reader_named(assistant, as_user)
    known = assistant.settings.languages
    if unknown := [code for code in languages if code not in known]:
        raise InputError(f"--lang {unknown[0]} is not one of the configured languages "
                         f"({', '.join(known)}).")
    if sources:  # a name USER may not read is as unknown as one that does not exist
        indexed = {r.source for r in assistant.sources(reader)}
        if missing := [s for s in sources if s not in indexed]:
            raise InputError(f"--source {missing[0]} is not an indexed document "
                             "(see `assistant sources`).")
    filters = Filters(languages, provinces, sources, since, until, reader)
    if backend and backend != assistant.settings.answer_backend:
        assistant = Assistant(assistant.settings.variant(answer_backend=backend))
    try:
        if stream and not as_json:
            answer = _print_stream(assistant.ask_stream(question, filters, k))
        else:
            answer = assistant.ask(question, filters, k)
    finally:
        assistant.close()
    if answer.fallback:
        click.secho(f"Note: {answer.fallback.notice}", fg="yellow", err=True)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return
    if not stream:
        click.echo(plain(answer.answer))
    click.secho(f"[{answer.status}]", fg={"answered": "green", "partial": "yellow"}.get(
        answer.status, "red"), err=True)
    # An abstention's [1] is the nearest report ("it gives X, not Y").
    cited = answer.citations or answer.nearest
    if cited:
        click.echo()
        for c in cited:
            url = f"\n      {plain(c.url)}" if c.url else ""
            click.echo(f"  [{c.n}] {plain(c.title)} ({plain(c.source)}){url}")
    if answer.abstained and answer.suggestions:
        # Apart from the answer: the closest passages, which the answer does not cite.
        click.echo("\nClosest passages (suggestions, not an answer):")
        for c in answer.suggestions:
            click.echo(f"  - {plain(c.title)} ({plain(c.source)}): {plain(c.text[:160])}")


def _print_stream(items: Iterator[str | Answer]) -> Answer:
    """Deltas as they come; the final answer again if checking changed it (or a fallback)."""
    shown: list[str] = []
    for item in items:
        if isinstance(item, Answer):
            click.echo()
            if item.answer != "".join(shown).strip():
                click.echo(plain(item.answer))
            return item
        shown.append(item)
        click.echo(plain(item), nl=False)
    raise AssertionError("the answer stream ended without an Answer")


@cli.command()
@click.argument("topic", default="")
@click.option("--province", help="Only reports about this province (any spelling or script).")
@click.option("--since", callback=optional_date, help="Only reports dated on or after YYYY-MM-DD.")
@click.option("--until", callback=optional_date, help="Only reports dated on or before YYYY-MM-DD.")
@click.option("--lang", "language", metavar="CODE",
              help="Language of headings and labels: one of ASSISTANT_LANGUAGES "
                   "(default: the first, en).")
@click.option("--format", "fmt", type=click.Choice(["md", "docx", "json"]), default="md",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (required for docx; default: print).")
@AS_USER
@pass_assistant
def brief(assistant: Assistant, topic: str, province: str | None, since: date | None,
          until: date | None, language: str | None, fmt: str, output: Path | None,
          as_user: str | None) -> None:
    """A one-page briefing on TOPIC from every relevant report, every line cited.

    \b
    Examples:
      assistant brief "digital transformation"
      assistant brief --province "Lang Son" --lang fr --format docx -o lang-son.docx
    """
    from assistant.briefing.export import export
    from assistant.briefing.types import BriefRequest

    if fmt == "docx" and output is None:
        raise click.UsageError("--format docx needs -o FILE.docx")
    languages = assistant.settings.languages
    if language is not None and language not in languages:
        raise InputError(f"--lang {language} is not one of the configured languages "
                         f"({', '.join(languages)}).")
    language = language or languages[0]
    reader = reader_named(assistant, as_user)
    briefing = assistant.brief(BriefRequest(topic, province, since, until, language, reader))
    if briefing.model_error:
        click.echo(f"Note: the language model failed ({briefing.model_error}); "
                   "the summary quotes the reports instead.", err=True)
    result = export(briefing, fmt, output)  # type: ignore[arg-type]
    cli_event(assistant, "briefing", topic=topic, province=province, language=language,
              documents=list(dict.fromkeys(c.source for c in briefing.citations)))
    if output is None:
        click.echo(plain(str(result)) if fmt == "md" else result)
    else:
        click.echo(f"Wrote {output} ({len(briefing.citations)} source(s), "
                   f"{len(briefing.figures)} figure(s)).")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_assistant
def sources(assistant: Assistant, as_json: bool) -> None:
    """List indexed documents with language, chunk count and date."""
    records = assistant.sources()
    if as_json:
        click.echo(json.dumps([{
            "source": r.source, "title": r.title, "language": r.language,
            "chunks": len(r.chunk_ids), "date": r.date, "url": r.url,
            "provinces": r.provinces, "groups": r.groups} for r in records],
            ensure_ascii=False, indent=2))
        return
    if not records:
        click.echo("The index is empty. Run `assistant ingest` first.")
        return
    click.echo(f"{'source':<40} {'lang':<5} {'chunks':>6}  {'date':<10}  title")
    for r in records:
        click.echo(f"{plain(r.source):<40} {r.language:<5} {len(r.chunk_ids):>6}  "
                   f"{r.date or '-':<10}  {plain(r.title)[:60]}")
    click.echo(f"{len(records)} document(s), {sum(len(r.chunk_ids) for r in records)} chunks.")


@cli.command()
@click.argument("source")
@pass_assistant
def remove(assistant: Assistant, source: str) -> None:
    """Remove SOURCE (a path as `sources` lists it) and its chunks from the index."""
    if not assistant.remove(source):
        raise click.ClickException(f"'{source}' is not in the index (see `assistant sources`).")
    cli_event(assistant, "delete", documents=[source])
    click.echo(f"Removed {source}.")


@cli.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_assistant
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
@click.option("--allow-anonymous", is_flag=True,
              help="With no users file, serve a non-loopback address anyway; everyone is "
                   "staff (never admin).")
@pass_assistant
def serve(assistant: Assistant, host: str | None, port: int | None, no_ingest: bool,
          root_path: str | None, allow_anonymous: bool) -> None:
    """Start the web chat (ingests the corpus folder first unless --no-ingest).

    Sign-in is on when ASSISTANT_USERS_FILE names a users file (see `assistant users add`).
    Without one, only 127.0.0.1 is served (one local administrator), unless
    --allow-anonymous.
    """
    from assistant.web.app import serve as serve_web
    from assistant.web.auth import Users

    # Before the minutes an ingest may take: a server that will refuse to start says so now.
    Users.for_serving(assistant.settings.users_file, host or assistant.settings.host,
                      allow_anonymous)

    if root_path is not None:  # settings are chosen once, before anything is built
        assistant = Assistant(assistant.settings.variant(root_path=root_path))
    if not no_ingest:
        click.echo(assistant.ingest(progress=sys.stderr.isatty()).summary())
    assistant.warm_up()  # the first user's question does not pay for loading
    serve_web(assistant, host=host, port=port, allow_anonymous=allow_anonymous)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False,
                                                                  path_type=Path))
@click.option("--group", "groups", multiple=True, metavar="GROUP",
              help="Only members of GROUP (and admins) may read them; repeatable. "
                   "Default: everyone.")
@pass_assistant
def add(assistant: Assistant, files: tuple[Path, ...], groups: tuple[str, ...]) -> None:
    """Check FILES as the web upload does (size, type, zip bombs, duplicates), copy the good
    ones into the uploads folder and index them."""
    report = assistant.add_files([(f, f.name) for f in files], groups=clean_groups(groups))
    cli_event(assistant, "upload", files=[f.name for f in files], groups=list(groups),
              summary=report.summary())
    click.echo(plain(report.summary()))
    if report.refused or (report.ingest and report.ingest.failed):
        sys.exit(EXIT_PARTIAL)


cli.add_command(eval_group)
cli.add_command(feedback_group)
cli.add_command(users_group)
cli.add_command(audit_group)
cli.add_command(keys_group)


def main() -> None:
    cli(prog_name="assistant")
