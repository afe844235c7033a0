"""End to end in headless Chromium: a customer chat, two agents racing for a card, the dashboard.

The server is the real one (real core on the sample rules and knowledge, real web app) on a free
loopback port. Tests wait for selectors, never sleep. Skipped only outside CI when Chromium or
Playwright is missing (``.ci/browser-deps.sh`` installs Chromium; never ``playwright install``).
"""

from __future__ import annotations

import os
import re
import uuid

import pytest

from .browser import CHROMIUM, launch, open_sandbox, post_message, ticket_in_chat

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the Python package only)")
if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: run .ci/browser-deps.sh")
    pytest.skip(f"{CHROMIUM} is missing: run .ci/browser-deps.sh", allow_module_level=True)

ANSWERABLE = "How do I add my company logo to invoices?"
RISKY = "Someone logged into our account from another country last night and changed our bank details"
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    page = open_sandbox(browser, live_server.url)
    yield page
    page.context.close()


def card(page, ticket_id: str):
    return page.locator(f'.card[data-ticket="{ticket_id}"]')


def test_question_gets_a_cited_answer_with_feedback_buttons(page):
    page.fill("#text", ANSWERABLE)
    page.click("#send")
    answer = page.locator(".msg.kind-answer")
    expect(answer).to_be_visible()
    expect(answer.locator(".sources a").first).to_have_attribute("href", re.compile(r"^https://"))
    expect(page.locator(".msg.customer")).to_contain_text(ANSWERABLE)
    answer.locator("[data-action=helpful]").click()
    expect(answer.locator(".answer-actions.done")).to_have_text("You found this helpful.")


def test_risky_message_shows_a_holding_reply_and_a_card_in_the_queue(page):
    page.fill("#text", RISKY)
    page.press("#text", "Enter")
    expect(page.locator(".msg.kind-holding")).to_contain_text("a member of our team")
    ticket_id = ticket_in_chat(page)
    queued = card(page, ticket_id)
    expect(queued).to_contain_text(RISKY)
    expect(queued.locator(".status-line")).to_have_text("Waiting for an agent")
    for label in ("Customer", "Summary", "Intent", "Why escalated", "Sources", "Suggested reply (draft)"):
        expect(queued.locator(".field .label", has_text=label).first).to_be_visible()
    expect(queued.locator("[data-action=claim]")).to_be_visible()


def test_claim_race_then_suggested_reply_reaches_the_customer(browser, live_server, page):
    page.click("[data-sample=policy]")
    ticket_id = ticket_in_chat(page)
    eli = open_sandbox(browser, live_server.url, agent="Eli")
    try:
        card(page, ticket_id).locator("[data-action=claim]").click()
        expect(card(page, ticket_id).locator(".status-line")).to_contain_text("Claimed by Dana at ")
        expect(card(eli, ticket_id).locator(".status-line")).to_contain_text("Claimed by Dana")  # live update by polling
        card(eli, ticket_id).locator("[data-action=claim]").click()
        expect(card(eli, ticket_id).locator(".flash.refused")).to_contain_text(f"{ticket_id} is already claimed by Dana")
    finally:
        eli.context.close()
    draft = card(page, ticket_id).locator(".draft").inner_text()
    card(page, ticket_id).locator("[data-action=send_suggested]").click()
    reply = page.locator(".msg.agent")
    expect(reply).to_contain_text(draft.strip()[:40])
    expect(reply.locator(".who")).to_have_text("Dana · support team")
    expect(page.locator("#chat-status")).to_contain_text("Dana from the support team has taken over")


def test_resolve_with_feedback_changes_the_dashboard(page, live_server):
    ticket_id = post_message(live_server.url, conversation=f"b-{uuid.uuid4().hex[:8]}", text=RISKY)["ticket_id"]
    queued = card(page, ticket_id)
    queued.locator("[data-action=claim]").click()
    expect(queued.locator(".status-line")).to_contain_text("Claimed by Dana")
    queued.locator("[data-action=edit_send]").click()
    queued.locator(".editor-text").fill("We've secured the account; I'll call you in five minutes.")
    queued.locator("[data-action=editor-send]").click()
    expect(queued.locator(".notes")).to_contain_text("Dana replied to the customer: We've secured the account")
    queued.locator("[data-action=resolve]").click()
    queued.locator("[data-action=feedback_needed_yes]").click()
    expect(queued.locator("[data-action=feedback_needed_yes].chosen")).to_be_visible()
    queued.locator(".missing-field").select_option("sources")
    queued.locator("[data-action=feedback_card_missing]").click()
    expect(queued.locator("[data-action=feedback_card_missing].chosen")).to_be_visible()
    page.click("#tab-dashboard")
    expect(page.locator(f'#dash-resolved tr[data-ticket="{ticket_id}"]')).to_contain_text("needed a person · card missing sources")
    expect(page.locator(f'#dash-tickets tr[data-ticket="{ticket_id}"]')).to_have_count(0)
    expect(page.locator("#kpi-charts svg.baton-chart").first).to_be_visible()
    assert page.locator("#kpi-charts script, #kpi-charts a").count() == 0
    expect(page.locator("#audit .decision").first).to_be_visible()


def test_customer_text_is_shown_as_text_never_as_markup(page):
    hostile = '<img src=x onerror="window.pwned=1"> I was charged twice, refund me <b>now</b>'
    page.fill("#text", hostile)
    page.click("#send")
    expect(page.locator(".msg.customer .msg-body")).to_have_text(hostile)
    ticket_id = ticket_in_chat(page)
    expect(card(page, ticket_id).locator("blockquote")).to_have_text(hostile)
    assert page.locator("#messages img, #cards img, #messages b, #cards b").count() == 0
    assert page.evaluate("window.pwned === undefined")
