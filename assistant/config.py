"""One typed settings object; the only place that reads the environment (``ASSISTANT_*``).

Deployment basics (paths, the Chroma store, the embedder, the server) are top-level
fields; the rest sit in nested groups by concern (assistant/config_groups.py):
``settings.search.retrieval_k`` is set by ``ASSISTANT_SEARCH__RETRIEVAL_K``.

Names of earlier releases: ``FLAT_NAMES`` below is the one table of them. A flat name is
accepted wherever settings are given, as ``ASSISTANT_MIN_EVIDENCE`` in the environment and as
a keyword (``Settings(min_evidence=0.8)``, ``variant(min_evidence=0.8)``), and means its
grouped field; given both ways, the grouped name wins within one source, and as usual
keywords win over the environment. Attributes exist only grouped
(``settings.answer.min_evidence``); the package and the docs use the grouped names, tests
and benches either (the flat ones are a stable API, tested in tests/test_settings.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from assistant.config_groups import (
    AnswerSettings,
    BriefingSettings,
    IngestSettings,
    LlmSettings,
    OcrSettings,
    OidcSettings,
    RecordsSettings,
    SearchSettings,
)
from assistant.profiles import EmbedderProfile, profile_named

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
ENV_PREFIX = "ASSISTANT_"

# The flat names of earlier releases -> "group.field" (ASSISTANT_<FLAT> still works).
FLAT_NAMES: dict[str, str] = {
    "chunk_tokens": "ingest.chunk_tokens",
    "chunk_overlap_tokens": "ingest.chunk_overlap_tokens",
    "max_file_mb": "ingest.max_file_mb",
    "max_unzipped_mb": "ingest.max_unzipped_mb",
    "ocr_dpi": "ocr.dpi",
    "ocr_min_confidence": "ocr.min_confidence",
    "tesseract_cmd": "ocr.tesseract_cmd",
    "retrieval_k": "search.retrieval_k",
    "candidate_k": "search.candidate_k",
    "fusion": "search.fusion",
    "province_anchor": "search.province_anchor",
    "crosslingual": "search.crosslingual",
    "relation_raw_weight": "search.relation_raw_weight",
    "centering_prior": "search.centering_prior",
    "blas_threads": "search.blas_threads",
    "answer_pool_k": "answer.pool_k",
    "answer_sentences": "answer.sentences",
    "min_evidence": "answer.min_evidence",
    "supported_relief": "answer.supported_relief",
    "max_question_chars": "answer.max_question_chars",
    "openai_base_url": "llm.openai_base_url",
    "openai_api_key": "llm.openai_api_key",
    "openai_model": "llm.openai_model",
    "azure_api_version": "llm.azure_api_version",
    "llm_timeout": "llm.timeout",
    "llm_max_retries": "llm.max_retries",
    "llm_temperature": "llm.temperature",
    "context_tokens": "llm.context_tokens",
    "max_answer_tokens": "llm.max_answer_tokens",
    "generation_k": "llm.generation_k",
    "rewrite_followups": "llm.rewrite_followups",
    "translate_questions": "llm.translate_questions",
    "translation_timeout": "llm.translation_timeout",
    "llm_fallback": "llm.fallback",
    "local_model_path": "llm.local_model_path",
    "local_chat_format": "llm.local_chat_format",
    "local_threads": "llm.local_threads",
    "brief_min_relevance": "briefing.min_relevance",
    "brief_relevance_margin": "briefing.relevance_margin",
    "brief_max_figures": "briefing.max_figures",
    "brief_max_items": "briefing.max_items",
    "database_url": "records.database_url",
    "audit": "records.audit",
    "audit_retention_days": "records.audit_retention_days",
    "oidc_issuer": "oidc.issuer",
    "oidc_client_id": "oidc.client_id",
    "oidc_client_secret": "oidc.client_secret",
    "oidc_scopes": "oidc.scopes",
    "oidc_redirect_base": "oidc.redirect_base",
    "oidc_username_claim": "oidc.username_claim",
    "oidc_role_claim": "oidc.role_claim",
    "oidc_admin_values": "oidc.admin_values",
    "oidc_groups_claim": "oidc.groups_claim",
    "session_secret": "oidc.session_secret",
    "session_hours": "oidc.session_hours",
}


def env_name(path: str) -> str:
    """The variable setting a field: ``search.retrieval_k`` -> ASSISTANT_SEARCH__RETRIEVAL_K."""
    return ENV_PREFIX + path.replace(".", "__").upper()


def describe(loc: tuple[int | str, ...]) -> str:
    """The variable of a validation error's field, for messages, with its flat name of earlier
    releases if it has one: ``ASSISTANT_SEARCH__RETRIEVAL_K (or ASSISTANT_RETRIEVAL_K)``."""
    if not loc:
        return "settings"
    groups = {g for g, _ in (new.split(".") for new in FLAT_NAMES.values())}
    path = ".".join(map(str, loc[:2] if loc[0] in groups else loc[:1]))
    old = [ENV_PREFIX + flat.upper() for flat, new in FLAT_NAMES.items() if new == path]
    return env_name(path) + (f" (or {old[0]})" if old else "")


def _given(value: Any) -> dict[str, Any]:
    """A group's explicitly given fields, whether given as a mapping or as the model."""
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return dict(value) if isinstance(value, Mapping) else {}


