"""The administrators' Audit tab: the audit log, filtered, shown and downloadable.

Hidden from staff, but hiding is not protection: every handler checks the role on the
server, as the Documents tab does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr  # event hints (gr.Request) must resolve at module level

from assistant.records import AuditQuery
from assistant.records.audit import EVENTS
from assistant.text.dates import parse as parse_date
from assistant.web.downloads import Downloads
from assistant.web.records import WebRecords

AUDIT_COLUMNS = ["at", "event", "user", "outcome", "language", "question", "documents"]


def audit_tab(records: WebRecords, downloads: Downloads
              ) -> tuple[Callable[..., Any], list[Any]]:
    """The administrators' Audit tab (call inside ``gr.Tabs``). Returns the function that
    shows it to administrators once signed in, and its outputs."""
    not_allowed = "Only administrators can read the audit log."
    with gr.Tab("Audit", id="audit-tab", visible=not records.users.enabled) as tab:
        gr.Markdown("Who signed in, asked, uploaded, deleted, briefed and exported "
                    f"(mode: **{records.audit.mode}**; newest first, at most 500 rows shown; "
                    "download for all).")
        with gr.Row():
            since = gr.Textbox(label="From", placeholder="YYYY-MM-DD")
            until = gr.Textbox(label="To", placeholder="YYYY-MM-DD")
            user = gr.Textbox(label="User")
            event = gr.Dropdown(["(any)", *EVENTS], value="(any)", label="Event")
        with gr.Row():
            show = gr.Button("Show", variant="primary", elem_id="audit-show")
            download = gr.Button("Download CSV", elem_id="audit-download")
        status = gr.Markdown(elem_id="audit-status")
        table = gr.Dataframe(headers=AUDIT_COLUMNS, value=[], interactive=False, wrap=True,
                             elem_id="audit-table")
        exported = gr.File(label="Export", elem_id="audit-file")

    def query(since_: str, until_: str, user_: str, event_: str, limit: int | None
              ) -> AuditQuery:
        first, last = parse_date(since_, "From"), parse_date(until_, "To")
        return AuditQuery(first, last, user_.strip() or None,
                          () if event_ in ("", "(any)") else (event_,), limit,
                          newest_first=limit is not None)

    def rows(since_: str, until_: str, user_: str, event_: str, request: gr.Request
             ) -> tuple[str, list[list[Any]]]:
        if not records.is_admin(request):
            return not_allowed, []
        try:
            found = records.audit.rows(query(since_, until_, user_, event_, 500))
        except Exception as exc:
            return f"⚠️ {_first_line(exc)}\n\n{records.status()}", []
        shown = [[r["at"], r["event"], r["user"] or "", r["outcome"], r["language"] or "",
                  r["question"] or "", " ".join(r["documents"])] for r in found]
        return records.status() or f"{len(shown)} event(s).", shown

    def export(since_: str, until_: str, user_: str, event_: str, request: gr.Request
               ) -> tuple[str, str | None]:
        if not records.is_admin(request):
            return not_allowed, None
        path = downloads.new("audit-log.csv")
        try:
            with path.open("w", encoding="utf-8", newline="") as out:
                count = records.audit.export(out, "csv", query(since_, until_, user_, event_,
                                                               None))
        except Exception as exc:
            return f"⚠️ {_first_line(exc)}", None
        records.note("export", request, what="audit", rows=count, format="csv")
        return f"{count} event(s) exported.", str(path)

    def visible(request: gr.Request) -> tuple[Any, str]:
        admin = records.is_admin(request)
        return gr.Tab(visible=admin), records.status() if admin else ""

    inputs = [since, until, user, event]
    show.click(rows, inputs, [status, table], api_name="audit")
    download.click(export, inputs, [status, exported], api_name="audit_export")
    return visible, [tab, status]


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]
