"""The web app's records: the audit log of what people do, and each user's chat history.

``WebRecords`` wraps the chat handler (``recorded_chat``): after each answer it appends a
``question`` event and saves the conversation, and neither failure touches the answer.
``history_controls`` lays out the Conversations row of the Chat tab; ``audit_tab`` the
administrators' Audit tab, whose handlers check the role on the server on every request.

Conversations belong to the signed-in user; without sign-in, to the browser (a random id
kept, encrypted, in its local storage), so anonymous people never see each other's.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr  # event hints (gr.Request) must resolve at module level

from assistant.config import Settings
from assistant.records import AuditLog, ChatHistory
from assistant.web.auth import Accounts

log = logging.getLogger("assistant.web")

ChatOutput = tuple[list[dict[str, Any]], str, str, dict[str, Any]]
ChatHandler = Callable[..., Iterator[ChatOutput]]
# An audit hook for other tabs: (event, request, outcome, detail...).
Note = Callable[..., None]


def _secret(data_dir: Path) -> str | None:
    """A per-installation key for the browser's conversation id (stable across restarts)."""
    path = data_dir / "browser-secret"
    try:
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(16), encoding="ascii")
            path.chmod(0o600)
        return path.read_text(encoding="ascii").strip() or None
    except OSError:
        return None  # a random one: anonymous history then lasts until a restart


def _user(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) or None


@dataclass
class WebRecords:
    audit: AuditLog
    history: ChatHistory
    users: Accounts
    browser_secret: str | None = None
    history_failures: int = 0

    @classmethod
    def open(cls, settings: Settings, users: Accounts) -> WebRecords:
        audit = AuditLog(settings)
        return cls(audit, ChatHistory(audit.database), users, _secret(settings.data_dir))

    # -- who -----------------------------------------------------------------------------
    def owner(self, request: gr.Request | None, browser: str | None) -> str | None:
        """Whose conversations these are: the user, else the browser, else nobody's."""
        user = _user(request)
        if user:
            return user
        return f"browser:{browser}" if browser else None

    def is_admin(self, request: gr.Request | None) -> bool:
        return self.users.is_admin(_user(request))

    def note(self, event: str, request: gr.Request | None, outcome: str = "ok",
             **detail: Any) -> None:
        """The audit hook handed to the Documents and Briefing tabs."""
        self.audit.record(event, _user(request), outcome, **detail)

    def status(self) -> str:
        lines = [self.audit.status()]
        if self.history_failures:
            lines.append(f"⚠️ {self.history_failures} chat history save(s) failed since "
                         "the app started (see the server log).")
        return "\n\n".join(line for line in lines if line)

    # -- the chat ------------------------------------------------------------------------
    def recorded_chat(self, chat: ChatHandler) -> Callable[..., Iterator[Any]]:
        """``chat``'s outputs plus the conversation id; records each question and saves."""

        def recorded(message: str, history: list[dict[str, Any]], province: str,
                     language: str, since: str, until: str, turns: dict[str, Any] | None,
                     conversation: str | None, browser: str | None, request: gr.Request
                     ) -> Iterator[tuple[Any, ...]]:
            before = set(turns or {})
            last: ChatOutput | None = None
            for last in chat(message, history, province, language, since, until, turns,
                             request):
                yield (*last, conversation)
            if last is None:
                return
            self._audit_question(request, message, last, before)
            conversation = self._save(request, browser, conversation, message, last)
            yield (*last, conversation)

        return recorded

    def _audit_question(self, request: gr.Request | None, message: str, out: ChatOutput,
                        before: set[str]) -> None:
        messages, _, _, turns = out
        new = [turns[k] for k in turns if k not in before]
        if not new:  # the chat showed an error message instead of an answer
            self.audit.record("question", _user(request), "error", question=message,
                              error=str(messages[-1].get("content", ""))[:300])
            return
        turn = new[-1]
        self.audit.record("question", _user(request),
                          "abstained" if turn.get("abstained") else "answered",
                          language=turn.get("language") or None, question=message,
                          documents=[s["source"] for s in turn.get("sources", [])],
                          backend=turn.get("backend"), latency_ms=turn.get("latency_ms"))

    def _save(self, request: gr.Request | None, browser: str | None, conversation: str | None,
              message: str, out: ChatOutput) -> str | None:
        owner = self.owner(request, browser)
        if owner is None:
            return conversation
        try:
            return self.history.save(owner, conversation, out[0], out[3], message)
        except Exception as exc:
            self.history_failures += 1
            log.error("Chat history: could not save a conversation: %s", exc)
            return conversation

    # -- the Conversations row -----------------------------------------------------------
    def choices(self, request: gr.Request | None, browser: str | None) -> list[tuple[str, str]]:
        owner = self.owner(request, browser)
        if owner is None:
            return []
        try:
            return self.history.titles(owner)
        except Exception as exc:
            log.error("Chat history: could not list conversations: %s", exc)
            return []


