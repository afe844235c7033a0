"""Sign in with Slack and Microsoft Entra ID against a local OpenID Connect provider.

The real OidcClient talks to tests/web/oidc_standin.py over HTTP; the real web app runs the
whole browser flow: /auth/start -> the provider -> /auth/callback -> a session with a role.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from adapters.web.oidc import OidcClient, SignInError, entra_config, slack_config

from .conftest import deployment_settings
from .oidc_standin import CLIENT_ID, CLIENT_SECRET, TEAM, TENANT, OidcStandin, User

REDIRECT = "http://baton.test/auth/callback/slack"


def client_for(idp: OidcStandin, *, workspace: str = "") -> OidcClient:
    if idp.flavour == "slack":
        return OidcClient(config=slack_config(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, issuer=idp.base_url, team_id=workspace))
    return OidcClient(config=entra_config(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, tenant_id=workspace or TENANT, authority=idp.base_url))


async def follow_provider(url: str) -> dict[str, str]:
    """What a browser does at the provider: arrive, sign in, get sent back with code and state."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as response:
        assert response.status == 302
        location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()} | {"path": urlsplit(location).path}


async def sign_in_with(idp: OidcStandin, *, workspace: str = ""):
    client = client_for(idp, workspace=workspace)
    try:
        begun = await client.start(redirect_uri=REDIRECT)
        back = await follow_provider(begun.url)
        assert back["state"] == begun.state
        return await client.finish(code=back["code"], redirect_uri=REDIRECT, nonce=begun.nonce, code_verifier=begun.code_verifier)
    finally:
        await client.close()


@pytest.mark.parametrize("flavour", ["slack", "entra"])
async def test_a_full_sign_in_gives_the_verified_identity(flavour):
    async with OidcStandin(flavour=flavour) as idp:
        identity = await sign_in_with(idp, workspace=TEAM if flavour == "slack" else TENANT)
        (kind, asked), token_form = idp.requests[1], next(form for kind, form in idp.requests if kind == "token")
    assert (identity.provider, identity.email, identity.name, identity.user_id) == (flavour, "ann@support.example", "Ann Agent", "U0ANN")
    assert identity.workspace == (TEAM if flavour == "slack" else TENANT)
    assert kind == "authorize" and asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["scope"] == "openid email profile"
    assert token_form["code_verifier"] and token_form["client_secret"] == CLIENT_SECRET


@pytest.mark.parametrize("fault, message", [
    ("other_key", "signature or claims"), ("alg_none", "does not accept"), ("wrong_issuer", "another issuer"),
    ("wrong_audience", "another application"), ("expired", "expired"), ("wrong_nonce", "nonce"),
    ("token_error", "refused the code"), ("no_discovery", "answered 503"),
])
async def test_every_bad_token_or_answer_is_refused_clearly(fault, message):
    async with OidcStandin(flavour="entra", fault=fault) as idp:
        with pytest.raises(SignInError, match=message):
            await sign_in_with(idp)


async def test_slack_style_ok_false_is_a_refusal():
    async with OidcStandin(flavour="slack", fault="slack_not_ok") as idp:
        with pytest.raises(SignInError, match="invalid_grant"):
            await sign_in_with(idp)


async def test_a_code_works_once_and_only_with_its_verifier():
    async with OidcStandin(flavour="slack") as idp:
        client = client_for(idp)
        begun = await client.start(redirect_uri=REDIRECT)
        back = await follow_provider(begun.url)
        with pytest.raises(SignInError, match="refused the code"):
            await client.finish(code=back["code"], redirect_uri=REDIRECT, nonce=begun.nonce, code_verifier="not-the-verifier")
        begun = await client.start(redirect_uri=REDIRECT)
        back = await follow_provider(begun.url)
        await client.finish(code=back["code"], redirect_uri=REDIRECT, nonce=begun.nonce, code_verifier=begun.code_verifier)
        with pytest.raises(SignInError, match="refused the code"):
            await client.finish(code=back["code"], redirect_uri=REDIRECT, nonce=begun.nonce, code_verifier=begun.code_verifier)
        await client.close()


