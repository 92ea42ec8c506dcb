"""The vector store connection: Chroma, embedded (``index/``) or a server (``chroma run``).

Two collections share one store, so every process that uses the server sees one truth:
``<name>_chunks`` holds chunk vectors; ``<name>_docs`` holds one record per file, written
*after* its chunks, listing the chunk ids that make up the file. That record is the commit:
readers only see chunks listed by a committed record, so a crash mid-file never exposes a
half-written file, and a re-run finishes the job.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from assistant.config import Settings
from assistant.errors import EmbedderMismatchError, StoreUnavailableError
from assistant.index.mirror import Mirror
from assistant.text.languages import UNKNOWN

_PAGE = 2000
# 2: each chunk also carries one boolean key per province (``province_field``), which
# Chroma filters by indexed equality; 1 had only the list, matched with a full scan.
SCHEMA = 2


def group_metadata(groups: list[str]) -> dict[str, Any]:
    """A chunk's access keys: ``restricted`` (False or absent: everyone may read it) and
    the groups that may (a list, matched with ``$contains``; Chroma rejects empty lists)."""
    return {"restricted": True, "groups": list(groups)} if groups else {"restricted": False}


def province_field(province: str) -> str:
    """The chunk-metadata key that is True when the chunk's file is about ``province``."""
    return "province_" + re.sub(r"[^0-9a-z]+", "_", province.lower()).strip("_")


@dataclass
class DocRecord:
    source: str
    sha256: str
    title: str
    language: str
    chunk_ids: list[str]
    path: str = ""
    url: str | None = None
    date: str | None = None
    provinces: list[str] = field(default_factory=list)
    ingested_at: float = 0.0
    groups: list[str] = field(default_factory=list)  # who may read it; empty: everyone

    def to_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "source": self.source, "sha256": self.sha256, "title": self.title,
            "language": self.language, "chunk_ids": self.chunk_ids or [""], "path": self.path,
            "ingested_at": self.ingested_at,
        }
        # Chroma rejects None and empty lists: absent means unknown.
        if self.url:
            meta["url"] = self.url
        if self.date:
            meta["date"] = self.date
        if self.provinces:
            meta["provinces"] = self.provinces
        if self.groups:
            meta["groups"] = self.groups
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> DocRecord:
        return cls(
            source=meta["source"], sha256=meta["sha256"], title=meta.get("title", ""),
            language=meta.get("language", UNKNOWN),
            chunk_ids=[i for i in meta.get("chunk_ids", []) if i], path=meta.get("path", ""),
            url=meta.get("url"), date=meta.get("date"),
            provinces=list(meta.get("provinces", [])), ingested_at=meta.get("ingested_at", 0.0),
            groups=list(meta.get("groups", [])),
        )


class ChromaStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._chunks_name = f"{settings.collection}_chunks"
        self._docs_name = f"{settings.collection}_docs"
        self.mirror_name = f"{settings.collection}_centred"
        self.mirror: Mirror | None = None  # set by search.chroma_index.attach

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.index_dir)

    @cached_property
    def client(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        try:
            if self.settings.chroma_url:
                url = urlparse(self.settings.chroma_url)
                return chromadb.HttpClient(host=url.hostname or "127.0.0.1",
                                           port=url.port or 8000, ssl=url.scheme == "https",
                                           settings=chroma_settings)
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(self.settings.index_dir),
                                             settings=chroma_settings)
        except Exception as exc:  # chromadb raises many types for "cannot connect"
            detail = str(exc).rstrip()
            detail += "" if detail.endswith((".", "?", "!")) else "."
            raise StoreUnavailableError(
                f"Cannot open the Chroma store at {self.location}: {detail} "
                + ("Is `chroma run` up at that address?" if self.settings.chroma_url else "")
            ) from None

    def close(self) -> None:
        """Let go of the client: an embedded store's files close once no other client of
        this process has its folder open. Handles taken from it stop working."""
        if (client := self.__dict__.pop("client", None)) is not None:
            self.__dict__.pop("chunks", None)
            client.close()

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (StoreUnavailableError, EmbedderMismatchError):
            raise
        except Exception as exc:
            if type(exc).__name__ in {"ConnectError", "ConnectTimeout", "ReadTimeout",
                                      "RemoteProtocolError", "ConnectionError"}:
                raise StoreUnavailableError(
                    f"Lost the Chroma store at {self.location}: {exc}") from None
            raise

    @cached_property
    def chunks(self) -> Any:
        # One handle per store: fetching it again on every call cost a round trip each.
        return self._call(self.client.get_or_create_collection, self._chunks_name,
                          metadata={"hnsw:space": "cosine"}, embedding_function=None)

    @property
    def docs(self) -> Any:
        return self._call(self.client.get_or_create_collection, self._docs_name,
                          embedding_function=None)

    # -- the index's identity -------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return dict(self.docs.metadata or {})

    def revision(self) -> int:
        return int(self.state().get("revision", 0))

    def identity(self) -> tuple[str, int, bool]:
        """(docs collection id, revision, a writer is active): what a snapshot is keyed by.
        The id changes on `reset`, so a snapshot of an earlier index never matches."""
        docs = self.docs
        state = dict(docs.metadata or {})
        return str(docs.id), int(state.get("revision", 0)), bool(state.get("writing", False))

    def schema(self) -> int:
        return int(self.state().get("schema", 1))

    def snapshot_root(self) -> Path:
        """Where this process keeps snapshots (``index.snapshot``): beside an embedded index;
        for a server, a local cache folder per server address and collection."""
        if not self.settings.chroma_url:
            return self.settings.index_dir / "snapshots"
        base = self.settings.index_cache_dir or self.settings.data_dir / "index-cache"
        name = re.sub(r"[^0-9A-Za-z.-]+", "_",
                      f"{self.settings.chroma_url}_{self.settings.collection}")
        return base / name

    def verify_embedder(self, model_id: str, dimension: int | None = None) -> str | None:
        """Raise if the index holds vectors of another embedder (model, profile or size);
        return who built it."""
        state = self.state()
        built_by = state.get("embedder")
        built_dim = state.get("dimension")
        other_model = bool(built_by) and built_by != model_id
        other_dim = dimension is not None and built_dim is not None \
            and int(built_dim) != dimension
        if (other_model or other_dim) and self.chunks.count() > 0:
            profile = state.get("profile")
            details = ", ".join(part for part in (f"profile {profile}" if profile else "",
                                                  f"{built_dim} dimensions" if built_dim else "")
                                if part)
            built = f"'{built_by}'" + (f" ({details})" if details else "")
            raise EmbedderMismatchError(
                f"The index at {self.location} was built with the embedder {built}, but "
                f"'{model_id}'{f' ({dimension} dimensions)' if dimension else ''} is "
                "configured: vectors of two embedders cannot be compared. Switch the index "
                "to the configured embedder with `assistant ingest --rebuild` (re-embeds "
                "every file), or set ASSISTANT_EMBEDDER (and ASSISTANT_EMBEDDER_MODEL, "
                "ASSISTANT_EMBEDDER_DIM) back to the ones it was built with."
            )
        return str(built_by) if built_by else None

    def check_embedder(self, model_id: str, dimension: int, profile: str = "") -> None:
        """Refuse to mix vectors of two embedders; claim an empty index for this one."""
        if self.verify_embedder(model_id, dimension) != model_id:
            fresh = self.chunks.count() == 0
            self._set_state(embedder=model_id, dimension=dimension,
                            **({"profile": profile} if profile else {}),
                            **({"schema": SCHEMA} if fresh else {}))

    def _set_state(self, **values: Any) -> None:
        state = self.state()
        state.update(values)
        state.pop("hnsw:space", None)
        self._call(self.docs.modify, metadata=state)

    def begin_write(self) -> None:
        """Mark the store as being written (and move the revision): until ``end_write``,
        snapshots of it are built in memory only, never saved (a crash leaves the mark).
        ``mirrored``: every writer since the mirror was last made whole had it; one without
        it withdraws the mark (``end_write`` of one with it makes the mirror whole again)."""
        state = self.state()
        mark: dict[str, Any] = {}
        if self.mirror is None:
            mark = {"mirrored": ""} if state.get("mirrored") else {}
        elif state.get("mirrored") != self.mirror.tag and self.chunks.count() == 0:
            mark = {"mirrored": self.mirror.tag, "mirrored_with": self.mirror.tag}
        self._set_state(revision=int(state.get("revision", 0)) + 1, writing=True, **mark)

    def mirror_stale(self) -> bool:
        """A mirror is attached and the index has writes it has not seen."""
        return self.mirror is not None and self.state().get("mirrored") != self.mirror.tag

    def end_write(self) -> None:
        if self.mirror is not None and self.mirror_stale():
            self.mirror.backfill()  # still marked writing: no reader trusts it yet
            self._set_state(mirrored=self.mirror.tag)
        self._set_state(revision=self.revision() + 1, writing=False, updated_at=time.time())

    bump_revision = end_write  # a writer's last word: readers see the new state

    # -- documents ----------------------------------------------------------------------------
    def is_empty(self) -> bool:
        """No document committed (a count, not a listing: cheap at any size)."""
        return int(self._call(self.docs.count)) == 0

    def documents(self) -> list[DocRecord]:
        records = [DocRecord.from_metadata(m) for _, m, _ in self._pages(self.docs, ["metadatas"])]
        return sorted(records, key=lambda r: r.source)

    def document(self, source: str) -> DocRecord | None:
        got = self._call(self.docs.get, ids=[source], include=["metadatas"])
        return DocRecord.from_metadata(got["metadatas"][0]) if got["ids"] else None

    def document_text(self, source: str) -> str | None:
        got = self._call(self.docs.get, ids=[source], include=["documents"])
        return got["documents"][0] if got["ids"] else None

    def commit_document(self, record: DocRecord, original_text: str) -> None:
        # The docs collection needs a vector per record; a constant 1-d one carries nothing.
        self._call(self.docs.upsert, ids=[record.source], embeddings=[[1.0]],
                   metadatas=[record.to_metadata()], documents=[original_text])

    def delete_document(self, source: str) -> None:
        record = self.document(source)
        self._call(self.docs.delete, ids=[source])  # uncommit first: readers stop seeing it
        if record and record.chunk_ids:
            self.delete_chunks(record.chunk_ids)

    # -- chunks -------------------------------------------------------------------------------
    def existing_chunk_ids(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(ids), _PAGE):
            got = self._call(self.chunks.get, ids=list(ids[start : start + _PAGE]), include=[])
            found.update(got["ids"])
        return found

    def write_chunks(self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]],
                     embeddings: np.ndarray | None) -> None:
        """Upsert with vectors, or (embeddings=None) refresh metadata of chunks we already hold."""
        step = max(1, min(self._call(self.client.get_max_batch_size), 5000))
        for s in range(0, len(ids), step):
            sl = slice(s, s + step)
            if embeddings is None:
                self._call(self.chunks.update, ids=ids[sl], metadatas=metadatas[sl])
            else:
                self._call(self.chunks.upsert, ids=ids[sl], documents=texts[sl],
                           metadatas=metadatas[sl], embeddings=embeddings[sl])
            if self.mirror is not None:
                self.mirror.write(ids[sl], metadatas[sl],
                                  None if embeddings is None else embeddings[sl])

    def delete_chunks(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), _PAGE):
            self._call(self.chunks.delete, ids=list(ids[start : start + _PAGE]))
            if self.mirror is not None:
                self.mirror.delete(list(ids[start : start + _PAGE]))

    def all_chunk_ids(self) -> set[str]:
        return {i for i, _, _ in self._pages(self.chunks, [])}

    def iter_chunks(self) -> Iterator[tuple[str, dict[str, Any], str]]:
        yield from self._pages(self.chunks, ["metadatas", "documents"])

    def query(self, vector: np.ndarray, n: int, where: dict[str, Any] | None) -> dict[str, Any]:
        # Chroma returns fewer than n results (none on an empty index) without complaint.
        return dict(self._call(self.chunks.query, query_embeddings=[vector.tolist()],
                               n_results=n, where=where or None,
                               include=["metadatas", "documents", "distances"]))

    def get_chunks(self, ids: list[str], where: dict[str, Any] | None,
                   embeddings: bool = False) -> dict[str, Any]:
        include = ["metadatas", "documents", *(["embeddings"] if embeddings else [])]
        return dict(self._call(self.chunks.get, ids=ids, where=where or None, include=include))

    def reset(self) -> None:
        self.__dict__.pop("chunks", None)  # the cached handle dies with its collection
        # New collections get new ids, so old snapshots never match; free their disk too.
        shutil.rmtree(self.snapshot_root(), ignore_errors=True)
        if self.mirror is not None:
            self.mirror.forget()
        for name in (self._chunks_name, self._docs_name, *self.mirror_collections()):
            try:
                self.client.delete_collection(name)
            except Exception as exc:  # absent collection: nothing to reset
                if "does not exist" not in str(exc) and "NotFound" not in type(exc).__name__:
                    raise

    def mirror_collections(self) -> list[str]:
        """The mirror's collections: ``<name>_centred`` and its parts, ``<name>_centred_*``
        (present whether or not a mirror is attached to this store)."""
        names = [getattr(c, "name", c) for c in self._call(self.client.list_collections)]
        return [n for n in names
                if n == self.mirror_name or n.startswith(f"{self.mirror_name}_")]

    def _pages(self, collection: Any, include: list[str]
               ) -> Iterator[tuple[str, dict[str, Any], str]]:
        offset = 0
        while True:
            got = self._call(collection.get, include=include, limit=_PAGE, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            metas = got.get("metadatas") or [{}] * len(ids)
            texts = got.get("documents") or [""] * len(ids)
            yield from zip(ids, metas, texts, strict=True)
            offset += len(ids)