@contextmanager
def _unavailable(records: WebRecords) -> Iterator[None]:
    """A database failure becomes a message in the page, and a line in the log."""
    try:
        yield
    except Exception as exc:
        records.history_failures += 1
        log.error("Chat history: %s", exc)
        raise gr.Error("Chat history is unavailable right now; your chat is unchanged.") \
            from None


def history_controls(records: WebRecords) -> Callable[..., Callable[[Any], Any]]:
    """Lay out the Conversations rows (call inside the Chat column). Returns
    ``connect(chatbot, turns, documents, conversation, browser_id)``, to call once those
    exist, which wires the buttons and returns ``refill(event)``: refill the list after it."""
    with gr.Row():
        picker = gr.Dropdown([], value=None, label="Your conversations", scale=3,
                             elem_id="conversations", allow_custom_value=True)
        open_btn = gr.Button("Open", elem_id="open-conversation", scale=1)
        delete_btn = gr.Button("Delete", elem_id="delete-conversation", scale=1,
                               variant="stop")
    with gr.Row():
        title = gr.Textbox(label="Rename to", lines=1, scale=3, elem_id="conversation-title")
        rename_btn = gr.Button("Rename", elem_id="rename-conversation", scale=1)
    return lambda *components: _connect(records, picker, open_btn, delete_btn, title,
                                        rename_btn, *components)


def _connect(records: WebRecords, picker: Any, open_btn: Any, delete_btn: Any, title: Any,
             rename_btn: Any, chatbot: Any, turns: Any, documents: Any, conversation: Any,
             browser_id: Any) -> Callable[[Any], Any]:
    def listing(browser: str | None, current: str | None, request: gr.Request) -> Any:
        return gr.Dropdown(choices=records.choices(request, browser), value=current)

    def open_(chosen: str | None, browser: str | None, request: gr.Request
              ) -> tuple[Any, ...]:
        owner = records.owner(request, browser)
        with _unavailable(records):
            found = records.history.get(owner, chosen) if owner and chosen else None
        if found is None:  # not yours, or gone: nothing changes
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return found.messages, found.turns, "", found.id

    def rename(chosen: str | None, new_title: str, browser: str | None,
               request: gr.Request) -> tuple[Any, str]:
        owner = records.owner(request, browser)
        if owner and chosen:
            with _unavailable(records):
                records.history.rename(owner, chosen, new_title)
        return gr.Dropdown(choices=records.choices(request, browser), value=chosen), ""

    def delete(chosen: str | None, current: str | None, browser: str | None,
               request: gr.Request) -> tuple[Any, ...]:
        owner = records.owner(request, browser)
        with _unavailable(records):
            gone = bool(owner and chosen and records.history.delete(owner, chosen))
        picker_out = gr.Dropdown(choices=records.choices(request, browser), value=None)
        if gone and chosen == current:  # the open conversation: start a new one
            return picker_out, [], {}, "", None
        return picker_out, gr.skip(), gr.skip(), gr.skip(), current

    open_btn.click(open_, [picker, browser_id], [chatbot, turns, documents, conversation],
                   api_name="open_conversation")
    rename_btn.click(rename, [picker, title, browser_id], [picker, title],
                     api_name="rename_conversation")
    delete_btn.click(delete, [picker, conversation, browser_id],
                     [picker, chatbot, turns, documents, conversation],
                     api_name="delete_conversation")

    def refill(event: Any) -> Any:
        return event.then(listing, [browser_id, conversation], picker,
                          api_visibility="private")

    return refill


def remember_browser(value: str | None) -> tuple[str, str]:
    """The browser's conversation id: kept if it has one, else a new random one."""
    browser = value if isinstance(value, str) and len(value) == 32 else secrets.token_hex(16)
    return browser, browser

