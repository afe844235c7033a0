"""Scripted conversations with the sample product (Ledgerly, knowledge/sample/) for the token
benchmark and the budget tests: (label, group, customer turns in order)."""

from __future__ import annotations

ANSWERABLE = [
    "How much does Ledgerly cost per month?",
    "Is there a free trial and how long is it?",
    "How many invoices can I send on the Free plan?",
    "How do I add our company logo to invoices?",
    "Can I export my expenses to CSV or Excel?",
    "How do I connect Ledgerly to our Slack workspace?",
    "Which currencies can I invoice in?",
    "Where do your exchange rates come from?",
    "How do I set up a recurring invoice that goes out every month?",
    "Can I delete an invoice I have already sent?",
    "How do I scan a receipt with my phone?",
    "How often do bank feeds update?",
    "Why does my bank connection say reconnect required?",
    "How do I update the credit card we pay with?",
    "How do I invite my bookkeeper to our workspace?",
    "What can the Accountant role do?",
    "How do I turn on two-factor authentication?",
    "Where do I create an API key?",
    "What is the API rate limit?",
    "Can I import my data from QuickBooks?",
    "What are your support hours?",
    "Does the mobile app work offline?",
    "Do you charge a fee on online card payments?",
    "How do I verify that a webhook really came from Ledgerly?",
    "How do I remove the Ledgerly branding from invoices?",
    "Can managers approve expenses from Microsoft Teams?",
]

RISKY = [
    "Someone logged into our account from another country and changed the bank details",
    "You charged my card twice this month, I want it reversed",
    "I'm locked out after too many attempts and the reset email never arrives",
    "Our lawyers will be in touch about the liability clause, this is a breach of contract",
    "Please delete all of our personal data under GDPR",
    "There's a Ledgerly charge on our statement I don't recognise",
    "I lost my phone and can't get past the 2FA screen",
    "I got a phishing email pretending to be Ledgerly asking for my password",
]

ANGRY = [
    "This is the third time I'm asking, the PDF download still doesn't work!!!",
    "Absolutely useless. Bank feed has been broken for a week and nobody replies.",
    "I've been waiting two days for an answer, this is ridiculous",
    "Your receipt scanner is garbage, it reads every total as zero",
    "Thanks for nothing, my invoices never reach my customers",
    "WHY IS THE APP CRASHING EVERY TIME I TAKE A PHOTO",
    "Worst support ever. Fix the sync or I'm leaving.",
    "I am so fed up with the Slack notifications stopping all the time",
]

PEOPLE_AND_VALUE = [
    "can I talk to a real person please",
    "stop the bot, I need an actual agent",
    "I want a refund for this month, we barely used it",
    "please cancel our subscription, we're moving to Xero",
    "we were billed for 14 users but only have 9, I want my money back",
    "thinking of leaving, it's too expensive for what we use",
]

UNANSWERABLE = [
    "Do you offer payroll for employees in Brazil?",
    "Can Ledgerly file my US corporate tax return?",
    "What's the weather like in Paris today?",
    "Do you have a desktop app for Linux?",
]

MULTI_TURN = [
    ["How do I export invoices?", "and can I do that as a PDF?", "thanks! what about expenses to Excel?"],
    ["How do bank feeds work?", "how often do they update?", "it still hasn't updated after 3 days, this is getting really annoying"],
    ["What plans do you have?", "what does Business add?", "ok please upgrade us to Business"],
    ["How do I set up recurring invoices?", "can customers be charged automatically by card?"],
    ["I can't log in", "I tried the reset link twice already", "can someone please call me"],
    ["Is there a Zapier integration?", "how do I create an invoice from a HubSpot deal?"],
    ["hi", "I need help with VAT on my invoices", "where do I add our VAT number?"],
]


def conversations() -> list[tuple[str, str, list[str]]]:
    """Every scripted conversation as (label, group, turns)."""
    single = [("answerable", ANSWERABLE), ("risky", RISKY), ("angry", ANGRY), ("person/value", PEOPLE_AND_VALUE), ("unanswerable", UNANSWERABLE)]
    found = [(f"{group}-{i + 1}", group, [text]) for group, texts in single for i, text in enumerate(texts)]
    return found + [(f"multi-turn-{i + 1}", "multi-turn", turns) for i, turns in enumerate(MULTI_TURN)]
