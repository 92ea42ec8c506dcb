"""The Documents tab: upload several files, watch them being indexed, list, delete, rebuild.

Only administrators may change the documents. The tab is hidden from staff, but hiding is
not protection: every handler checks the signed-in user's role on the server too, against
the users file as it is now (a demoted administrator's open page can no longer change
anything). An upload may be limited to groups; with none, everyone may read it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr  # event hints (gr.Request) must resolve at module level

from assistant.access import clean_groups
from assistant.errors import AssistantError
from assistant.prompts import WebMessages
from assistant.service import Assistant
from assistant.web.auth import Accounts

COLUMNS = ["source", "title", "language", "chunks", "date", "provinces", "groups", "url"]
# One change to the index at a time, per assistant, from this tab and the API alike: two
# administrators uploading at once would otherwise race on the same documents (the chat
# keeps reading meanwhile).
_LOCKS: weakref.WeakKeyDictionary[Assistant, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def index_lock(assistant: Assistant) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(assistant, threading.Lock())


def document_rows(assistant: Assistant) -> list[list[Any]]:
    return [[r.source, r.title, r.language, len(r.chunk_ids), r.date or "",
             ", ".join(r.provinces), ", ".join(r.groups) or "everyone", r.url or ""]
            for r in assistant.sources()]


def documents_tab(assistant: Assistant, users: Accounts, text: WebMessages,
                  audit: Callable[..., None] | None = None
                  ) -> tuple[Callable[..., Any], list[Any]]:
    """Lay out the tab's content; call inside a ``gr.Tab``. Returns the function and the
    outputs that fill the list once a user has signed in (the page served before sign-in
    must not carry document names). ``audit(event, request, outcome, **detail)`` records
    each change (``WebRecords.note``)."""
    note = audit or (lambda *_args, **_kwargs: None)
    # Module-level-style defaults: Gradio injects a live tracker in place of these.
    writing = index_lock(assistant)
    file_progress = gr.Progress()
    tqdm_progress = gr.Progress(track_tqdm=True)

    def allowed(request: gr.Request | None) -> bool:
        return users.is_admin(getattr(request, "username", None))

    def refreshed(message: str, admin: bool = True) -> tuple[str, list[list[Any]], Any]:
        # The list itself is for administrators: titles of group documents are not for all.
        rows = document_rows(assistant) if admin else []
        return message, rows, gr.Dropdown(choices=[r[0] for r in rows], value=None)

    def upload(files: list[str] | None, groups: str | None, request: gr.Request,
               progress: gr.Progress = file_progress) -> tuple[str, list[list[Any]], Any]:
        if not allowed(request):
            return refreshed(text.not_allowed, admin=False)
        if not files:
            return refreshed(text.choose_files)
        try:
            readers = clean_groups(groups or "")
        except AssistantError as exc:
            return refreshed(f"⚠️ {exc}")

        def step(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Indexing {name}", unit="files")

        names = [Path(f).name for f in files]
        try:
            with writing:
                report = assistant.add_files([(Path(f), Path(f).name) for f in files], step,
                                             readers)
        except AssistantError as exc:
            note("upload", request, "failed", files=names, error=str(exc))
            return refreshed(f"⚠️ {exc}")
        note("upload", request, "ok", files=names, summary=report.summary())
        return refreshed(report.summary())

    def delete(source: str | None, request: gr.Request) -> tuple[str, list[list[Any]], Any]:
        if not allowed(request):
            return refreshed(text.not_allowed, admin=False)
        if not source:
            return refreshed(text.choose_document)
        try:
            with writing:
                gone = assistant.remove(source)
        except AssistantError as exc:
            note("delete", request, "failed", documents=[source], error=str(exc))
            return refreshed(f"⚠️ {exc}")
        note("delete", request, "ok" if gone else "not_found", documents=[source])
        return refreshed((text.deleted if gone else text.not_indexed).format(source=source))

    def rebuild_index(request: gr.Request, progress: gr.Progress = tqdm_progress
                      ) -> tuple[str, list[list[Any]], Any]:
        if not allowed(request):
            return refreshed(text.not_allowed, admin=False)
        try:
            with writing:
                report = assistant.rebuild()
        except AssistantError as exc:
            note("rebuild", request, "failed", error=str(exc))
            return refreshed(f"⚠️ {exc}")
        note("rebuild", request, "ok", summary=report.summary())
        return refreshed(text.rebuilt.format(summary=report.summary()))

    def listing(request: gr.Request) -> tuple[str, list[list[Any]], Any]:
        admin = allowed(request)
        return refreshed("" if admin else text.not_allowed, admin)

    gr.Markdown("Add reports (.txt .md .csv .html .pdf .docx .xlsx, scans and photos, up to "
                f"{assistant.settings.ingest.max_file_mb:g} MB each), remove them, or rebuild the "
                "index from the corpus folder and the uploaded files.")
    files = gr.File(label="Upload documents", file_count="multiple", type="filepath",
                    elem_id="upload")
    groups = gr.Textbox("", label="Readable by groups (comma-separated; empty: everyone)",
                        elem_id="upload-groups")
    with gr.Row():
        add = gr.Button("Add to index", variant="primary", elem_id="add-docs")
        refresh = gr.Button("Refresh list")
        rebuild_btn = gr.Button("Rebuild index", variant="stop")
    status = gr.Textbox(label="Status", lines=3, interactive=False, elem_id="docs-status")
    table = gr.Dataframe(headers=COLUMNS, value=[], interactive=False, wrap=True,
                         elem_id="doc-table")
    with gr.Row():
        choice = gr.Dropdown([], label="Document", elem_id="doc-choice",
                             allow_custom_value=True)  # API callers name any source
        remove = gr.Button("Delete document", variant="stop", elem_id="delete-doc")
    outputs = [status, table, choice]
    add.click(upload, [files, groups], outputs, api_name="upload")
    remove.click(delete, choice, outputs, api_name="delete")
    rebuild_btn.click(rebuild_index, None, outputs, api_name="rebuild")
    refresh.click(listing, None, outputs, api_visibility="private")
    return listing, outputs
