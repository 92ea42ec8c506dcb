"""Single sign-on with OpenID Connect (Authlib's Starlette client), for ``Settings.oidc_*``.

The Gradio app is mounted in a FastAPI app (``gr.mount_gradio_app`` with an
``auth_dependency``) beside the routes ``/login`` (to the provider), ``/auth`` (the
provider's redirect back: code exchanged, ID token verified, userinfo read), ``/logout``
(here and at the provider) and ``/signed-out``.
A signed session cookie then carries the user as a ``Principal``: the name Gradio sees as
``gr.Request.username``, and the role and groups mapped from configurable claims
(``principal_from_claims``). ``SsoUsers`` answers ``role()``/``is_admin()``/``groups()`` by
user name, as ``auth.Users`` does for local accounts. Every sign-in, accepted or refused, is
passed to an optional ``on_sign_in`` hook (e.g. an audit log).
"""

from __future__ import annotations

import contextlib
import html
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from assistant.access import User, clean_groups
from assistant.config import Settings
from assistant.errors import AssistantError, InputError
from assistant.web.auth import Role

log = logging.getLogger(__name__)
SESSION_KEY = "principal"
ID_TOKEN_KEY = "id_token"  # kept for the provider's logout (id_token_hint)
COOKIE = "assistant_session"
FAILED = ("<!doctype html><title>Sign-in failed</title><p>Sign-in failed: {reason}</p>"
          '<p><a href="{login}">Try again</a></p>')
SIGNED_OUT = ('<!doctype html><title>Signed out</title><p>You are signed out.</p>'
              '<p><a href="{login}">Sign in again</a></p>')


@dataclass(frozen=True)
class Principal:
    """Who is signed in: a name, a role, and the groups whose documents they may read."""

    name: str
    role: Role = "staff"
    groups: tuple[str, ...] = ()

    def to_session(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "groups": list(self.groups)}

    @classmethod
    def from_session(cls, data: Any) -> Principal | None:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None
        role: Role = "admin" if data.get("role") == "admin" else "staff"
        return cls(data["name"], role, tuple(str(g) for g in data.get("groups") or ()))


@dataclass(frozen=True)
class SignInEvent:
    """One sign-in attempt, for the ``on_sign_in`` hook: accepted with a principal, or
    refused with the reason (the provider's error, a bad state, a token that failed checks)."""

    ok: bool
    principal: Principal | None
    reason: str = ""
    client: str | None = None


SignInHook = Callable[[SignInEvent], None]


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by dotted path into nested objects (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> tuple[str, ...]:
    """A claim's values: a list of strings, or one string; anything else counts as none."""
    items: Iterable[Any] = [value] if isinstance(value, str) else (
        value if isinstance(value, list | tuple) else ())
    return tuple(dict.fromkeys(s.strip() for s in items if isinstance(s, str) and s.strip()))


def principal_from_claims(claims: Mapping[str, Any], settings: Settings) -> Principal:
    """Map verified claims to a principal. No role claim, or none of the admin values: staff
    (never admin by default); no groups claim: no groups. Raises if no claim names the user."""
    name = next((v for key in (settings.oidc.username_claim, "email", "sub")
                 for v in _strings(_claim(claims, key))), None)
    if name is None:
        raise AssistantError("The provider's claims name no user (no "
                             f"{settings.oidc.username_claim}, email or sub).")
    roles = _strings(_claim(claims, settings.oidc.role_claim))
    admin = bool(set(roles) & set(settings.oidc.admin_values))
    return Principal(name, "admin" if admin else "staff",
                     tuple(sorted(_strings(_claim(claims, settings.oidc.groups_claim)))))


class SsoUsers:
    """Signed-in principals by name, refreshed from the session cookie on every request;
    the same questions ``auth.Users`` answers for local accounts."""

    enabled = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, Principal] = {}

    def remember(self, principal: Principal) -> None:
        with self._lock:
            self._by_name[principal.name] = principal

    def forget(self, name: str) -> None:
        with self._lock:
            self._by_name.pop(name, None)

    def principal(self, username: str | None) -> Principal | None:
        with self._lock:
            return self._by_name.get(username or "")

    def role(self, username: str | None) -> Role | None:
        principal = self.principal(username)
        return principal.role if principal else None

    def is_admin(self, username: str | None) -> bool:
        return self.role(username) == "admin"

    def user(self, username: str | None) -> User | None:
        """The request's user with the role and groups of their last sign-in."""
        principal = self.principal(username)
        if principal is None:
            return None
        try:
            groups = frozenset(clean_groups(principal.groups))
        except InputError:  # a group name the index cannot hold: grant none, never all
            groups = frozenset()
        return User(principal.name, principal.role, groups)


def _check_provider(settings: Settings) -> None:
    """Read the provider's discovery document now, so a wrong issuer fails at start."""
    import httpx

    issuer = (settings.oidc.issuer or "").rstrip("/")
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=10)
        response.raise_for_status()
        found = str(response.json().get("issuer", "")).rstrip("/")
    except (httpx.HTTPError, ValueError) as exc:
        raise AssistantError(f"Cannot read the sign-in provider's settings at {url}: {exc}"
                             ) from None
    if found != issuer:
        raise AssistantError(f"The provider at {url} calls itself '{found}', not '{issuer}' "
                             "(set ASSISTANT_OIDC__ISSUER to its exact issuer).")


