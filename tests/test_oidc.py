"""Single sign-on: claims mapped to a principal, and the whole sign-in against a real
OpenID provider (the `oidc-provider` npm package under node, tests/oidc/provider.js) on
loopback, first over plain HTTP, then in a real browser that asks a question."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from assistant import Assistant, Settings
from assistant.web.oidc import Principal, SignInEvent, principal_from_claims

from .conftest import ROOT, free_port
from .test_browser import ARGS, CHROMIUM, WAIT

PROVIDER = ROOT / "tests" / "oidc"
NODE = shutil.which("node")
CLIENT = {"oidc_client_id": "health-assistant",  # the secret as the settings hold it
          "oidc_client_secret": SecretStr("test-client-secret")}
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
SSO = {**CLIENT, "oidc_role_claim": "roles", "oidc_admin_values": ["assistant-admin"],
       "oidc_groups_claim": "groups", "oidc_scopes": "openid profile email groups roles"}


@pytest.mark.parametrize(("claims", "options", "expected"), [
    # Roles and groups as lists, the admin value configured.
    ({"preferred_username": "alice", "roles": ["reader", "assistant-admin"],
      "groups": ["province-b", "province-a", "province-a"]},
     {"oidc_admin_values": ["assistant-admin"]},
     Principal("alice", "admin", ("province-a", "province-b"))),
    # A role that is not an admin value: staff.
    ({"preferred_username": "sam", "roles": ["reader"], "groups": ["province-b"]},
     {"oidc_admin_values": ["assistant-admin"]}, Principal("sam", "staff", ("province-b",))),
    # No role and no groups claim: staff with no groups, never admin.
    ({"preferred_username": "nina"}, {}, Principal("nina", "staff", ())),
    # The default admin value is "admin"; a single string counts as one value.
    ({"preferred_username": "ann", "roles": "admin"}, {}, Principal("ann", "admin", ())),
    # Claims of the wrong shape count as absent.
    ({"preferred_username": "bob", "roles": {"admin": True}, "groups": 7}, {},
     Principal("bob", "staff", ())),
    # Nested claims by dotted path (Keycloak's realm_access.roles), other claim names.
    ({"upn": "kim@dept", "realm_access": {"roles": ["ops"]}, "memberOf": ["unit-1", " "]},
     {"oidc_username_claim": "upn", "oidc_role_claim": "realm_access.roles",
      "oidc_admin_values": ["ops"], "oidc_groups_claim": "memberOf"},
     Principal("kim@dept", "admin", ("unit-1",))),
    # No username claim: email, then sub.
    ({"email": "lee@example.org", "sub": "u-1"}, {}, Principal("lee@example.org")),
    ({"sub": "u-2", "roles": ["Admin"]}, {}, Principal("u-2", "staff")),  # case matters
])
def test_claims_map_to_a_principal(claims: dict[str, Any], options: dict[str, Any],
                                   expected: Principal) -> None:
    assert principal_from_claims(claims, Settings(**options)) == expected


def test_claims_without_a_name_are_refused() -> None:
    from assistant.errors import AssistantError

    with pytest.raises(AssistantError, match="name no user"):
        principal_from_claims({"roles": ["admin"]}, Settings())


@pytest.mark.parametrize(("env", "expected"), [
    ("assistant-admin, ops", ["assistant-admin", "ops"]),
    ('["assistant admin"]', ["assistant admin"]),
])
@pytest.mark.parametrize("variable", ["ASSISTANT_OIDC__ADMIN_VALUES",
                                      "ASSISTANT_OIDC_ADMIN_VALUES"])  # and its earlier name
def test_admin_values_from_the_environment(monkeypatch: pytest.MonkeyPatch, env: str,
                                           expected: list[str], variable: str) -> None:
    monkeypatch.setenv(variable, env)
    assert Settings().oidc.admin_values == expected


def test_an_issuer_needs_a_client() -> None:
    with pytest.raises(ValidationError, match="ASSISTANT_OIDC__CLIENT_ID"):
        Settings(oidc_issuer="http://127.0.0.1:1")


# -- against a real provider -----------------------------------------------------------------

needs_provider = pytest.mark.skipif(
    NODE is None or not (PROVIDER / "node_modules" / "oidc-provider").is_dir(),
    reason="node or the test provider is missing (`make oidc-provider` installs it)")


@pytest.fixture(scope="module")
def provider_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def app_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def issuer(provider_port: int, app_port: int) -> Iterator[str]:
    process = subprocess.Popen(
        [str(NODE), "provider.js", str(provider_port), f"http://127.0.0.1:{app_port}/auth"],
        cwd=PROVIDER, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # until it listens (or dies, and says why)
        seen.append(line)
        if line.startswith("listening "):
            break
    else:
        pytest.fail("the OIDC provider did not start:\n" + "".join(seen))
    yield line.split()[1]
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def sso_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sso-data")


@pytest.fixture(scope="module")
def site(issuer: str, app_port: int, indexed: Assistant, sso_data: Path
         ) -> Iterator[tuple[str, list[SignInEvent]]]:
    from assistant.web.app import serve

    settings = indexed.settings.variant(**{
        **SSO, "oidc_issuer": issuer, "data_dir": sso_data})
    assistant = Assistant(settings, store=indexed.store, embedder=indexed.embedder)
    events: list[SignInEvent] = []
    server = serve(assistant, host="127.0.0.1", port=app_port, block=False,
                   on_sign_in=events.append)
    yield f"http://127.0.0.1:{app_port}", events
    server.close()


def _sign_in(client: Any, url: str, user: str) -> Any:
    """The provider's own pages, as a browser would submit them: login, then consent."""
    page = client.get(f"{url}/")
    assert page.url.host == "127.0.0.1" and page.url.port != int(url.rsplit(":", 1)[1])
    for prompt, fields in (("login", {"login": user, "password": "anything"}),
                           ("consent", {})):
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
        assert action and f'value="{prompt}"' in page.text, page.text[:500]
        page = client.post(page.url.join(action.group(1)), data={"prompt": prompt, **fields})
    return page


