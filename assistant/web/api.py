"""The OpenAI-compatible API, served beside the web chat under ``/v1`` (docs/api.md).

``POST /v1/chat/completions`` answers as the web chat does (whole, or ``stream: true`` as
server-sent events), ``GET /v1/models`` lists the answer backends, ``POST /v1/search``
returns passages with scores, and ``GET/POST/DELETE /v1/documents`` (administrators) list,
upload and delete documents with the Documents tab's checks. The schema is at
``/v1/openapi.json``.

Every request carries ``Authorization: Bearer KEY`` (``assistant keys add USER``). The key
names a user; their role and groups come from the accounts (the users file) on every
request, so a removed user's key opens nothing, and the user's groups bound every search
exactly as in the web chat. Every call, refused ones included, goes to the audit log.

(No ``from __future__ import annotations`` here: FastAPI reads the endpoints' annotations,
which name types local to ``build_api``.)
"""

import json
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from assistant.access import User, clean_groups
from assistant.answer.types import Answer
from assistant.errors import AssistantError, GenerationError, IndexStoreError, InputError
from assistant.records import ApiKeys, AuditLog
from assistant.service import Assistant
from assistant.text import dates
from assistant.web import api_format as fmt
from assistant.web.admin import index_lock
from assistant.web.auth import Accounts

PREFIX = "/v1"
ANSWERS_AT_ONCE = 4  # as the web chat's queue: more questions wait for a turn
_KINDS = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "invalid_request_error"}


class ApiError(HTTPException):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(status, message)
        self.code = code


def _from(exc: AssistantError) -> ApiError:
    """Our errors as HTTP: bad input 400, the model 502, the index 503."""
    status = (400 if isinstance(exc, InputError) else 502 if isinstance(exc, GenerationError)
              else 503 if isinstance(exc, IndexStoreError) else 500)
    return ApiError(status, str(exc), type(exc).__name__)


def _error(status: int, message: str, code: str | None) -> JSONResponse:
    kind = _KINDS.get(status, "api_error")
    return JSONResponse(fmt.error_body(message, kind, code), status_code=status)


@dataclass(frozen=True)
class Caller:
    """Who a request acts as: the key's user, as the accounts know them right now."""

    name: str
    user: User
    key_id: str