def build_sso_app(blocks: Any, settings: Settings, users: SsoUsers,
                  on_sign_in: SignInHook | None = None, app: Any = None, **mount: Any) -> Any:
    """A FastAPI app (``app``, or a new one): the sign-in routes and ``blocks`` mounted at
    ``/`` behind them."""
    import gradio as gr
    from authlib.integrations.starlette_client import OAuth
    from fastapi import FastAPI, Request
    from fastapi.responses import HTMLResponse, RedirectResponse
    from starlette.middleware.sessions import SessionMiddleware

    _check_provider(settings)
    secret = settings.oidc.client_secret
    oauth = OAuth()
    provider = oauth.register(
        "provider", client_id=settings.oidc.client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=f"{(settings.oidc.issuer or '').rstrip('/')}"
                            "/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc.scopes, "code_challenge_method": "S256"})

    def base(request: Request) -> str:
        return (settings.oidc.redirect_base or str(request.base_url)).rstrip("/")

    def notify(event: SignInEvent) -> None:
        if on_sign_in is None:
            return
        try:
            on_sign_in(event)
        except Exception:  # the hook's failure is reported, and never decides a sign-in
            log.exception("The sign-in hook failed")

    def current(request: Request) -> str | None:
        """Gradio's ``auth_dependency``: the signed-in name, or None (401 from Gradio)."""
        principal = Principal.from_session(request.session.get(SESSION_KEY))
        if principal is None:
            return None
        users.remember(principal)
        return principal.name

    app = app or FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def to_login(request: Request, call_next: Any) -> Any:
        # The page itself sends a visitor who is not signed in to the provider;
        # Gradio's API answers 401 to them.
        root = request.scope.get("root_path", "")
        path = request.scope["path"]
        path = path[len(root):] if root and path.startswith(root) else path
        if request.method == "GET" and path in ("", "/") and current(request) is None:
            return RedirectResponse(f"{base(request)}/login", status_code=302)
        return await call_next(request)

    async def login(request: Request) -> Any:
        return await provider.authorize_redirect(request, f"{base(request)}/auth")

    async def auth(request: Request) -> Any:
        client = request.client.host if request.client else None
        try:
            token = await provider.authorize_access_token(request)
            if "userinfo" not in token:
                raise AssistantError("the provider sent no ID token")
            claims = dict(token["userinfo"])
            # Providers put scope claims (groups, roles) in the ID token or only in userinfo.
            extra = await provider.userinfo(token=token)
            if extra.get("sub") == claims.get("sub"):
                claims.update(extra)
            principal = principal_from_claims(claims, settings)
        except Exception as exc:  # any failure refuses the sign-in, with its reason
            reason = str(getattr(exc, "description", None) or exc) or type(exc).__name__
            log.warning("Sign-in refused: %s", reason)
            notify(SignInEvent(False, None, reason, client))
            request.session.pop(SESSION_KEY, None)
            return HTMLResponse(FAILED.format(reason=html.escape(reason),
                                              login=f"{base(request)}/login"), status_code=401)
        request.session[SESSION_KEY] = principal.to_session()
        request.session[ID_TOKEN_KEY] = token.get("id_token")
        users.remember(principal)
        notify(SignInEvent(True, principal, "", client))
        return RedirectResponse(f"{base(request)}/", status_code=302)

    async def logout(request: Request) -> Any:
        principal = Principal.from_session(request.session.pop(SESSION_KEY, None))
        id_token = request.session.pop(ID_TOKEN_KEY, None)
        if principal is not None:
            users.forget(principal.name)
        # Sign out at the provider too where it allows (RP-initiated logout): on a shared
        # computer, the next person must not be signed in silently as the previous one.
        metadata = await provider.load_server_metadata()
        if id_token and metadata.get("end_session_endpoint"):
            return await provider.logout_redirect(
                request, f"{base(request)}/signed-out", id_token_hint=id_token)
        return await signed_out(request)

    async def signed_out(request: Request) -> Any:
        with contextlib.suppress(Exception):  # clears the logout state kept in the session
            await provider.validate_logout_response(request)
        return HTMLResponse(SIGNED_OUT.format(login=f"{base(request)}/login"))

    # Plain Starlette routes (FastAPI would read the lazily imported Request annotation
    # as a query parameter).
    for path, endpoint in (("/login", login), ("/auth", auth), ("/logout", logout),
                           ("/signed-out", signed_out)):
        app.add_route(path, endpoint, methods=["GET"])

    key = settings.oidc.session_secret.get_secret_value() if settings.oidc.session_secret else None
    https = (settings.oidc.redirect_base or "").startswith("https://")
    app.add_middleware(SessionMiddleware, secret_key=key or secrets.token_urlsafe(32),
                       session_cookie=COOKIE, max_age=int(settings.oidc.session_hours * 3600),
                       same_site="lax", https_only=https)
    return gr.mount_gradio_app(app, blocks, path="/", auth_dependency=current, **mount)