@needs_provider
@pytest.mark.slow
@pytest.mark.parametrize(("user", "expected"), [
    ("alice", Principal("alice", "admin", ("leaders", "province-a"))),
    ("sam", Principal("sam", "staff", ("province-b",))),
    ("nina", Principal("nina", "staff", ())),  # the provider sends no roles or groups
])
def test_sign_in_through_the_provider(site: tuple[str, list[SignInEvent]], user: str,
                                      expected: Principal) -> None:
    import httpx

    url, events = site
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        # Not signed in: the page sends the visitor to the provider; the API refuses.
        first = client.get(f"{url}/", follow_redirects=False)
        assert first.status_code == 302 and first.headers["location"] == f"{url}/login"
        assert client.get(f"{url}/config").status_code == 401
        before = len(events)
        page = _sign_in(client, url, user)
        assert page.status_code == 200 and str(page.url) == f"{url}/"
        assert events[before:] == [SignInEvent(True, expected, "", "127.0.0.1")]
        # Gradio sees the name (gr.Request.username comes from the same place).
        assert client.get(f"{url}/config").json()["username"] == user
        # Signed out: here, then at the provider (its confirmation form), back to us.
        confirm = client.get(f"{url}/logout")
        form = re.search(r'<form[^>]*action="([^"]+)"', confirm.text)
        assert form and "xsrf" in confirm.text, confirm.text[:500]
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', confirm.text))
        done = client.post(confirm.url.join(form.group(1)), data={**fields, "logout": "yes"})
        assert str(done.url).startswith(f"{url}/signed-out") and "signed out" in done.text
        assert client.get(f"{url}/", follow_redirects=False).status_code == 302
        assert client.get(f"{url}/config").status_code == 401


@needs_provider
@pytest.mark.slow
def test_api_beside_single_sign_on(site: tuple[str, list[SignInEvent]], sso_data: Path
                                   ) -> None:
    # With no users file, a key's user is the principal signed in through the provider:
    # their groups bound the search, and once they sign out the key opens nothing.
    import httpx

    from assistant.records import ApiKeys, Database

    url, _ = site
    _, key = ApiKeys(Database.from_settings(Settings(data_dir=sso_data))).add("sam")
    search = {"query": "hospital beds in Lang Son", "k": 3}
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        assert client.post(f"{url}/v1/search", json=search).status_code == 401
        _sign_in(client, url, "sam")
        found = httpx.post(f"{url}/v1/search", json=search, timeout=60,
                           headers={"Authorization": f"Bearer {key}"})
        assert found.status_code == 200 and found.json()["data"]
        client.get(f"{url}/logout")  # forgotten here (the provider's confirmation aside)
    gone = httpx.post(f"{url}/v1/search", json=search, headers={"Authorization": f"Bearer {key}"})
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "invalid_api_key"


