"""The web app's Briefing tab: built inside the caller's ``gr.Blocks`` (and ``gr.Tab``).

A briefing quotes documents, and document text is data: the page shows it through a
Markdown renderer with raw HTML, links and images switched off (``safe_html``), so a report
holding ``<img src=…>`` or ``[sign in](http://…)`` shows those characters, never fetches
or links anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import gradio as gr  # event hints (gr.Request) must resolve at module level

from assistant.access import User
from assistant.briefing.export import FORMATS, export, to_markdown
from assistant.briefing.types import BriefRequest
from assistant.errors import AssistantError
from assistant.service import Assistant
from assistant.text.dates import parse as parse_date
from assistant.web.auth import Accounts, Users
from assistant.web.downloads import Downloads

ANY = "(any)"


@lru_cache(maxsize=1)
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    # CommonMark with tables; raw HTML is escaped, links, images and autolinks stay text.
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable(
        ["link", "image", "autolink"])


def safe_html(markdown: str) -> str:
    """Our Markdown as HTML in which nothing from a document is live."""
    return str(_renderer().render(markdown))


def make_brief(assistant: Assistant, topic: str, province: str, since: str, until: str,
               language: str, fmt: str, downloads: Downloads, reader: User | None = None,
               cited: list[str] | None = None) -> tuple[str, str | None]:
    """The brief as HTML to show, and the exported file to download (None on error).
    ``cited`` (if given) receives the cited documents' sources, for the audit log."""
    try:
        request = BriefRequest(topic or "", None if province in ("", ANY) else province,
                               parse_date(since, "From"), parse_date(until, "To"),
                               language or "en", reader)
        briefing = assistant.brief(request)
    except AssistantError as exc:
        return safe_html(f"⚠️ {exc}"), None
    slug = re.sub(r"\W+", "-", (topic or province or "brief").casefold()).strip("-")[:40]
    path = downloads.new(f"briefing-{slug or 'brief'}.{fmt}")
    export(briefing, fmt, path)  # type: ignore[arg-type]
    if cited is not None:
        cited.extend(dict.fromkeys(c.source for c in briefing.citations))
    return safe_html(to_markdown(briefing)), str(path)


def build_briefing_tab(assistant: Assistant, users: Accounts | None = None,
                       audit: Callable[..., None] | None = None,
                       downloads: Downloads | None = None) -> dict[str, Any]:
    """Add the Briefing components to the current Blocks context; returns them by name.

    Mount it inside a ``gr.Tab("Briefing")`` of the web app. The click handler is exposed
    as the API endpoint ``/brief`` (topic, province, since, until, language, format); it
    briefs from the documents the signed-in user may read. ``audit(event, request, outcome,
    **detail)`` records each briefing (``WebRecords.note``).
    """
    users = users or Users({})
    # Province names only: a restricted document's provinces show as a choice, never its text.
    provinces = sorted({p for r in assistant.sources() for p in r.provinces})
    downloads = downloads or Downloads(assistant.settings.downloads_minutes)
    with gr.Row():
        topic = gr.Textbox(label="Topic", placeholder="e.g. digital transformation", scale=3)
        province = gr.Dropdown([ANY, *provinces], value=ANY, label="Province", scale=2)
    with gr.Row():
        since = gr.Textbox(label="From (YYYY-MM-DD)", placeholder="2025-01-01")
        until = gr.Textbox(label="To (YYYY-MM-DD)", placeholder="2025-12-31")
        language = gr.Dropdown(list(assistant.settings.languages),
                               value=assistant.settings.languages[0],
                               label="Language of the brief")
        fmt = gr.Radio(list(FORMATS), value="docx", label="Download as")
    button = gr.Button("Make briefing", variant="primary")
    output = gr.HTML(label="Briefing", elem_id="briefing")
    download = gr.File(label="Download")

    def run(topic_: str, province_: str, since_: str, until_: str, language_: str,
            fmt_: str, request: gr.Request) -> tuple[str, str | None]:
        reader = users.user(getattr(request, "username", None))
        if reader is None:  # removed from the users file since signing in
            return safe_html("⚠️ You are no longer signed in: sign in again."), None
        cited: list[str] = []
        shown, path = make_brief(assistant, topic_, province_, since_, until_, language_,
                                 fmt_, downloads, reader, cited)
        if audit is not None:
            audit("briefing", request, "ok" if path else "failed", topic=topic_,
                  province=province_, since=since_, until=until_, language=language_,
                  format=fmt_, documents=cited)
        return shown, path

    button.click(run, [topic, province, since, until, language, fmt], [output, download],
                 api_name="brief")
    return {"topic": topic, "province": province, "since": since, "until": until,
            "language": language, "format": fmt, "button": button, "output": output,
            "download": download}
