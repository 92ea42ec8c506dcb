"""Web chat: a thin Gradio Blocks adapter over an ``Assistant`` built elsewhere.

Tabs: Chat (streaming answers, clickable citations, filters, feedback), Documents (for
administrators, see ``web_admin``), and any extra tabs the caller mounts. Sign-in comes
from ``auth``; sources are rendered by ``web_sources``; feedback is stored by ``feedback``.
``serve`` runs it in one FastAPI app with the OpenAI-compatible API (``api``) under ``/v1``.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr  # event hints (gr.Request) must resolve at module level

from assistant.access import User
from assistant.answer.types import Answer
from assistant.errors import AssistantError, EmptyIndexError
from assistant.prompts import load_web
from assistant.records import AuditLog, audited_check
from assistant.search.filters import Filters
from assistant.service import Assistant
from assistant.text.dates import parse as parse_date
from assistant.web.audit_tab import audit_tab
from assistant.web.auth import Accounts, Users
from assistant.web.downloads import Downloads
from assistant.web.feedback import FeedbackStore, Turn, turn_dict
from assistant.web.oidc import SignInEvent, SignInHook, SsoUsers, build_sso_app
from assistant.web.records import Note, WebRecords, history_controls, remember_browser
from assistant.web.server import WebServer
from assistant.web.sources import render_answer, render_documents

EXAMPLES = [
    "How many hospital beds does Lang Son province have in total?",
    "Combien de médecins pour 10 000 habitants la province de Tra Vinh compte-t-elle ?",
    "Tỉnh Lạng Sơn có bao nhiêu giường bệnh trên 10.000 dân?",
    "Скільки відвідувань медичних закладів було в Хайфоні за 9 місяців?",
    "ما هي نسبة الدفع الإلكتروني لرسوم المستشفيات في لانغ سون؟",
]
ANY = "(any)"
# An extra tab: its label and a function that lays out its content inside the tab.
ExtraTab = tuple[str, Callable[[], None]]

CSS = """
.answer div { margin: 0.15em 0; }
a.cite { font-weight: 600; text-decoration: none; }
details.source { border-left: 3px solid var(--color-accent); padding: 0.2em 0.6em;
  margin: 0.4em 0; background: var(--background-fill-secondary); border-radius: 4px; }
details.source summary { cursor: pointer; }
details.source summary b { font-size: 0.95em; }
details.document summary { cursor: pointer; }
details.source mark { background: #fde68a; color: inherit; padding: 0 2px; }
details.source mark:target { outline: 2px solid var(--color-accent); }
.passage { font-size: 0.92em; margin-top: 0.3em; }
"""
_TAGS = re.compile(r"<[^>]+>")
# Copy the latest answer as plain text (the chatbot's own copy button would copy our HTML):
# the answer, then one line per source. execCommand is the fallback where the page is not
# a secure context (plain http on an intranet), where navigator.clipboard is missing.
COPY_JS = """() => {
  const rows = [...document.querySelectorAll('#chat .message-row')]
    .filter(r => r.querySelector('.answer'));
  const last = rows.pop();
  if (!last) return;
  const answer = [...last.querySelectorAll('.answer > div')].map(d => d.innerText.trim());
  const sources = [...last.querySelectorAll('details.source > summary')]
    .map(s => s.innerText.replace(/\\s+/g, ' ').trim());
  const text = answer.join('\\n') + (sources.length ? '\\n\\n' + sources.join('\\n') : '');
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text);
  } else {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
}"""


def _text(content: Any) -> str:
    """A chat message's text, whichever shape the client sent it in."""
    if isinstance(content, list):
        return " ".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", content.get("content", "")))
    return str(content)



def make_filters(province: str | None, language: str | None, since: str | None = None,
                 until: str | None = None, reader: User | None = None) -> Filters:
    return Filters(
        languages=(language,) if language and language != ANY else (),
        provinces=(province,) if province and province != ANY else (),
        since=parse_date(since, "From"), until=parse_date(until, "To"), reader=reader,
    )


