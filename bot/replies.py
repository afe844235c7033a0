"""Customer-facing texts: extractive answers and holding messages that fit the reason.

Offline, Baton never invents text: answers quote the knowledge base's own sentences and cite
them. Holding messages state who takes over and when (from the SLA); for policy risk they never
give the final instruction.
"""

from __future__ import annotations

import re

from bot.types import Automation, Decision, Reason, Source

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are be can do does for from how i in is it my of on or the to what when where which who why with you your me we our this that".split())

POLICY_WORDS = {
    "security": "account security",
    "account_access": "access to your account",
    "payment": "a payment",
    "financial": "a financial matter",
    "legal": "a legal matter",
    "compliance": "a compliance matter",
    "refund_dispute": "a refund",
    "churn": "your subscription",
}


def format_minutes(minutes: int | None) -> str:
    """'15 minutes', '4 hours', '2 business days' style durations for customers."""
    if minutes is None:
        return "as soon as possible"
    if minutes < 60:
        return f"{minutes} minutes"
    if minutes < 1440:
        hours = round(minutes / 60)
        return "1 hour" if hours == 1 else f"{hours} hours"
    days = round(minutes / 1440)
    return "1 day" if days == 1 else f"{days} days"


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def best_sentences(*, query: str, passage: str, limit: int = 3) -> list[str]:
    """The passage sentences sharing most words with the query, in their original order."""
    sentences = [s.strip() for s in _SENTENCE.split(passage.replace("\n", " ")) if len(s.strip()) > 15]
    if not sentences:
        return [passage.strip()[:400]] if passage.strip() else []
    wanted = _words(query)
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & _words(sentences[i])), i))
    keep = sorted(ranked[:limit])
    return [sentences[i] for i in keep]


def cite(source: Source) -> str:
    """'Title (url#anchor)' or just the title when the document has no URL."""
    if source.url:
        anchor = f"#{source.anchor}" if source.anchor and "#" not in source.url else ""
        return f"{source.title} ({source.url}{anchor})"
    return source.title


def extractive_answer(*, query: str, passage_text: str, source: Source) -> str:
    """An answer made only of the knowledge base's own sentences, with its citation."""
    quoted = " ".join(best_sentences(query=query, passage=passage_text))
    return f"{quoted}\n\nSource: {cite(source)}"


# What a customer who wrote in another language reads while a person takes over: one fixed
# sentence per language (written by us, not machine-made), so the bot never replies in a
# language the customer did not use. A language not listed gets the English message.
HOLDING_TRANSLATED = {
    "de": "Danke für Ihre Nachricht. Eine Person aus unserem Team übernimmt und antwortet Ihnen hier so bald wie möglich.",
    "fr": "Merci pour votre message. Une personne de notre équipe prend le relais et vous répondra ici dès que possible.",
    "es": "Gracias por su mensaje. Una persona de nuestro equipo se encargará y le responderá aquí lo antes posible.",
    "pt": "Obrigado pela sua mensagem. Uma pessoa da nossa equipe vai assumir e responder aqui o mais rápido possível.",
    "it": "Grazie per il suo messaggio. Una persona del nostro team se ne occuperà e le risponderà qui al più presto.",
    "nl": "Bedankt voor uw bericht. Iemand van ons team neemt het over en antwoordt u hier zo snel mogelijk.",
    "pl": "Dziękujemy za wiadomość. Osoba z naszego zespołu przejmie sprawę i odpowie tutaj najszybciej, jak to możliwe.",
    "sv": "Tack för ditt meddelande. En person i vårt team tar över och svarar dig här så snart som möjligt.",
    "da": "Tak for din besked. En person fra vores team overtager og svarer dig her så hurtigt som muligt.",
    "tr": "Mesajınız için teşekkürler. Ekibimizden biri konuyu devralacak ve size en kısa sürede buradan yanıt verecek.",
    "ru": "Спасибо за сообщение. Сотрудник нашей команды подключится и ответит вам здесь как можно скорее.",
    "uk": "Дякуємо за повідомлення. Співробітник нашої команди підключиться й відповість вам тут якнайшвидше.",
    "zh": "感谢您的留言。我们团队的工作人员会接手处理，并尽快在这里回复您。",
    "ja": "メッセージをありがとうございます。担当者が引き継ぎ、できるだけ早くこちらで返信いたします。",
    "ko": "메시지 감사합니다. 저희 팀 담당자가 이어받아 최대한 빨리 여기에서 답변드리겠습니다.",
    "ar": "شكرًا على رسالتك. سيتولى أحد أعضاء فريقنا الأمر وسيرد عليك هنا في أقرب وقت ممكن.",
    "hi": "आपके संदेश के लिए धन्यवाद। हमारी टीम का एक सदस्य इसे संभालेगा और जल्द से जल्द यहीं जवाब देगा।",
    "id": "Terima kasih atas pesan Anda. Seseorang dari tim kami akan mengambil alih dan membalas di sini secepatnya.",
    "vi": "Cảm ơn tin nhắn của bạn. Một nhân viên trong nhóm chúng tôi sẽ tiếp nhận và trả lời bạn tại đây sớm nhất có thể.",
}


def holding_message(*, decision: Decision) -> str:
    """What the customer reads while a person takes over; fits the strongest reason, and is in
    the customer's language when they wrote in one the bot does not answer in (and we have it)."""
    if decision.language in HOLDING_TRANSLATED:
        return HOLDING_TRANSLATED[decision.language]
    when = format_minutes(decision.sla_first_response_minutes)
    reasons = decision.reasons
    kinds = [t.kind for t in decision.triggers if t.kind]
    if Reason.POLICY_RISK in reasons:
        topic = POLICY_WORDS.get(next((k for k in kinds if k in POLICY_WORDS), ""), "a sensitive matter")
        return (f"Thanks for letting us know. Because this concerns {topic}, a member of our team will "
                f"handle it personally and reply within {when}. For your safety, please don't share "
                "passwords, full card numbers or verification codes in this chat.")
    if "reply_limit" in kinds:
        return f"I've asked a person from our team to pick up this conversation; they'll reply here within {when}."
    if Reason.HUMAN_REQUESTED in reasons:
        return f"Of course. I've asked a person from our team to take over; they'll reply here within {when}."
    if Reason.EMOTIONAL in reasons:
        return (f"I'm sorry this has been frustrating. I've passed your message, with the full context, "
                f"to a person on our team, who will reply here within {when}.")
    if Reason.HIGH_VALUE in reasons:
        return f"Thanks for reaching out. I've passed this to the right person on our team; they'll reply here within {when}."
    if Reason.LOW_CONFIDENCE in reasons:
        return (f"I don't have a reliable answer to that in our documentation, so I've asked a colleague "
                f"to help. You'll hear from them here within {when}.")
    if decision.automation == Automation.AI_DRAFT:
        return f"Thanks! A member of our team is reviewing a reply for you and will send it within {when}."
    return f"Thanks! A member of our team will follow up here within {when}."


def follow_up_message(*, minutes_left: int | None, more_urgent: bool, language: str | None = None) -> str:
    """What the customer reads when they write again while their request waits for a person
    (the holding message in their language when they write in one the bot does not answer in)."""
    if language in HOLDING_TRANSLATED:
        return HOLDING_TRANSLATED[language]
    when = "shortly" if minutes_left is None or minutes_left <= 0 else f"within {format_minutes(minutes_left)}"
    if more_urgent:
        return f"Thanks, I've added this to your request and marked it as more urgent. A person from our team will reply here {when}."
    return f"Thanks, I've added this to your request. A person from our team will reply here {when}."
