"""The web app's Briefing tab: built inside the caller's ``gr.Blocks`` (and ``gr.Tab``)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from assistant.briefing.briefer import BriefRequest
from assistant.briefing.export import FORMATS, export, to_markdown
from assistant.errors import AssistantError
from assistant.service import Assistant
from assistant.text.dates import parse as parse_date

ANY = "(any)"



def make_brief(assistant: Assistant, topic: str, province: str, since: str, until: str,
               language: str, fmt: str, folder: Path) -> tuple[str, str | None]:
    """The brief as Markdown to show, and the exported file to download (None on error)."""
    try:
        request = BriefRequest(topic or "", None if province in ("", ANY) else province,
                               parse_date(since, "From"), parse_date(until, "To"), language or "en")
        briefing = assistant.brief(request)
    except AssistantError as exc:
        return f"⚠️ {exc}", None
    slug = re.sub(r"\W+", "-", (topic or province or "brief").casefold()).strip("-")[:40]
    path = folder / f"briefing-{slug or 'brief'}.{fmt}"
    export(briefing, fmt, path)  # type: ignore[arg-type]
    return to_markdown(briefing), str(path)


def build_briefing_tab(assistant: Assistant) -> dict[str, Any]:
    """Add the Briefing components to the current Blocks context; returns them by name.

    Mount it inside a ``gr.Tab("Briefing")`` of the web app. The click handler is exposed
    as the API endpoint ``/brief`` (topic, province, since, until, language, format).
    """
    import gradio as gr

    provinces = sorted({p for r in assistant.sources() for p in r.provinces})
    folder = Path(tempfile.mkdtemp(prefix="briefings-"))
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
    output = gr.Markdown(label="Briefing")
    download = gr.File(label="Download")

    def run(topic_: str, province_: str, since_: str, until_: str, language_: str,
            fmt_: str) -> tuple[str, str | None]:
        return make_brief(assistant, topic_, province_, since_, until_, language_, fmt_, folder)

    button.click(run, [topic, province, since, until, language, fmt], [output, download],
                 api_name="brief")
    return {"topic": topic, "province": province, "since": since, "until": until,
            "language": language, "format": fmt, "button": button, "output": output,
            "download": download}
