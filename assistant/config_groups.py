"""The nested groups of ``Settings`` (assistant/config.py), one per concern.

Each is set from the environment as ``ASSISTANT_<GROUP>__<FIELD>`` (e.g.
``ASSISTANT_SEARCH__RETRIEVAL_K=8``) or as a JSON object (``ASSISTANT_SEARCH='{...}'``).
The flat names of earlier releases (``ASSISTANT_MIN_EVIDENCE``) still work: ``FLAT_NAMES``
in assistant/config.py maps them. Fields an embedder profile tunes (data/embedders.yaml,
``thresholds``) take the profile's value unless set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode


class Group(BaseModel):
    # Frozen like Settings; a misspelt field is an error rather than silently ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")


class IngestSettings(Group):
    chunk_tokens: int = Field(200, ge=32, le=512, description="Chunk budget in embedder tokens.")
    chunk_overlap_tokens: int = Field(40, ge=0, le=256)
    max_file_mb: float = Field(50.0, gt=0, description="Largest file ingested or uploaded.")
    max_unzipped_mb: float = Field(
        200.0, gt=0, description="Largest uncompressed size a .docx (a zip) may expand to.")


class OcrSettings(Group):
    """OCR of scans and photos (assistant/ingest/ocr.py), in the configured languages."""

    dpi: int = Field(300, ge=72, le=600, description="Resolution scanned PDF pages are "
                     "rendered at for OCR.")
    min_confidence: float = Field(
        75.0, ge=0.0, le=100.0, description="Pages OCR reads with less mean confidence "
        "(Tesseract's, 0-100) are reported at ingest.")
    tesseract_cmd: str = Field("tesseract", description="The Tesseract program (`make ocr`).")


Fusion = Literal["language-aware", "rrf", "vectors", "bm25"]
# Earlier names still accepted: "dense" was the vector scores alone, which by default are
# relation scores (crosslingual=relation), not dense similarity.
FUSION_ALIASES = {"dense": "vectors"}


def fusion_mode(value: str) -> Fusion:
    """``value`` as a fusion mode, an earlier name mapped to today's."""
    value = FUSION_ALIASES.get(value, value)
    if value not in get_args(Fusion):
        raise ValueError(f"Unknown fusion '{value}' (known: {', '.join(get_args(Fusion))}).")
    return cast(Fusion, value)


