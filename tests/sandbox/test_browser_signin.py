"""In headless Chromium, as an agent would: a deployment sends the browser to sign in first.

The server is the real one with the admin token as its sign-in method (a deployment even on
loopback). The page must reach the sign-in form, sign in, then work as before: the queue,
a customer message through the page's own CSRF-carrying requests, and sign-out.
"""

from __future__ import annotations

import os

import pytest

from .browser import CHROMIUM, launch
from .live import sandbox_settings, start_live_server

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the Python package only)")
if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: run .ci/browser-deps.sh")
    pytest.skip(f"{CHROMIUM} is missing: run .ci/browser-deps.sh", allow_module_level=True)

TOKEN = "browser-admin-token-0123456789"
expect = sync_api.expect


@pytest.fixture(scope="module")
def deployed(shared_home, tmp_path_factory):
    server = start_live_server(sandbox_settings(home=shared_home, database=tmp_path_factory.mktemp("signin-live") / "baton.db", admin_token=TOKEN))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def test_sign_in_then_use_the_queue_and_sign_out(browser, deployed, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(deployed.url + "/")
    page.wait_for_url("**/auth/signin?next=%2F")
    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not right")
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-ready=true]")
    expect(page.locator(".topbar-note")).to_contain_text("Signed in as Admin (token) · admin")
    assert page.locator("#agent").is_hidden()
    page.fill("#text", "How do I add my company logo to invoices?")
    page.click("#send")
    expect(page.locator("#messages .msg.bot").last).to_contain_text("logo", timeout=60_000)
    page.screenshot(path=str(tmp_path / "signed-in.png"))
    page.click(".topbar-note button")
    page.wait_for_url("**/auth/signin")
    page.goto(deployed.url + "/")
    page.wait_for_url("**/auth/signin?next=%2F")
    context.close()