async def test_another_workspace_or_tenant_is_refused():
    async with OidcStandin(flavour="slack", user=User(workspace="T0OTHER")) as idp:
        with pytest.raises(SignInError, match="not a member of the workspace"):
            await sign_in_with(idp, workspace=TEAM)
    async with OidcStandin(flavour="entra", user=User(workspace="99999999-0000-4000-8000-000000000000")) as idp:
        with pytest.raises(SignInError, match="not a member of the tenant"):
            await sign_in_with(idp)


async def test_an_unverified_email_grants_no_domain_role():
    async with OidcStandin(flavour="slack", user=User(email_verified=False)) as idp:
        identity = await sign_in_with(idp)
    assert identity.email == ""


# --- the browser flow through the real web app ---------------------------------------------------

async def start_app(serve_app, make_settings, slack, idp: OidcStandin):
    values = dict(public_url="http://baton.test", admin_token=None)
    if idp.flavour == "slack":
        values.update(slack_signin_client_id=CLIENT_ID, slack_signin_client_secret=CLIENT_SECRET, slack_signin_issuer=idp.base_url, slack_signin_team_id=TEAM)
    else:
        values.update(entra_client_id=CLIENT_ID, entra_client_secret=CLIENT_SECRET, entra_tenant_id=TENANT, entra_authority=idp.base_url)
    return await serve_app(deployment_settings(make_settings=make_settings, slack=slack, **values))


async def browser_sign_in(client, provider: str, *, next_path: str = "/sandbox/api/queue"):
    async with client.get(f"/auth/start/{provider}", params={"next": next_path}, allow_redirects=False) as response:
        assert response.status == 302
        provider_url = response.headers["Location"]
    back = await follow_provider(provider_url)
    assert back["path"] == f"/auth/callback/{provider}"
    return await client.get(back["path"], params={"code": back["code"], "state": back["state"]}, allow_redirects=False)


@pytest.mark.parametrize("flavour", ["slack", "entra"])
async def test_signing_in_through_the_web_app_opens_what_the_role_allows(serve_app, make_settings, slack, flavour):
    async with OidcStandin(flavour=flavour) as idp:
        served = await start_app(serve_app, make_settings, slack, idp)
        client = served.client
        async with client.get("/auth/signin") as page:
            assert f"/auth/start/{flavour}" in await page.text()
        callback = await browser_sign_in(client, flavour)
        assert callback.status == 303 and callback.headers["Location"] == "/sandbox/api/queue"
        assert (await client.get("/sandbox/api/queue")).status == 200
        assert (await client.get("/sandbox/api/dashboard")).status == 403  # an agent, not a lead
        me = await (await client.get("/auth/me")).json()
    assert me["signed_in"] and me["role"] == "agent" and me["provider"] == flavour and me["name"] == "Ann Agent"
    [entry] = [row for row in served.core.store.agent_actions() if row.action == "signin"]
    assert entry.actor_id == "U0ANN" and flavour in entry.detail


async def test_someone_with_no_role_gets_no_session(serve_app, make_settings, slack):
    async with OidcStandin(flavour="slack", user=User(email="eve@elsewhere.example", user_id="U0EVE")) as idp:
        served = await start_app(serve_app, make_settings, slack, idp)
        callback = await browser_sign_in(served.client, "slack")
        assert callback.status == 403 and "no role is granted" in await callback.text()
        assert (await served.client.get("/sandbox/api/queue")).status == 401


async def test_a_callback_not_started_in_this_browser_is_refused(serve_app, make_settings, slack):
    async with OidcStandin(flavour="slack") as idp:
        served = await start_app(serve_app, make_settings, slack, idp)
        async with served.client.get("/auth/start/slack", allow_redirects=False) as response:
            back = await follow_provider(response.headers["Location"])
        served.client.session.cookie_jar.clear()  # another browser replays the callback link
        callback = await served.client.get(back["path"], params={"code": back["code"], "state": back["state"]}, allow_redirects=False)
        assert callback.status == 401 and "not started in this browser" in await callback.text()
        forged = await browser_sign_in(served.client, "slack")
        assert forged.status == 303  # the real flow still works afterwards


def test_the_slack_manifest_lists_the_sign_in_callback():
    import yaml

    from .conftest import REPO_ROOT

    manifest = yaml.safe_load((REPO_ROOT / "manifest.yaml").read_text())
    assert any(url.endswith("/auth/callback/slack") for url in manifest["oauth_config"]["redirect_urls"])
    assert {"openid", "email", "profile"} <= set(manifest["oauth_config"]["scopes"]["user"])