class SearchSettings(Group):
    retrieval_k: int = Field(5, ge=1, le=100, description="Chunks handed to the answerer.")
    candidate_k: int = Field(50, ge=5, le=1000, description="Candidates from each retriever.")
    fusion: Fusion = Field(
        "vectors", description="How vector search and BM25 combine: vectors (the vector "
        "scores alone, dense or, with crosslingual=relation, relation scores; the default "
        "since issue 14b: on the devsets' tuning halves BM25's reordering of the question's "
        "language only lost same-language recall), language-aware (BM25 reorders the "
        "question's language among the vector ranks), rrf (plain reciprocal-rank fusion) or "
        "bm25 alone. 'dense', the earlier name of vectors, is still accepted."
    )
    province_anchor: bool = Field(
        True, description="Rank passages about a province the question names first."
    )
    crosslingual: Literal["relation", "centering", "none"] = Field(
        "relation", description="Cross-lingual scoring: by language relation (the question's "
        "own language ranked as plain dense search ranks it, other languages by centred "
        "similarity, merged on a per-language-pair scale), centering alone (subtract each "
        "language's mean embedding before comparing; docs/crosslingual.md), or raw vectors."
    )
    relation_raw_weight: float = Field(
        0.2, ge=0.0, le=10.0, description="crosslingual=relation: weight of the raw cosine, "
        "less its language pair's unrelated level, added to the centred cosine. 0 ranks other "
        "languages by centred similarity alone; higher trusts raw similarity more, which "
        "favours the question's own language (chosen on the devsets' tuning halves; "
        "docs/crosslingual.md)."
    )
    centering_prior: float = Field(
        16.0, ge=0.0, description="Weight, in chunks, of the shipped per-language means "
        "against the corpus's own chunks when the two are combined."
    )
    blas_threads: int = Field(
        1, ge=1, le=256, description="Threads numpy's BLAS may use in this process (search's "
        "product over the centred vectors). One: that product is memory-bound, and an idle "
        "BLAS thread spins long enough to slow the next question's embedding (bench/results.md, "
        "Scale). Applied when a Searcher is created."
    )

    backend: Literal["snapshot", "chroma"] = Field(
        "snapshot", description="Where the dense search runs: snapshot (an exact product over "
        "a per-process copy of the index, with BM25) or chroma (Chroma's HNSW over a second "
        "collection of centred vectors, written by `assistant ingest` under this setting; no "
        "copy of the index in the process; fusion=vectors only; docs/scale.md)."
    )

    read_cache_mib: float = Field(
        64.0, ge=0.0, description="search.backend=chroma: memory, in MiB, for what this "
        "process has read of the index's current revision (candidates' vectors, passages, "
        "file records), kept for the next question; dropped whole when the revision moves, "
        "unused while a writer is at work. 0: read everything anew each question."
    )

    @model_validator(mode="after")
    def _backend_fusion(self) -> SearchSettings:
        if self.backend == "chroma" and self.fusion != "vectors":
            raise ValueError(
                f"search.backend=chroma ranks by vector scores only, but fusion is "
                f"'{self.fusion}': BM25 fusion needs the snapshot backend. Set "
                "ASSISTANT_SEARCH__FUSION=vectors or ASSISTANT_SEARCH__BACKEND=snapshot.")
        return self

    @field_validator("fusion", mode="before")
    @classmethod
    def _renamed_fusion(cls, value: object) -> object:
        return FUSION_ALIASES.get(value, value) if isinstance(value, str) else value


class AnswerSettings(Group):
    pool_k: int = Field(8, ge=1, le=50, description="Chunks the answer is picked from.")
    sentences: int = Field(3, ge=1, le=10, description="Most sentences in an extractive answer.")
    min_evidence: float = Field(
        0.84, ge=0.0, le=1.5, description="Below this best-sentence score: abstain."
    )
    supported_relief: float = Field(
        0.05, ge=0.0, le=1.0, description="How much less than min_evidence a sentence holding "
        "what was asked needs (answer/answerability.py)."
    )
    citation_min: float = Field(
        0.86, ge=0.0, le=1.5, description="Similarity a shown passage needs to be cited for a "
        "generated sentence the model left uncited (answer/citation_check.py).")
    citation_margin: float = Field(
        0.02, ge=0.0, le=1.0, description="...and its lead over the runner-up passage "
        "(the embedder's scores crowd together: only a clear winner counts).")
    quote_margin: float = Field(
        0.025, ge=0.0, le=1.0, description="Sentences scoring within this of the best one are "
        "quoted in the answer too.")
    cross_lingual_offset: float = Field(
        0.04, ge=0.0, le=1.0, description="Added to the similarity of a sentence in another "
        "language than the question's (the embedder scores one-language pairs higher).")
    max_question_chars: int = Field(2000, ge=10)