def _history_pairs(history: list[dict[str, Any]], turns: dict[str, Any]
                   ) -> list[tuple[str, str]]:
    """Earlier (question, answer) turns as plain text, for the answer backend."""
    pairs: list[tuple[str, str]] = []
    question = None
    for i, message in enumerate(history):
        if message.get("role") == "user":
            question = _text(message.get("content"))
        elif question is not None:
            turn = turns.get(str(i))
            answer = turn["answer"] if turn else html.unescape(
                _TAGS.sub(" ", _text(message.get("content"))))
            pairs.append((question, answer.strip()))
            question = None
    return pairs


def default_tabs(assistant: Assistant, users: Accounts | None = None,
                 audit: Note | None = None, downloads: Downloads | None = None
                 ) -> list[ExtraTab]:
    """Tabs mounted after Chat and Documents unless the caller chooses others."""
    from assistant.web.briefing import build_briefing_tab

    def briefing() -> None:
        build_briefing_tab(assistant, users, audit, downloads)

    return [("Briefing", briefing)]


def build_app(assistant: Assistant, users: Accounts | None = None,
              extra_tabs: Sequence[ExtraTab] | None = None,
              records: WebRecords | None = None, downloads: Downloads | None = None
              ) -> Any:
    from assistant.web.admin import documents_tab

    users = users or Users({})
    # Audit log and chat history (assistant/records): one database, shared by all sessions.
    records = records or WebRecords.open(assistant.settings, users)
    keep = assistant.settings.downloads_minutes * 60
    downloads = downloads or Downloads(assistant.settings.downloads_minutes)
    if extra_tabs is None:
        extra_tabs = default_tabs(assistant, users, records.note, downloads)

    text = load_web(assistant.settings.prompts_dir)
    feedback = FeedbackStore(assistant.settings.data_dir)
    backend = assistant.settings.answer_backend

    def chat(message: str, history: list[dict[str, Any]], province: str, language: str,
             since: str, until: str, turns: dict[str, Any] | None, request: gr.Request
             ) -> Iterator[tuple[list[dict[str, Any]], str, str, dict[str, Any]]]:
        turns = dict(turns or {})
        # Resolved per request, from the users file as it is now: a removed user's open
        # page gets nothing, and a user's groups bound what search may return.
        reader = users.user(getattr(request, "username", None))
        history = list(history or [])
        pairs = _history_pairs(history, turns)
        history.append({"role": "user", "content": message})
        turn_no = sum(1 for m in history if m.get("role") == "assistant") + 1
        try:
            if reader is None:
                raise AssistantError(text.signed_out)
            filters = make_filters(province, language, since, until, reader)
            streamed = ""
            final: Answer | None = None
            for part in assistant.ask_stream(message, filters, None, pairs):
                if isinstance(part, Answer):
                    final = part
                    break
                streamed += part
                yield [*history, {"role": "assistant", "content": html.escape(streamed)}], \
                    "", "", turns
        except AssistantError as exc:
            history.append({"role": "assistant", "content": f"⚠️ {html.escape(str(exc))}"})
            yield history, "", "", turns
            return
        if final is None:  # the stream contract promises a final Answer; say so if broken
            history.append({"role": "assistant", "content": f"⚠️ {text.interrupted}"})
            yield history, "", "", turns
            return
        # The final Answer is authoritative: it replaces whatever was streamed.
        history.append({"role": "assistant",
                        "content": render_answer(final, turn_no, text.no_sources)})
        turns[str(len(history) - 1)] = turn_dict(Turn.from_answer(final))
        texts = {c.source: assistant.store.document_text(c.source) or "" for c in final.citations}
        yield history, render_documents(final, texts), "", turns

    def on_like(turns: dict[str, Any] | None, comment: str, data: gr.LikeData,
                request: gr.Request) -> tuple[str, str]:
        index = data.index[0] if isinstance(data.index, tuple | list) else data.index
        turn = (turns or {}).get(str(index))
        if turn is None:
            return text.feedback_not_an_answer, comment
        feedback.record(Turn(**turn), 1 if data.liked else -1, comment or "",
                        getattr(request, "username", None))
        return (text.feedback_saved_with_comment if comment else text.feedback_saved), ""

    def whoami(request: gr.Request) -> tuple[str, Any, Any, Any]:
        # Filled in after sign-in: the page served to the login form carries no names.
        name = getattr(request, "username", None)
        reader = users.user(name)
        role = reader.role if reader else None
        who = (text.signed_in.format(user=name, role=role) if users.enabled
               else text.local_mode if role == "admin" else text.anonymous_mode)
        if assistant.store.is_empty():  # said on arrival, not only after a question
            who += f"\n\n⚠️ {html.escape(str(EmptyIndexError()))}"
        records = assistant.sources(reader) if reader else []
        provinces = sorted({p for r in records for p in r.provinces})
        languages = sorted({r.language for r in records})
        return (who, gr.Tab(visible=role == "admin"),
                gr.Dropdown(choices=[ANY, *provinces], value=ANY),
                gr.Dropdown(choices=[ANY, *languages], value=ANY))

    # Gradio's cached copies (downloads, uploads) go after `keep` seconds and when it stops.
    with gr.Blocks(title="Health reports assistant", delete_cache=(keep, keep)) as app:
        with gr.Row():
            gr.Markdown("## Health reports assistant\n" + text.intro.format(backend=backend))
            who = gr.Markdown(elem_id="whoami")
        turns = gr.State({})
        conversation = gr.State(None)  # the open conversation's id (chat history)
        browser_id = gr.State(None)  # whose conversations, when nobody signs in
        browser = gr.BrowserState(None, storage_key="assistant-browser",
                                  secret=records.browser_secret)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Chat", height=560, elem_id="chat",
                                         buttons=[],
                                         feedback_options=("Like", "Dislike"))
                    box = gr.Textbox(label="Question", placeholder="Ask about the reports…",
                                     lines=1, elem_id="question",
                                     max_length=assistant.settings.answer.max_question_chars)
                    with gr.Row():
                        send = gr.Button("Ask", variant="primary", elem_id="ask")
                        copy = gr.Button("Copy answer", elem_id="copy-answer")
                        clear = gr.Button("New conversation", elem_id="new")
                    comment = gr.Textbox(
                        label="Comment (optional): type it, then click thumbs up or down "
                              "under the answer", lines=1, elem_id="comment")
                    thanks = gr.Markdown(elem_id="feedback-status")
                    connect_history = history_controls(records)
                    gr.Examples(EXAMPLES, inputs=box, label="Examples")
                with gr.Column(scale=2):
                    province = gr.Dropdown([ANY], value=ANY, label="Province",
                                           allow_custom_value=True)
                    language = gr.Dropdown([ANY], value=ANY, label="Document language",
                                           allow_custom_value=True)
                    with gr.Row():
                        since = gr.Textbox(label="From", placeholder="YYYY-MM-DD")
                        until = gr.Textbox(label="To", placeholder="YYYY-MM-DD")
                    gr.Markdown("**Cited documents** (click to read in full)")
                    documents = gr.HTML(elem_id="documents")
            with gr.Tab("Documents", id="documents-tab", visible=not users.enabled) as admin:
                list_documents, document_outputs = documents_tab(assistant, users, text,
                                                                 records.note)
            show_audit, audit_outputs = audit_tab(records, downloads)
            # Further tabs (e.g. a briefing builder) are mounted here by the caller.
            for label, build in extra_tabs:
                with gr.Tab(label):
                    build()

        inputs = [box, chatbot, province, language, since, until, turns, conversation,
                  browser_id]
        outputs = [chatbot, documents, box, turns, conversation]
        recorded = records.recorded_chat(chat)
        refill = connect_history(chatbot, turns, documents, conversation, browser_id)
        refill(send.click(recorded, inputs, outputs, api_name="chat"))
        refill(box.submit(recorded, inputs, outputs, api_visibility="private"))
        clear.click(lambda: ([], "", "", {}, None), None, outputs, api_visibility="private")
        copy.click(None, None, None, js=COPY_JS, api_visibility="private")
        chatbot.like(on_like, [turns, comment], [thanks, comment], api_visibility="private")
        app.load(whoami, None, [who, admin, province, language], api_visibility="private")
        app.load(list_documents, None, document_outputs, api_visibility="private")
        app.load(show_audit, None, audit_outputs, api_visibility="private")
        refill(app.load(remember_browser, browser, [browser, browser_id],
                        api_visibility="private"))
    return app


