"""Web chat: a thin Gradio Blocks adapter over an ``Assistant`` built elsewhere."""

from __future__ import annotations

import html
import os
import re
from typing import Any

from .answering import Answer
from .errors import AssistantError
from .retrieval import Filters
from .service import Assistant

EXAMPLES = [
    "How many hospital beds does Lang Son province have in total?",
    "Combien de médecins pour 10 000 habitants la province de Tra Vinh compte-t-elle ?",
    "Tỉnh Lạng Sơn có bao nhiêu giường bệnh trên 10.000 dân?",
    "Скільки відвідувань медичних закладів було в Хайфоні за 9 місяців?",
    "ما هي نسبة الدفع الإلكتروني لرسوم المستشفيات في لانغ سون؟",
]
ANY = "(any)"


def _dir_auto(text: str) -> str:
    # dir="auto" lets the browser lay Arabic out right to left, line by line.
    return f'<div dir="auto">{html.escape(text)}</div>'


def render_answer(answer: Answer) -> str:
    # One block per cited sentence, so an Arabic quote and a French one each read right.
    claims = re.split(r"(?<=\])\s+", answer.answer.strip())
    return "".join(_dir_auto(claim) for claim in claims)


def render_sources(answer: Answer) -> str:
    if answer.abstained or not answer.citations:
        return "_No sources: the documents don't answer this question._"
    blocks = []
    for c in answer.citations:
        passage = html.escape(c.text)
        for sentence in c.sentences:  # the cited sentences stand out in their passage
            quoted = html.escape(sentence)
            passage = passage.replace(quoted, f"<mark>{quoted}</mark>")
        meta = " · ".join(x for x in [c.language, c.date or "", ", ".join(c.provinces)] if x)
        link = f' — <a href="{html.escape(c.url)}" target="_blank">original</a>' if c.url else ""
        blocks.append(
            f'<details open><summary><b>[{c.n}] {html.escape(c.title)}</b> '
            f"<code>{html.escape(c.source)}</code> {meta}{link}</summary>"
            f'<div dir="auto">{passage}</div></details>'
        )
    return "\n".join(blocks)


def build_app(assistant: Assistant) -> Any:
    import gradio as gr

    provinces = sorted({p for r in assistant.sources() for p in r.provinces})
    languages = sorted({r.language for r in assistant.sources()})

    def chat(message: str, history: list[dict[str, Any]], province: str, language: str
             ) -> tuple[list[dict[str, Any]], str, str]:
        history = list(history or [])
        filters = Filters(
            languages=(language,) if language and language != ANY else (),
            provinces=(province,) if province and province != ANY else (),
        )
        history.append({"role": "user", "content": message})
        try:
            answer = assistant.ask(message, filters)
        except AssistantError as exc:
            history.append({"role": "assistant", "content": f"⚠️ {exc}"})
            return history, "", ""
        history.append({"role": "assistant", "content": render_answer(answer)})
        return history, render_sources(answer), ""

    with gr.Blocks(title="Health reports assistant") as app:
        gr.Markdown(
            "## Health reports assistant\n"
            "Ask in English, Tiếng Việt, Українська, Français or العربية. Every answer quotes "
            f"the reports and cites them. Answer backend: **{assistant.settings.answer_backend}**."
        )
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=460)
                box = gr.Textbox(label="Question", placeholder="Ask about the reports…",
                                 lines=1, max_length=assistant.settings.max_question_chars)
                with gr.Row():
                    send = gr.Button("Ask", variant="primary")
                    clear = gr.Button("New conversation")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                province = gr.Dropdown([ANY, *provinces], value=ANY, label="Province")
                language = gr.Dropdown([ANY, *languages], value=ANY, label="Document language")
                sources = gr.HTML(label="Sources")
        inputs = [box, chatbot, province, language]
        outputs = [chatbot, sources, box]
        send.click(chat, inputs, outputs, api_name="chat")
        box.submit(chat, inputs, outputs, api_visibility="private")
        clear.click(lambda: ([], "", ""), None, outputs, api_visibility="private")
    return app


def serve(assistant: Assistant, host: str | None = None, port: int | None = None,
          block: bool = True) -> Any:
    # Gradio must not phone home: offline sites, and no telemetry from health departments.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = build_app(assistant)
    app.queue(default_concurrency_limit=4)
    app.launch(server_name=host or assistant.settings.host,
               server_port=port or assistant.settings.port, share=False,
               prevent_thread_lock=not block, show_error=True)
    return app