class LlmSettings(Group):
    """Generative backends (openai, local); see README "Generative answers"."""

    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM); "
        "unset: api.openai.com."
    )
    openai_api_key: SecretStr | None = Field(None, description="API key; never logged.")
    openai_model: str = Field("gpt-4o-mini", description="Model (or Azure deployment) name.")
    azure_api_version: str | None = Field(
        None, description="Set for Azure OpenAI's deployment API (base URL = resource endpoint)."
    )
    timeout: float = Field(60.0, gt=0, description="Seconds per model request.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries (with backoff) on 429/5xx.")
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    context_tokens: int = Field(8192, ge=512, description="The model's context window.")
    max_answer_tokens: int = Field(512, ge=16, description="Tokens reserved for the answer.")
    generation_k: int = Field(6, ge=1, le=30, description="Passages shown to the model.")
    rewrite_followups: bool = Field(
        True, description="Rewrite follow-up questions ('and in Tra Vinh?') into standalone ones."
    )
    translate_questions: Literal["auto", "on", "off"] = Field(
        "auto", description="Also search with the question translated by the language model "
        "into the corpus's other languages (docs/crosslingual.md). auto: with the openai "
        "backend; on: also with local, or extractive answers from ASSISTANT_LLM__OPENAI_BASE_URL."
    )
    translation_timeout: float = Field(
        20.0, gt=0, description="Seconds for the translation request (not retried).")
    fallback: bool = Field(
        True, description="On model failure, answer extractively (marked as a fallback)."
    )
    local_model_path: Path | None = Field(
        None, description="GGUF file for the local backend; unset: the packaged Gemma 3 270M."
    )
    local_chat_format: str = Field("gemma", description="llama.cpp chat format of the GGUF.")
    local_threads: int = Field(2, ge=1, le=256)


class BriefingSettings(Group):
    min_relevance: float = Field(
        0.78, ge=0.0, le=1.5, description="Documents scoring below this are left out.")
    relevance_margin: float = Field(
        0.04, ge=0.0, le=1.0, description="Keep documents this close to the best one.")
    cross_lingual_offset: float = Field(
        0.04, ge=0.0, le=1.0, description="Added to a passage's similarity when its language "
        "is not the topic's (e5 scores pairs of one language higher than equally relevant "
        "pairs of two).")
    term_bonus: float = Field(0.06, ge=0.0, le=1.0, description="Added to a sentence naming "
                              "a health term of the topic.")
    overlap_bonus: float = Field(0.04, ge=0.0, le=1.0, description="Times the share of the "
                                 "topic's words a sentence holds, added to its score.")
    max_figures: int = Field(20, ge=1, le=200, description="Rows in a key-figures table.")
    max_items: int = Field(8, ge=1, le=50, description="Directives or problems listed.")


class RecordsSettings(Group):
    """Audit log and chat history (issue 22; assistant/records)."""

    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the audit log and chat history database, e.g. "
        "postgresql+psycopg://user@host/db; unset: SQLite at data_dir/assistant.sqlite.")
    audit: Literal["full", "metadata", "off"] = Field(
        "full", description="Audit log: full (with question text), metadata (who, when, "
        "language, outcome, cited documents; no question text) or off.")
    audit_retention_days: int = Field(
        365, ge=0, description="Audit rows older than this are purged at start; 0: keep all.")


class OidcSettings(Group):
    """Single sign-on (OpenID Connect, web/oidc.py): on when ``issuer`` is set; local
    accounts (users_file) are then not used. Roles and groups come from the named claims."""

    issuer: str | None = Field(
        None, description="Provider's issuer URL (its /.well-known/openid-configuration is "
        "read at start); unset: no single sign-on.")
    client_id: str | None = Field(None, description="This app's client id there.")
    client_secret: SecretStr | None = Field(None, description="Its secret; never logged.")
    scopes: str = Field("openid profile email",
                        description="Scopes asked for (add e.g. 'groups' if needed).")
    redirect_base: str | None = Field(
        None, description="Public URL of the app (e.g. https://assistant.example.org); the "
        "provider redirects to <it>/auth. Unset: taken from each request.")
    username_claim: str = Field(
        "preferred_username", description="Claim naming the user (then email, then sub).")
    role_claim: str = Field(
        "roles", description="Claim holding roles (dots for nested: realm_access.roles).")
    # NoDecode: a comma-separated variable (a,b) as well as a JSON list.
    admin_values: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["admin"],
        description="Values of the role claim that make an administrator; others: staff.")
    groups_claim: str = Field("groups", description="Claim holding the user's groups.")
    session_secret: SecretStr | None = Field(
        None, description="Key signing the sign-in cookie; unset: a random one per start "
        "(everyone signs in again after a restart).")
    session_hours: float = Field(8.0, gt=0, description="How long a sign-in lasts.")

    @field_validator("admin_values", mode="before")
    @classmethod
    def _split_admin_values(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