def audited_sign_in(audit: AuditLog) -> SignInHook:
    """Single sign-on's attempts go to the audit log, as local sign-ins do."""

    def hook(event: SignInEvent) -> None:
        name = event.principal.name if event.principal else None
        audit.record("sign_in", name, "ok" if event.ok else "failed", via="oidc",
                     reason=event.reason, client=event.client)

    return hook


def _asgi_app(assistant: Assistant, accounts: Accounts, audit: AuditLog) -> Any:
    """One FastAPI app: the API under ``/v1`` (docs/api.md), Gradio mounted at ``/`` after."""
    from fastapi import FastAPI

    from assistant.records import ApiKeys
    from assistant.web.api import PREFIX, build_api

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.mount(PREFIX, build_api(assistant, accounts, ApiKeys(audit.database), audit))
    return app


def serve(assistant: Assistant, host: str | None = None, port: int | None = None,
          block: bool = True, extra_tabs: Sequence[ExtraTab] | None = None,
          on_sign_in: SignInHook | None = None, allow_anonymous: bool = False) -> Any:
    """Serve the web chat and the API on one address; returns the running ``WebServer``
    (``block=False``), whose ``close()`` stops it."""
    # Gradio must not phone home: offline sites, and no telemetry from health departments.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = assistant.settings
    downloads = Downloads(settings.downloads_minutes)
    host = host or settings.host
    port = port or settings.port
    mount: dict[str, Any] = {"root_path": settings.root_path or None, "show_error": True,
                             "max_file_size": f"{settings.ingest.max_file_mb:g}mb", "css": CSS}
    if settings.oidc.issuer:  # single sign-on: Gradio mounted behind the OIDC routes
        sso_users = SsoUsers()
        records = WebRecords.open(settings, sso_users)
        blocks = build_app(assistant, sso_users, extra_tabs, records, downloads)
        blocks.queue(default_concurrency_limit=4)
        # API keys name users of the users file where there is one; else the principals
        # signed in through the provider since the server started.
        keyed: Accounts = Users.load(settings.users_file) if settings.users_file else sso_users
        app = build_sso_app(blocks, settings, sso_users,
                            on_sign_in or audited_sign_in(records.audit),
                            app=_asgi_app(assistant, keyed, records.audit), **mount)
        how = "sign-in through the OpenID provider"
    else:
        import gradio as gr

        users = Users.for_serving(settings.users_file, host, allow_anonymous)  # fails closed
        records = WebRecords.open(settings, users)
        blocks = build_app(assistant, users, extra_tabs, records, downloads)
        blocks.queue(default_concurrency_limit=4)
        app = gr.mount_gradio_app(
            _asgi_app(assistant, users, records.audit), blocks, path="/",
            auth=audited_check(users.check, records.audit) if users.enabled else None,
            auth_message=load_web(settings.prompts_dir).sign_in, **mount)
        how = "sign-in with the users file" if users.enabled else "no sign-in"
    server = WebServer(app, host, port, settings.root_path, how, on_close=downloads.close)
    return server.run() if block else server.start()
