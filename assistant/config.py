"""One typed settings object; the only place that reads the environment (``ASSISTANT_*``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from assistant.profiles import EmbedderProfile, profile_named

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def _home() -> Path:
    """Where corpus/, index/, data/ and models/ live by default: the source checkout the
    package runs from, or, for an installed package, the current folder."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()


class Settings(BaseSettings):
    """Everything configurable, with defaults that work offline on the bundled corpus."""

    # Frozen: chosen once; a variant is a new object (`variant(**changes)`), never an edit.
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=None, extra="ignore",
                                      frozen=True)

    corpus_dir: Path = Field(default_factory=lambda: _home() / "corpus",
                             description="Folder ingested by default.")
    index_dir: Path = Field(default_factory=lambda: _home() / "index",
                            description="On-disk Chroma store.")
    prompts_dir: Path = Field(PACKAGE_DIR / "data" / "prompts",
                              description="Prompt and message files (shipped in the package).")
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (e.g. http://127.0.0.1:8000) instead of index_dir."
    )
    collection: str = Field("health_reports", description="Chroma collection name prefix.")
    index_cache_dir: Path | None = Field(
        None, description="With a Chroma server: local folder for the search snapshots "
        "(BM25, vectors, filter fields) this process keeps; unset: data_dir/index-cache."
    )

    # -- the embedder: a profile of data/embedders.yaml (assistant/profiles.py) ---------------
    embedder: str = Field(
        "e5", description="Embedder profile: e5 (bundled multilingual-e5-small), "
        "embeddinggemma (EmbeddingGemma-300M from a local folder) or sentence-transformers "
        "(any local sentence-transformers model, with its own prompts). The index is locked "
        "to the profile and size that built it (`assistant ingest --rebuild` switches)."
    )
    embedder_model: str | None = Field(
        None, description="Local model folder for a sentence-transformers profile "
        "(e.g. /models/embeddinggemma-300m); nothing is downloaded."
    )
    embedder_dim: int | None = Field(
        None, ge=1, description="Matryoshka: keep the first N dimensions (a size the profile "
        "lists, e.g. 512 for embeddinggemma); unset: the model's own size."
    )
    supported_relief: float = Field(
        0.05, ge=0.0, le=1.0, description="How much less than min_evidence a sentence holding "
        "what was asked needs (answer/answerability.py)."
    )

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        # Thresholds tuned for the chosen embedder (its profile's), unless set explicitly.
        # `model_copy` would skip this (and all validation): `variant` rebuilds instead.
        if not isinstance(data, dict):
            return data
        profile = profile_named(str(data.get("embedder") or "e5"))
        return {**profile.thresholds, **data}

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, value: str) -> str:
        profile_named(value)
        return value

    @property
    def embedder_profile(self) -> EmbedderProfile:
        return profile_named(self.embedder)

    def variant(self, **changes: Any) -> Settings:
        """These settings with ``changes``, validated like any others: the one way to make a
        variant. A threshold still at its profile's value follows the (new) profile's."""
        tuned = self.embedder_profile.thresholds
        kept = {k: v for k, v in self.model_dump().items()
                if k in self.model_fields_set and not (k in tuned and v == tuned[k])}
        return type(self)(**{**kept, **changes})
    embed_batch_size: int = Field(32, ge=1, le=1024)
    omp_wait_policy: Literal["passive", "active"] = Field(
        "passive", description="How the embedder's OpenMP threads wait between calls: "
        "passive (sleep; leaves the CPU to other work: ingestion, a busy shared server) or "
        "active (spin; a question embeds about 2.5x faster on an otherwise idle machine, "
        "see bench/results.md). Applied when the model loads, via OMP_WAIT_POLICY."
    )
    blas_threads: int = Field(
        1, ge=1, le=256, description="Threads numpy's BLAS may use in this process (search's "
        "product over the centred vectors). One: that product is memory-bound, and an idle "
        "BLAS thread spins long enough to slow the next question's embedding (bench/results.md, "
        "Scale). Applied when a Searcher is created."
    )

    chunk_tokens: int = Field(200, ge=32, le=512, description="Chunk budget in embedder tokens.")
    chunk_overlap_tokens: int = Field(40, ge=0, le=256)

    languages: list[str] = Field(
        default_factory=lambda: ["en", "vi", "uk", "fr", "ar"],
        description="Languages the detector chooses among (ISO 639-1).",
    )

    retrieval_k: int = Field(5, ge=1, le=100, description="Chunks handed to the answerer.")
    candidate_k: int = Field(50, ge=5, le=1000, description="Candidates from each retriever.")
    fusion: Literal["language-aware", "rrf", "dense", "bm25"] = Field(
        "dense", description="How dense search and BM25 combine: dense (dense or relation "
        "scores alone; the default since issue 14b: on the devsets' tuning halves BM25's "
        "reordering of the question's language only lost same-language recall), "
        "language-aware (BM25 reorders the question's language among dense search's ranks), "
        "rrf (plain reciprocal-rank fusion) or bm25 alone."
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

    answer_backend: Literal["extractive", "openai", "local"] = Field(
        "extractive", description="extractive (no model), openai (any OpenAI-compatible "
        "endpoint) or local (a GGUF file through llama.cpp's server)."
    )
    answer_pool_k: int = Field(8, ge=1, le=50, description="Chunks the answer is picked from.")
    answer_sentences: int = Field(3, ge=1, le=10)
    min_evidence: float = Field(
        0.84, ge=0.0, le=1.5, description="Below this best-sentence score: abstain."
    )
    max_question_chars: int = Field(2000, ge=10)
    max_file_mb: float = Field(50.0, gt=0)
    # OCR of scans and photos (assistant/ingest/ocr.py), in the languages above.
    ocr_dpi: int = Field(300, ge=72, le=600, description="Resolution scanned PDF pages are "
                         "rendered at for OCR.")
    ocr_min_confidence: float = Field(
        75.0, ge=0.0, le=100.0, description="Pages OCR reads with less mean confidence "
        "(Tesseract's, 0-100) are reported at ingest.")
    tesseract_cmd: str = Field("tesseract", description="The Tesseract program (`make ocr`).")

    brief_min_relevance: float = Field(
        0.78, ge=0.0, le=1.5, description="Briefings: documents scoring below this are left out.")
    brief_relevance_margin: float = Field(
        0.04, ge=0.0, le=1.0, description="Briefings: keep documents this close to the best one.")
    brief_max_figures: int = Field(20, ge=1, le=200, description="Rows in a key-figures table.")
    brief_max_items: int = Field(8, ge=1, le=50, description="Directives or problems listed.")

    # Generative backends (openai, local); see README "Generative answers".
    openai_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (vLLM); "
        "unset: api.openai.com."
    )
    openai_api_key: SecretStr | None = Field(None, description="API key; never logged.")
    openai_model: str = Field("gpt-4o-mini", description="Model (or Azure deployment) name.")
    azure_api_version: str | None = Field(
        None, description="Set for Azure OpenAI's deployment API (base URL = resource endpoint)."
    )
    llm_timeout: float = Field(60.0, gt=0, description="Seconds per model request.")
    llm_max_retries: int = Field(2, ge=0, le=10, description="Retries (with backoff) on 429/5xx.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    context_tokens: int = Field(8192, ge=512, description="The model's context window.")
    max_answer_tokens: int = Field(512, ge=16, description="Tokens reserved for the answer.")
    generation_k: int = Field(6, ge=1, le=30, description="Passages shown to the model.")
    rewrite_followups: bool = Field(
        True, description="Rewrite follow-up questions ('and in Tra Vinh?') into standalone ones."
    )
    translate_questions: Literal["auto", "on", "off"] = Field(
        "auto", description="Also search with the question translated by the language model "
        "into the corpus's other languages (docs/crosslingual.md). auto: with the openai "
        "backend; on: also with local, or extractive answers from ASSISTANT_OPENAI_BASE_URL."
    )
    translation_timeout: float = Field(
        20.0, gt=0, description="Seconds for the translation request (not retried).")
    llm_fallback: bool = Field(
        True, description="On model failure, answer extractively (marked as a fallback)."
    )
    local_model_path: Path | None = Field(
        None, description="GGUF file for the local backend; unset: the packaged Gemma 3 270M."
    )
    local_chat_format: str = Field("gemma", description="llama.cpp chat format of the GGUF.")
    local_threads: int = Field(2, ge=1, le=256)
    models_dir: Path = Field(default_factory=lambda: _home() / "models",
                            description="Where packaged GGUFs go.")

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)

    # Web app (issue 6): data folder, sign-in, reverse proxy, uploads.
    data_dir: Path = Field(default_factory=lambda: _home() / "data",
                           description="Feedback database and uploaded documents.")
    users_file: Path | None = Field(
        None, description="YAML file of users (bcrypt hashes, roles); unset: no sign-in.")
    root_path: str = Field("", description="URL prefix when served behind a reverse proxy.")
    max_unzipped_mb: float = Field(
        200.0, gt=0, description="Largest uncompressed size a .docx (a zip) may expand to.")

    # Audit log and chat history (issue 22; assistant/records).
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the audit log and chat history database, e.g. "
        "postgresql+psycopg://user@host/db; unset: SQLite at data_dir/assistant.sqlite.")
    audit: Literal["full", "metadata", "off"] = Field(
        "full", description="Audit log: full (with question text), metadata (who, when, "
        "language, outcome, cited documents; no question text) or off.")
    audit_retention_days: int = Field(
        365, ge=0, description="Audit rows older than this are purged at start; 0: keep all.")

    # Single sign-on (OpenID Connect, web/oidc.py): on when oidc_issuer is set; local
    # accounts (users_file) are then not used. Roles and groups come from the named claims.
    oidc_issuer: str | None = Field(
        None, description="Provider's issuer URL (its /.well-known/openid-configuration is "
        "read at start); unset: no single sign-on.")
    oidc_client_id: str | None = Field(None, description="This app's client id there.")
    oidc_client_secret: SecretStr | None = Field(None, description="Its secret; never logged.")
    oidc_scopes: str = Field("openid profile email",
                             description="Scopes asked for (add e.g. 'groups' if needed).")
    oidc_redirect_base: str | None = Field(
        None, description="Public URL of the app (e.g. https://assistant.example.org); the "
        "provider redirects to <it>/auth. Unset: taken from each request.")
    oidc_username_claim: str = Field(
        "preferred_username", description="Claim naming the user (then email, then sub).")
    oidc_role_claim: str = Field(
        "roles", description="Claim holding roles (dots for nested: realm_access.roles).")
    # NoDecode: a comma-separated variable (a,b) as well as a JSON list.
    oidc_admin_values: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["admin"],
        description="Values of the role claim that make an administrator; others: staff.")
    oidc_groups_claim: str = Field("groups", description="Claim holding the user's groups.")
    session_secret: SecretStr | None = Field(
        None, description="Key signing the sign-in cookie; unset: a random one per start "
        "(everyone signs in again after a restart).")
    session_hours: float = Field(8.0, gt=0, description="How long a sign-in lasts.")

    @field_validator("oidc_admin_values", mode="before")
    @classmethod
    def _split_admin_values(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError("ASSISTANT_OIDC_ISSUER is set: set ASSISTANT_OIDC_CLIENT_ID "
                             "and ASSISTANT_OIDC_CLIENT_SECRET too.")
        return self

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        # Allow ASSISTANT_LANGUAGES=en,vi,fr as well as a JSON list.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