def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with each flat name of ``FLAT_NAMES`` moved into its group; a value given
    under the grouped name wins over the flat one."""
    out = {k: v for k, v in values.items() if k not in FLAT_NAMES}
    for old, value in values.items():
        if old in FLAT_NAMES:
            group, name = FLAT_NAMES[old].split(".")
            if isinstance(out.get(group), BaseModel):
                continue  # a whole group given as a model: it wins
            out[group] = {name: value, **_given(out.get(group))}
    return out


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


class _Nested(PydanticBaseSettingsSource):
    """Keyword arguments with their flat names nested (``nest``)."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self.inner = inner

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return nest(self.inner())


class _FlatEnv(PydanticBaseSettingsSource):
    """``ASSISTANT_<FLAT NAME>`` variables of earlier releases, nested; below the grouped
    variables (``ASSISTANT_SEARCH__RETRIEVAL_K`` wins over ``ASSISTANT_RETRIEVAL_K``)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env = {k.upper(): v for k, v in os.environ.items()}
        return nest({old: env[ENV_PREFIX + old.upper()] for old in FLAT_NAMES
                     if ENV_PREFIX + old.upper() in env})


def _home() -> Path:
    """Where corpus/, index/, data/ and models/ live by default: the source checkout the
    package runs from, or, for an installed package, the current folder."""
    return PROJECT_ROOT if (PROJECT_ROOT / "pyproject.toml").is_file() else Path.cwd()


class Settings(BaseSettings):
    """Everything configurable, with defaults that work offline on the bundled corpus."""

    # Frozen: chosen once; a variant is a new object (`variant(**changes)`), never an edit.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      env_file=None, extra="ignore", frozen=True)

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
    embed_batch_size: int = Field(32, ge=1, le=1024)
    omp_wait_policy: Literal["passive", "active"] = Field(
        "passive", description="How the embedder's OpenMP threads wait between calls: "
        "passive (sleep; leaves the CPU to other work: ingestion, a busy shared server) or "
        "active (spin; a question embeds about 2.5x faster on an otherwise idle machine, "
        "see bench/results.md). Applied when the model loads, via OMP_WAIT_POLICY."
    )

    languages: list[str] = Field(
        default_factory=lambda: ["en", "vi", "uk", "fr", "ar"],
        description="Languages the detector chooses among (ISO 639-1).",
    )
    answer_backend: Literal["extractive", "openai", "local"] = Field(
        "extractive", description="extractive (no model), openai (any OpenAI-compatible "
        "endpoint) or local (a GGUF file through llama.cpp's server)."
    )
    models_dir: Path = Field(default_factory=lambda: _home() / "models",
                             description="Where packaged GGUFs go.")

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    # Web app (issue 6): data folder, sign-in, reverse proxy.
    data_dir: Path = Field(default_factory=lambda: _home() / "data",
                           description="Feedback database and uploaded documents.")
    users_file: Path | None = Field(
        None, description="YAML file of users (bcrypt hashes, roles); unset: no sign-in.")
    root_path: str = Field("", description="URL prefix when served behind a reverse proxy.")
    downloads_minutes: int = Field(
        60, ge=1, description="How long the web app keeps a file it offered or received "
        "(briefings, audit exports, uploads) before deleting it; all go when it stops.")

    ingest: IngestSettings = Field(default_factory=IngestSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)
    briefing: BriefingSettings = Field(default_factory=BriefingSettings)
    records: RecordsSettings = Field(default_factory=RecordsSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keywords, then grouped variables, then the flat variables of earlier releases.
        return (_Nested(settings_cls, init_settings), env_settings, _FlatEnv(settings_cls),
                dotenv_settings, file_secret_settings)

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        # Fields tuned for the chosen embedder (its profile's), unless set explicitly.
        # `model_copy` would skip this (and all validation): `variant` rebuilds instead.
        if not isinstance(data, dict):
            return data
        profile = profile_named(str(data.get("embedder") or "e5"))
        return {**data, **{group: {**tuned, **_given(data.get(group))}
                           for group, tuned in profile.thresholds.items()}}

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, value: str) -> str:
        profile_named(value)
        return value

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        # Allow ASSISTANT_LANGUAGES=en,vi,fr as well as a JSON list.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc.issuer and not (self.oidc.client_id and self.oidc.client_secret):
            raise ValueError(f"{env_name('oidc.issuer')} is set: set "
                             f"{env_name('oidc.client_id')} and "
                             f"{env_name('oidc.client_secret')} too.")
        return self

    @property
    def embedder_profile(self) -> EmbedderProfile:
        return profile_named(self.embedder)

    def variant(self, **changes: Any) -> Settings:
        """These settings with ``changes`` (a group's changes as a mapping:
        ``variant(search={"fusion": "rrf"})``), validated like any others: the one way to
        make a variant. A tuned field still at its profile's value follows the (new)
        profile's; one set explicitly stays."""
        tuned = self.embedder_profile.thresholds
        kept: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                at_profile = tuned.get(name, {})
                value = {k: v for k, v in value.model_dump().items()
                         if k in value.model_fields_set
                         and not (k in at_profile and v == at_profile[k])}
            kept[name] = value
        return type(self)(**_merge(kept, nest(changes)))