@needs_provider
@pytest.mark.slow
def test_refused_sign_ins_reach_the_hook(site: tuple[str, list[SignInEvent]]) -> None:
    import httpx

    url, events = site
    with httpx.Client(follow_redirects=True, timeout=60) as client:
        # The user cancels at the provider: it redirects back with an error.
        page = client.get(f"{url}/")
        abort = re.search(r'href="([^"]*/abort)"', page.text)
        assert abort, page.text[:500]
        before = len(events)
        refused = client.get(page.url.join(abort.group(1)))
        assert refused.status_code == 401 and "Sign-in failed" in refused.text
        assert events[before:] == [
            SignInEvent(False, None, "End-User aborted interaction", "127.0.0.1")]
        # A forged callback (no state of ours): refused too, and nobody is signed in.
        forged = client.get(f"{url}/auth?code=stolen&state=guess")
        assert forged.status_code == 401 and len(events) == before + 2
        assert not events[-1].ok
        assert client.get(f"{url}/config").status_code == 401


@needs_provider
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(),
                    reason="chromium not installed (`make browser` installs it)")
def test_browser_signs_in_and_asks(site: tuple[str, list[SignInEvent]], sso_data: Path
                                   ) -> None:
    from playwright.sync_api import expect, sync_playwright

    from assistant.records import AuditLog, AuditQuery, ChatHistory, Database

    url, _ = site
    with sync_playwright() as p:
        # The provider's stock pages import a web font: nothing may leave loopback.
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, LOOPBACK_ONLY])
        page = browser.new_page()
        page.context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/])"),
                           lambda route: route.abort())
        page.set_default_timeout(WAIT)  # actions; each expect() gets WAIT too (else 5 s)
        page.goto(f"{url}/")
        # The provider's sign-in page, then its consent page.
        page.locator("input[name=login]").fill("alice")
        page.locator("input[name=password]").fill("any password")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("#whoami")).to_contain_text("Signed in as alice (admin)", timeout=WAIT)
        expect(page.get_by_role("tab", name="Documents")).to_be_visible(timeout=WAIT)
        page.locator("#question textarea").fill(
            "How many hospital beds does Lang Son province have in total?")
        page.locator("#ask").click()
        page.locator('#chat a.cite[href="#t1-src1"]').first.wait_for()
        expect(page.locator("#chat .message-row").last).to_contain_text("2862", timeout=WAIT)
        # What a restarted server reads back from its database: the question in the audit
        # log, with the signed-in user and the cited report, and the conversation.
        settings = Settings(data_dir=sso_data)
        asked = [r for r in AuditLog(settings).rows(AuditQuery(user="alice",
                                                                events=["question"]))
                 if "hospital beds" in (r["question"] or "")]
        assert asked and asked[-1]["outcome"] == "answered"
        assert "004_3160aee91d886ff2.txt" in asked[-1]["documents"]
        titles = ChatHistory(Database.from_settings(settings)).titles("alice")
        assert any("hospital beds" in title for title, _ in titles)
        # The sign-out link in the header (Gradio opens it in a new tab) ends the session
        # here and, after the provider's confirmation, there: the next visitor must sign in.
        with page.context.expect_page() as opened:
            page.locator("#whoami").get_by_role("link", name="sign out").click()
        tab = opened.value
        tab.get_by_role("button", name=re.compile("sign me out", re.I)).click()
        expect(tab.get_by_text("You are signed out.")).to_be_visible(timeout=WAIT)
        assert tab.request.get(f"{url}/config").status == 401
        tab.goto(f"{url}/")
        expect(tab.locator("input[name=login]")).to_be_visible(timeout=WAIT)
        # Signed in again, a new session: the conversation is listed and opens as it was.
        tab.locator("input[name=login]").fill("alice")
        tab.locator("input[name=password]").fill("any password")
        tab.get_by_role("button", name="Sign-in").click()
        tab.get_by_role("button", name="Continue").click()
        expect(tab.locator("#whoami")).to_contain_text("Signed in as alice", timeout=WAIT)
        tab.locator("#conversations input").click()
        tab.get_by_role("option", name=re.compile("How many hospital beds")).first.click()
        tab.locator("#open-conversation").click()
        expect(tab.locator("#chat .message-row").last).to_contain_text("2862", timeout=WAIT)
        browser.close()
