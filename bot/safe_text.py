"""Neutralise markup in text that came from customers or the knowledge base.

Chat platforms turn some characters into actions: Slack's ``<!channel>`` pings everyone and
``<https://x|label>`` is a link whose label hides where it goes; Teams renders markdown links
``[label](url)`` in Adaptive Cards and messages, and limited HTML (``<at>`` mentions among it)
in markdown messages. Text a customer wrote, or an article says, must reach agents as words
only. The bot's own links (sources, the thread) are built separately from checked http(s) URLs.
"""

from __future__ import annotations

import re

ZERO_WIDTH = "\u200b"
_MENTION = re.compile(r"</?at\b", re.IGNORECASE)  # Teams' <at>Name</at> mention markup
_LINK = re.compile(r"\]\s*\(")       # [label](url): the closing bracket meeting the parenthesis
_ESCAPABLE = re.compile(r"([\\`*\[\]])")  # emphasis, code, link brackets; parentheses are broken apart below


def markdown_words(text: str) -> str:
    """Customer text for a markdown surface (Teams Adaptive Card TextBlock): no link, no image,
    no emphasis that could make it look like the bot's own fields; the words stay readable.
    A zero-width space between ']' and '(' breaks a link even where backslashes are not honoured."""
    unlinked = _LINK.sub(lambda m: m.group(0)[:-1] + ZERO_WIDTH + "(", text)
    unmentioned = _MENTION.sub(lambda m: m.group(0)[0] + ZERO_WIDTH + m.group(0)[1:], unlinked)
    return _ESCAPABLE.sub(r"\\\1", unmentioned)


def html_markdown_words(text: str) -> str:
    """Customer text for a Teams markdown message, which also renders some HTML (``<at>``)."""
    return markdown_words(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def link_label(text: str) -> str:
    """A label inside the bot's own markdown link: no brackets that could end it early."""
    return re.sub(r"[\[\]]", "", text).replace("\n", " ").strip()