def build_api(assistant: Assistant, accounts: Accounts, keys: ApiKeys,
              audit: AuditLog) -> FastAPI:
    """The ``/v1`` app, to mount beside Gradio (``app.mount(PREFIX, build_api(...))``)."""
    api = FastAPI(title="Health reports assistant API", version="1",
                  description="OpenAI-compatible chat with citations, search and documents. "
                              "See docs/api.md.",
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)
    bearer = HTTPBearer(auto_error=False, description="An API key: `assistant keys add USER`.")
    answering = threading.BoundedSemaphore(ANSWERS_AT_ONCE)

    @api.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "code", None))

    @api.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: "
                             f"{e.get('msg', '')}" for e in exc.errors())
        return _error(400, f"Invalid request: {problems}", "invalid_request")

    def caller(request: Request, credentials: Annotated[
            HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
        client = request.client.host if request.client else None
        try:
            key = keys.verify(credentials.credentials if credentials else None)
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            raise ApiError(503, "API keys cannot be checked right now (the records database "
                           "is unavailable).", "unavailable") from exc
        user = accounts.user(key.user) if key else None
        if key is None or user is None:
            reason = ("no key" if credentials is None else "unknown or revoked key"
                      if key is None else "the key's user has no access")
            audit.record("sign_in", key.user if key else None, "failed", via="api",
                         reason=reason, client=client, path=request.url.path)
            raise ApiError(401, "Missing, unknown or revoked API key, or its user no longer "
                           "has access. Send 'Authorization: Bearer KEY' with a key from "
                           "`assistant keys add USER`.", "invalid_api_key")
        return Caller(key.user, user, key.id)

    def admin(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
        if not who.user.is_admin:
            event = {"POST": "upload", "DELETE": "delete"}.get(request.method, "api_documents")
            audit.record(event, who.name, "refused", via="api", key_id=who.key_id,
                         path=request.url.path)
            raise ApiError(403, "Only administrators may list, upload or delete documents.",
                           "insufficient_permissions")
        return who

    Who = Annotated[Caller, Depends(caller)]
    Admin = Annotated[Caller, Depends(admin)]

    def backend_for(model: str | None) -> tuple[str, Any]:
        backends = assistant.backends()
        name = model or assistant.backend.name
        if name not in backends:
            raise ApiError(404, f"The model '{name}' does not exist here; use one of: "
                           f"{', '.join(backends)} (GET /v1/models).", "model_not_found")
        return name, backends[name]

    @api.get("/models", summary="The answer backends, one model each")
    def models(who: Who) -> dict[str, Any]:
        audit.record("api_models", who.name, via="api", key_id=who.key_id)
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "health-assistant"}
            for name in assistant.backends()]}

    @api.post("/chat/completions", summary="Answer the last user message, with citations",
              response_model=None)
    def chat(body: fmt.ChatRequest, who: Who) -> Any:
        name, backend = backend_for(body.model)
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

        def noted(outcome: str, question: str, answer: Answer | None = None,
                  error: str = "") -> None:
            extra = {"error": error[:300]} if error else {}
            documents = [c.source for c in answer.citations] if answer else []
            audit.record("api_question", who.name, outcome, via="api", key_id=who.key_id,
                         question=question, documents=documents, model=name,
                         stream=body.stream, language=answer.language if answer else None,
                         latency_ms=round(answer.latency_ms, 1) if answer else None, **extra)

        question = ""
        try:
            question, history = fmt.conversation(body.messages)
            filters = body.filters(who.user)
            # The web chat's call, with the configured backend unless another is chosen.
            chosen = None if backend is assistant.backend else backend
            parts = assistant.ask_stream(question, filters, None, history, chosen)
            with answering:  # retrieval runs here: its errors are still HTTP's
                first = next(parts, None)
        except AssistantError as exc:
            noted("error", question, error=str(exc))
            raise _from(exc) from None
        if body.stream:
            return StreamingResponse(
                _events(first, parts, name, ident, created, question, noted, answering),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        try:
            with answering:
                final = _final(first, parts)
        except AssistantError as exc:
            noted("error", question, error=str(exc))
            raise _from(exc) from None
        noted("abstained" if final.abstained else "answered", question, final)
        return fmt.completion(final, name, ident, created)

    @api.post("/search", summary="Passages for a query, with scores")
    def search(body: fmt.SearchRequest, who: Who) -> dict[str, Any]:
        try:
            hits = assistant.search(body.query, body.k or assistant.settings.search.retrieval_k,
                                    body.filters(who.user))
        except AssistantError as exc:
            audit.record("api_search", who.name, "error", via="api", key_id=who.key_id,
                         question=body.query, error=str(exc)[:300])
            raise _from(exc) from None
        audit.record("api_search", who.name, via="api", key_id=who.key_id,
                     question=body.query, documents=list(dict.fromkeys(h.source for h in hits)))
        return {"object": "list", "data": [
            {"id": h.id, "source": h.source, "title": str(h.metadata.get("title", "")),
             "score": round(float(h.similarity), 4), "dense": round(float(h.dense), 4),
             "language": h.language, "date": dates.iso(h.metadata.get("date")),
             "provinces": list(h.metadata.get("provinces") or []),
             "url": h.metadata.get("url"), "text": h.text} for h in hits]}

    @api.get("/documents", summary="The indexed documents (administrators)")
    def documents(who: Admin) -> dict[str, Any]:
        records = assistant.sources()
        audit.record("api_documents", who.name, via="api", key_id=who.key_id,
                     count=len(records))
        return {"object": "list", "data": [
            {"source": r.source, "title": r.title, "language": r.language,
             "chunks": len(r.chunk_ids), "date": r.date, "provinces": list(r.provinces),
             "groups": list(r.groups), "url": r.url} for r in records]}

    @api.post("/documents", summary="Upload documents (administrators)")
    def upload(who: Admin, files: Annotated[list[UploadFile], File()],
               groups: Annotated[str, Form(description="Readable by these groups, "
                                            "comma-separated; empty: everyone")] = ""
               ) -> dict[str, Any]:
        names = [f.filename or "" for f in files]
        try:
            readers = clean_groups(groups)
            with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
                staged = []
                for i, upload_file in enumerate(files):
                    # A neutral local name; the checks read the original one.
                    path = Path(tmp) / f"{i}{Path(names[i]).suffix[:16]}"
                    with path.open("wb") as out:
                        shutil.copyfileobj(upload_file.file, out)
                    staged.append((path, names[i]))
                with index_lock(assistant):
                    report = assistant.add_files(staged, None, readers)
        except AssistantError as exc:
            audit.record("upload", who.name, "failed", via="api", key_id=who.key_id,
                         files=names, error=str(exc))
            raise _from(exc) from None
        audit.record("upload", who.name, via="api", key_id=who.key_id, files=names,
                     summary=report.summary())
        failed = report.ingest.failed if report.ingest else []
        return {"accepted": report.accepted, "summary": report.summary(),
                "duplicates": [{"name": n, "indexed_as": s} for n, s in report.duplicates],
                "refused": [{"name": n, "reason": r} for n, r in report.refused],
                "failed": [{"source": s, "reason": r} for s, r in failed]}

    @api.delete("/documents/{source:path}", summary="Delete a document (administrators)")
    def delete(source: str, who: Admin) -> dict[str, Any]:
        try:
            with index_lock(assistant):
                gone = assistant.remove(source)
        except AssistantError as exc:
            audit.record("delete", who.name, "failed", via="api", key_id=who.key_id,
                         documents=[source], error=str(exc))
            raise _from(exc) from None
        audit.record("delete", who.name, "ok" if gone else "not_found", via="api",
                     key_id=who.key_id, documents=[source])
        if not gone:
            raise ApiError(404, f"'{source}' is not an indexed document.", "not_found")
        return {"source": source, "deleted": True}

    return api


def _final(first: str | Answer | None, parts: Iterator[str | Answer]) -> Answer:
    """The final ``Answer`` of a stream (the deltas before it are drafts)."""
    part = first
    while part is not None and not isinstance(part, Answer):
        part = next(parts, None)
    if part is None:  # the stream contract promises a final Answer
        raise AssistantError("The answer was interrupted; please ask again.")
    return part


def _events(first: str | Answer | None, parts: Iterator[str | Answer], model: str,
            ident: str, created: int, question: str, noted: Any,
            answering: threading.BoundedSemaphore) -> Iterator[str]:
    """OpenAI's chunks. Only the checked answer is sent: a model's drafts are not, since a
    client cannot take back text it was sent; it comes in pieces, then the sources."""
    yield fmt.chunk(ident, created, model, {"role": "assistant", "content": ""})
    try:
        with answering:
            final = _final(first, parts)
    except AssistantError as exc:
        noted("error", question, error=str(exc))
        error = _from(exc)
        kind = _KINDS.get(error.status_code, "api_error")
        yield f"data: {json.dumps(fmt.error_body(str(exc), kind, error.code))}\n\n"
        yield "data: [DONE]\n\n"
        return
    noted("abstained" if final.abstained else "answered", question, final)
    for piece in fmt.pieces(fmt.content(final)):
        yield fmt.chunk(ident, created, model, {"content": piece})
    yield fmt.chunk(ident, created, model, {}, "stop", **fmt.extension(final))
    yield "data: [DONE]\n\n"
