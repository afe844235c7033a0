"""``languages.multilingual``: a message in another language is answered only by the model's
verified answer translated into the customer's language, numbers and links kept (the real
openai client against the stand-in, inside the real core on the sample deployment)."""

from __future__ import annotations

import itertools
from pathlib import Path

from bot.app import build_core
from bot.outbox import OutboxRouter, RecordingOutbox
from bot.replies import HOLDING_TRANSLATED
from bot.settings import SAMPLE_RULES
from bot.types import ConversationRef, InboundMessage, Person

from .model_replies import grounded, system_text

_ids = itertools.count(1)


def message(text: str, *, thread: str) -> InboundMessage:
    ref = ConversationRef(platform="test", channel="C-customer", thread=thread)
    return InboundMessage(event_id=f"ev-ml-{next(_ids)}", ref=ref, author=Person(platform_id="U7", display_name="Jonas"), text=text)


def _rules_file(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(SAMPLE_RULES.read_text(encoding="utf-8") + "\n" + extra, encoding="utf-8")
    return path


GERMAN_EXPORT = "Wie kann ich meine Expenses als CSV exportieren? Ich finde den Export nicht."


def _multilingual_core(make_settings, tmp_path, llm):
    recording = RecordingOutbox(platform="test")
    settings = make_settings(rules=_rules_file(tmp_path, "languages:\n  multilingual: true\n"),
                             openai_base_url=llm.base_url, openai_api_key="sk-test-secret", llm_model="gpt-4o-mini")
    return build_core(settings=settings, outboxes=OutboxRouter(outboxes=[recording])), recording


def _translating(translation_of):
    def respond(body: dict) -> dict:
        reply = grounded(body)
        if "answer" in reply:
            reply["translation"] = translation_of(reply["answer"]) if reply["answer"] else ""
        return reply
    return respond


async def test_multilingual_answers_with_the_verified_answer_in_the_customers_language(make_settings, tmp_path, llm):
    core, recording = _multilingual_core(make_settings, tmp_path, llm)
    llm.set_responder(_translating(lambda answer: "Auf Deutsch: " + answer))
    result = await core.dialogue.handle(message(GERMAN_EXPORT, thread="t-ml"))
    assert result.status == "answered", result.decision.to_dict()
    [request] = [r.body for r in llm.chat_requests]
    schema = request["response_format"]["json_schema"]["schema"]
    assert "translation" in schema["required"]
    assert "translation:" in system_text(request)
    [reply] = recording.replies()
    assert reply.text.startswith("Auf Deutsch: ") and "Source:" in reply.text


async def test_multilingual_hands_off_a_translation_with_a_number_the_answer_lacks(make_settings, tmp_path, llm):
    core, recording = _multilingual_core(make_settings, tmp_path, llm)
    llm.set_responder(_translating(lambda answer: "Das dauert 14 Tage. " + answer))
    result = await core.dialogue.handle(message(GERMAN_EXPORT, thread="t-ml2"))
    assert result.status == "escalated"
    kinds = {t.kind for t in result.decision.triggers}
    assert {"untranslated_answer", "other_language"} <= kinds
    [holding] = recording.replies()
    assert holding.text == HOLDING_TRANSLATED["de"]


async def test_multilingual_with_no_translation_hands_off(make_settings, tmp_path, llm):
    core, _ = _multilingual_core(make_settings, tmp_path, llm)
    llm.set_responder(_translating(lambda answer: ""))
    result = await core.dialogue.handle(message(GERMAN_EXPORT, thread="t-ml3"))
    assert result.status == "escalated"
    assert "untranslated_answer" in {t.kind for t in result.decision.triggers}
