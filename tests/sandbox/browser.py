"""Headless Chromium for the sandbox's browser tests and screenshot: Debian's package, driven by Playwright.

Never ``playwright install``: ``.ci/browser-deps.sh`` installs Debian's ``chromium`` and we
point Playwright at it. No network is used beyond the local server under test.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

CHROMIUM = Path(os.environ.get("BATON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TICKET = re.compile(r"T-[0-9A-F]{8}")


def launch(playwright):
    """Debian's Chromium, headless, with everything that phones home switched off."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def open_sandbox(browser, url: str, *, agent: str | None = None, width: int = 1440, height: int = 1000):
    """A fresh browser context (own localStorage) on the sandbox page, ready to use."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]")
    if agent:
        page.select_option("#agent", agent)
    return page


def ticket_in_chat(page) -> str:
    """The ticket id the chat's status banner names (after a handoff)."""
    banner = page.locator("#chat-status")
    banner.wait_for(state="visible")
    return TICKET.search(banner.inner_text()).group(0)


def post_message(url: str, *, conversation: str, text: str, customer: dict | None = None) -> dict:
    """Send a customer message straight to the API (to set a scene quickly), as the page does:
    with the session cookie and CSRF token from /auth/me."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(f"{url}/auth/me", timeout=60) as response:
        token = json.load(response)["csrf"]
    body = json.dumps({"conversation": conversation, "customer": customer or {"name": "Sam Rivera"}, "text": text}).encode()
    request = urllib.request.Request(f"{url}/sandbox/api/messages", body, {"Content-Type": "application/json", "X-CSRF-Token": token})
    with opener.open(request, timeout=60) as response:
        return json.load(response)
