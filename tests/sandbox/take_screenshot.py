"""Take docs/screenshot-sandbox.png: a cited answer in the chat and a claimed card in the queue.

Run from the repository root (needs Debian's chromium and the playwright Python package):

    .venv/bin/python -m tests.sandbox.take_screenshot [--out docs/screenshot-sandbox.png] [--home DIR]

``--home`` reuses a folder for the knowledge index (building it takes a while the first time).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.sandbox.browser import launch, open_sandbox, ticket_in_chat
from tests.sandbox.live import sandbox_settings, start_live_server

REPO = Path(__file__).resolve().parents[2]
FOLLOW_UP = "Also, we were charged twice for March and I want that money back."


def stage(page) -> None:
    """A realistic moment: an answer with sources, then a billing problem handed to Dana."""
    page.click("[data-sample=answer]")
    expect(page.locator(".msg.kind-answer .sources a").first).to_be_visible()
    page.fill("#text", FOLLOW_UP)
    page.click("#send")
    ticket_id = ticket_in_chat(page)
    card = page.locator(f'.card[data-ticket="{ticket_id}"]')
    card.locator("[data-action=claim]").click()
    expect(card.locator(".status-line")).to_contain_text("Claimed by Dana at ")
    expect(page.locator("#chat-status")).to_contain_text("Dana")
    page.evaluate("document.querySelector('#cards').scrollTop = 0; document.querySelector('#messages').scrollTop = 0")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot-sandbox.png")
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch) / "home"
        server = start_live_server(sandbox_settings(home=home, database=Path(scratch) / "baton.db"))
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = open_sandbox(browser, server.url, width=1440, height=1080)
                stage(page)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.out))
                browser.close()
        finally:
            server.stop()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
