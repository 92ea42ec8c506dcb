"""HTML for the web chat: an answer whose ``[n]`` markers jump to the sentence they cite,
and under it one card per source (title, provinces, date, language, the passage with the
cited sentence highlighted, the original URL). Full documents are shown on demand.

Everything is one line of HTML per block: the chatbot also reads Markdown, and indented
lines would turn into code blocks.
"""

from __future__ import annotations

import html
import re

from assistant.answer.citations import MARKER, Citation
from assistant.answer.types import Answer

RTL_LANGUAGES = {"ar"}
FULL_TEXT_CHARS = 20_000
_CLAIM = re.compile(r"(?<=\])\s+")


def _dir(language: str) -> str:
    # Known right-to-left text gets dir="rtl"; anything else lets the browser decide.
    return "rtl" if language in RTL_LANGUAGES else "auto"


def anchor(turn: int, n: int) -> str:
    return f"t{turn}-src{n}"


def render_answer(answer: Answer, turn: int, no_sources: str) -> str:
    """The answer, one block per cited claim, ``[n]`` linking to the cited sentence."""
    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f'<a class="cite" href="#{anchor(turn, n)}">[{n}]</a>'

    claims = _CLAIM.split(answer.answer.strip())
    # dir="auto" per claim: one answer can quote Arabic and French sentences side by side.
    body = "".join(f'<div dir="auto">'
                   f"{MARKER.sub(link, html.escape(claim))}</div>" for claim in claims)
    # How sure (issue 21): answered / partial / not found, from the answer's support check.
    status = (f'<p class="status status-{answer.status.replace(" ", "-")}"><small>'
              f"{html.escape(answer.status)}</small></p>")
    return (f'<div class="answer">{body}</div>{status}'
            f"{render_cards(answer, turn, no_sources)}{_suggestions(answer)}")


def _suggestions(answer: Answer) -> str:
    """When abstaining, the closest passages: apart from the answer, never cited by it."""
    if not answer.abstained or not answer.suggestions:
        return ""
    items = "".join(
        f'<li><b>{html.escape(c.title or c.source)}</b> <code>{html.escape(c.source)}</code>'
        f'<div dir="{_dir(c.language)}"><small>{html.escape(c.text[:240])}'
        f"{'…' if len(c.text) > 240 else ''}</small></div></li>" for c in answer.suggestions)
    return (f'<div class="suggestions"><p><i>Closest passages (suggestions, not an answer):'
            f"</i></p><ul>{items}</ul></div>")


def _passage(c: Citation, turn: int) -> str:
    passage = html.escape(c.text)
    for i, sentence in enumerate(dict.fromkeys(c.sentences)):
        quoted = html.escape(sentence)
        target = f' id="{anchor(turn, c.n)}"' if i == 0 else ""
        passage = passage.replace(quoted, f"<mark{target}>{quoted}</mark>", 1)
    if f'id="{anchor(turn, c.n)}"' not in passage:  # sentence not found verbatim: card target
        passage = f'<span id="{anchor(turn, c.n)}"></span>{passage}'
    return passage.replace("\n", "<br>")


def card(c: Citation, turn: int) -> str:
    meta = " · ".join(x for x in [", ".join(c.provinces), c.date or "", c.language] if x)
    link = (f' · <a href="{html.escape(c.url, quote=True)}" target="_blank" '
            f'rel="noopener">original</a>' if c.url else "")
    return (f'<details class="source" open><summary><b>[{c.n}] {html.escape(c.title)}</b>'
            f' <small>{html.escape(meta)}{link} · <code>{html.escape(c.source)}</code>'
            f'</small></summary><div class="passage" dir="{_dir(c.language)}">'
            f"{_passage(c, turn)}</div></details>")


def render_cards(answer: Answer, turn: int, no_sources: str) -> str:
    nearest = answer.nearest
    if answer.abstained and nearest:
        # "The Lang Son report gives ..., not ... [1]": [1] is the nearest report's card.
        return "".join(card(c, turn) for c in nearest)
    if answer.abstained or not answer.citations:
        return f'<p class="no-sources"><i>{html.escape(no_sources)}</i></p>'
    return "".join(card(c, turn) for c in answer.citations)


def render_documents(answer: Answer, texts: dict[str, str]) -> str:
    """The cited documents in full, folded until opened (the side panel)."""
    if answer.abstained or not answer.citations:
        return ""
    blocks = []
    for c in answer.citations:
        text = texts.get(c.source, "")
        more = "…" if len(text) > FULL_TEXT_CHARS else ""
        body = html.escape(text[:FULL_TEXT_CHARS]).replace("\n", "<br>") + more
        blocks.append(
            f'<details class="document"><summary>[{c.n}] {html.escape(c.title)} '
            f"<code>{html.escape(c.source)}</code></summary>"
            f'<div dir="{_dir(c.language)}">{body}</div></details>')
    return "".join(blocks)
