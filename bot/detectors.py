"""Offline detectors for the four escalation reasons that do not depend on retrieval.

Each detector reads the newest customer message (and, for repeated complaints, the earlier turns)
and returns :class:`Signal` objects a human agent can read on a handoff card: the reason, a finer
``kind``, one sentence of detail and the exact words that fired.

Design choices, and why:

* **Precision first for policy_risk and high_value.** These fire on clear disputes, fraud,
  compromise, loss of access and legal threats, not on questions *about* a policy. "What is your
  refund policy?" or "how do I reset my password?" are self-service questions and stay quiet;
  "I want my money back" or "I'm locked out of my account" fire. Account access is a judgement
  call: we flag *loss* of access (locked out, can't log in, forgot my password, 2FA lost, account
  suspended) as ``account_access`` because a person usually has to verify identity, but we do not
  flag how-to questions (reset or change a password or PIN), which a knowledge base answers.
* **Negation is handled cheaply**: a cue is dropped when a negator ("don't", "no need to",
  "not") sits just before it in the same clause ("no need to call me", "I don't want a refund").
  Cues whose meaning *contains* a negation ("I didn't authorise this", "haven't received my
  refund") are written as their own patterns and are never negated.
* **Emotion = VADER + support-language cues.** VADER alone misses most complaints in support
  traffic: "on hold for two hours", "still no reply", "third time I'm asking" carry no lexicon
  sentiment, and polite or sarcastic praise ("thanks for nothing", "great job losing my order")
  pushes the compound score the wrong way. :meth:`Detectors.sentiment` therefore returns VADER's
  compound score adjusted by families of general complaint cues (waiting, no response, failures,
  persistence, sarcasm, rhetorical questions, shouting, negated praise, distress, money-back
  demands), with positive words discounted when they sit next to a complaint, and with plain
  information questions ("is my order delayed?") damped. It stays on VADER's -1..1 scale, so the
  rules file's ``thresholds.sentiment`` keeps its meaning: at or below it, a message is emotional.
* **Default threshold** (:data:`DEFAULT_SENTIMENT_THRESHOLD`): chosen once as the value that
  balances precision and recall (maximises min(P, R)) on a fixed 20 % random split of the public
  airline-sentiment signals suite; figures are reported on the other 80 % and on the whole suite
  by ``benchmarks/signals_bench.py``. No cue names an airline, a flight or any other wording of
  that suite; the cues are general support language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.types import Conversation, Reason, Role, Trigger

__all__ = ["DEFAULT_SENTIMENT_THRESHOLD", "Detectors", "Signal"]

#: Adjusted sentiment at or below which a message counts as emotional (see the module docstring
#: and ``benchmarks/signals_bench.py`` for how it was chosen).
DEFAULT_SENTIMENT_THRESHOLD = -0.30


@dataclass(frozen=True, slots=True)
class Signal:
    """One escalation signal with the evidence an agent reads on the handoff card.

    ``score`` is the strength of the signal in 0..1 (for ``anger`` it is the negated adjusted
    sentiment), ``evidence`` the words of the message (or history) that made it fire.
    """

    reason: Reason
    kind: str
    detail: str
    evidence: tuple[str, ...]
    score: float

    def to_trigger(self) -> Trigger:
        """The shared :class:`~bot.types.Trigger` form, for decisions and handoff cards."""
        return Trigger(
            reason=self.reason,
            detail=self.detail,
            evidence=self.evidence,
            score=self.score,
            kind=self.kind,
        )


# --------------------------------------------------------------------------------------------
# Pattern tables. Tuples of precompiled patterns: immutable, shared read-only by every instance.
# --------------------------------------------------------------------------------------------

_FLAGS = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile a cue with word boundaries on both ends (the pattern writes its own inside)."""
    return re.compile(r"(?<![\w'])(?:" + pattern + r")(?![\w'])", _FLAGS)


@dataclass(frozen=True, slots=True)
class _Cue:
    """A family of phrases for one kind; ``negatable`` cues are dropped after a negator."""

    kind: str
    pattern: re.Pattern[str]
    weight: float = 1.0
    negatable: bool = True


# Words that cancel a following cue in the same clause. "can't"/"haven't" are deliberately NOT
# here: "I can't talk to a human" and "I haven't got my refund" are complaints, not negations.
_NEGATOR = re.compile(
    r"(?<![\w'])(?:don'?t|do\s+not|doesn'?t|does\s+not|didn'?t|did\s+not|not|no\s+need\s+to|"
    r"never|won'?t|will\s+not|without|rather\s+not|no\s+longer|isn'?t|wasn'?t|aren'?t)(?![\w'])",
    _FLAGS,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n]|\bbut\b|\bthough\b", _FLAGS)
_NEGATION_WINDOW_WORDS = 4

_MY = r"(?:my|our|the|this|that|a|an)"
_ACCOUNT = r"(?:account|acct|profile|login|app|online\s+banking|dashboard|workspace|portal)"

_POLICY_CUES: tuple[_Cue, ...] = (
    # legal: threats of action or involvement of lawyers and regulators
    _Cue("legal", _rx(r"(?:my|a|our|the)\s+(?:lawyers?|attorneys?|solicitors?|legal\s+team)|"
                      r"lawyers?|attorneys?|solicitors?|lawsuit|law\s*suit|legal\s+action|"
                      r"take\s+(?:you|this|legal)\s+(?:to\s+court|further)|small\s+claims|"
                      r"sue|suing|class\s+action|court|ombudsman|cease\s+and\s+desist|"
                      r"consumer\s+protection|trading\s+standards|attorney\s+general|"
                      r"breach\s+of\s+contract|report\s+you\s+to"), 0.9),
    # compliance: data-protection rights and regulated checks
    _Cue("compliance", _rx(r"gdpr|ccpa|data\s+protection|right\s+to\s+(?:be\s+forgotten|erasure)|"
                           r"(?:subject|data)\s+access\s+request|dsar|"
                           r"(?:delete|erase|remove|wipe)\s+(?:all\s+)?(?:of\s+)?(?:my|our)\s+"
                           r"(?:personal\s+)?(?:data|information|info|details)|"
                           r"(?:copy|export)\s+of\s+(?:all\s+)?(?:my|the)\s+(?:personal\s+)?data|"
                           r"privacy\s+(?:violation|breach|complaint)|hipaa|money\s+laundering|"
                           r"source\s+of\s+(?:my\s+)?funds"), 0.85),
    # security: compromise, fraud, theft
    _Cue("security", _rx(r"hack(?:ed|er|ers|ing)?|compromised|breach(?:ed)?|phish(?:ing|ed)?|"
                         r"fraud(?:ulent|ster|sters)?|identity\s+theft|stole(?:n)?|theft|"
                         r"scammed|skimm(?:ed|er|ing)|"
                         r"(?:someone|somebody|some\s+one|a\s+stranger)\s+(?:else\s+)?"
                         r"(?:is\s+|has\s+|have\s+|was\s+)?(?:using|used|logged|accessed|got\s+into|"
                         r"took|taken|withdrew|made|changed|is\s+in|in)\b|"
                         r"(?:unauthori[sz]ed|unrecogni[sz]ed|unknown|suspicious|strange|unfamiliar)"
                         r"\s+(?:\w+\s+)?(?:charges?|transactions?|payments?|withdrawals?|"
                         r"logins?|log-?ins|sign-?ins|activity|access|debits?|purchases?|"
                         r"transfers?|merchant|device)|"
                         r"(?:did|do)\s*(?:n'?t|not)\s+(?:make|authori[sz]e|recogni[sz]e|"
                         r"withdraw|do|perform|buy|order|approve|request|sign\s+up\s+for)\b"
                         r"(?:\s+\w+){0,3}?\s+(?:this|that|these|those|it|payments?|charges?|"
                         r"transactions?|withdrawals?|purchases?|transfers?|cash)|"
                         r"(?:lost|misplaced)\s+(?:my|our)\s+(?:\w+\s+)?(?:card|wallet|phone|purse)|"
                         r"(?:card|wallet|phone)\s+(?:was|has\s+been|got)\s+(?:lost|stolen)"),
         0.9, negatable=False),
    # account access: the customer has lost access (not how-to questions)
    _Cue("account_access", _rx(r"locked\s+out|lock(?:ed)?\s+me\s+out|"
                               r"(?:can'?t|cannot|can\s+not|unable\s+to|couldn'?t|could\s+not|"
                               r"won'?t\s+let\s+me)\s+(?:\w+\s+)?(?:log\s*in|log\s+on|sign\s*in|"
                               r"login|access|get\s+into|get\s+in\s+to)|"
                               r"(?:lost|lost\s+access\s+to|new)\s+(?:my\s+)?(?:phone\s+with\s+)?"
                               r"(?:2fa|two[- ]factor|mfa|authenticator)|"
                               r"(?:2fa|two[- ]factor|mfa|authenticator)\s+(?:\w+\s+){0,2}"
                               r"(?:lost|not\s+working|broken|doesn'?t\s+work)|"
                               r"forg(?:ot|otten)\s+(?:my\s+)?(?:password|passcode|pin|login|username)|"
                               r"(?:don'?t|do\s+not)\s+(?:know|remember)\s+(?:what\s+)?(?:my\s+)?"
                               r"(?:password|passcode|pin)|"
                               r"(?:account|acct|card|pin)\s+(?:is\s+|has\s+been\s+|was\s+|got\s+)?"
                               r"(?:locked|blocked|suspended|frozen|disabled|deactivated|"
                               r"restricted|closed\s+without)|"
                               r"(?:hold|freeze|block)\s+on\s+my\s+" + _ACCOUNT + r"|"
                               r"(?:too\s+many|exceeded\s+the\s+number\s+of)\s+(?:\w+\s+)?attempts|"
                               r"(?:verify|prove|proving|verifying)\s+my\s+identity|"
                               r"identity\s+(?:check|verification)\s+(?:failed|rejected|not)"),
         0.75, negatable=False),
    # payment: money taken wrongly
    _Cue("payment", _rx(r"(?:charged|billed|debited)\s+(?:me\s+)?(?:twice|two\s+times|three\s+times|"
                        r"double|again|extra|more\s+than)|double[- ]?(?:charged|billed|charge|"
                        r"payment)|overcharg(?:ed|ing)|duplicate\s+(?:charges?|payments?|"
                        r"transactions?)|charged\s+(?:me\s+)?for\s+something|"
                        r"(?:charge|payment|transaction)\s+(?:\w+\s+)?(?:shows?|appears?)\s+"
                        r"(?:up\s+)?twice|same\s+(?:charge|payment|transaction)\s+twice|"
                        r"wrong\s+amount|(?:card|payment|transaction)\s+(?:was\s+|got\s+|keeps\s+"
                        r"(?:getting\s+|being\s+)?)?(?:declined|rejected|refused)|"
                        r"card\s+(?:did\s*n'?t|does\s*n'?t|did\s+not|does\s+not|won'?t)\s+"
                        r"(?:get\s+)?(?:accepted|work)|"
                        r"(?:atm|machine)\s+(?:took|swallowed|ate|kept|retained)|"
                        r"(?:took|swallowed|ate|kept)\s+my\s+card|"
                        r"(?:money|payment|funds|transfer)\s+(?:\w+\s+)?(?:disappeared|vanished|"
                        r"missing|never\s+arrived)"), 0.7, negatable=False),
    # financial: formal disputes over money
    _Cue("financial", _rx(r"charge\s*backs?|dispute\s+(?:a|the|this|that|my)\s+(?:\w+\s+)?"
                          r"(?:charge|payment|transaction|invoice|bill)|"
                          r"(?:invoice|bill|billing|vat|tax)\s+(?:\w+\s+)?(?:dispute|is\s+wrong|"
                          r"error|mistake|incorrect)|(?:wrong|incorrect)\s+(?:vat|tax|invoice)|"
                          r"(?:vat|tax)\s+(?:\w+\s+)?(?:charged|applied)\s+(?:wrongly|incorrectly|"
                          r"twice)|contact(?:ing)?\s+my\s+bank|(?:bank|card\s+issuer)\s+to\s+"
                          r"(?:dispute|reverse)"), 0.8, negatable=False),
)

_HIGH_VALUE_CUES: tuple[_Cue, ...] = (
    # Statements that the customer is owed money or has not received it: never negated.
    _Cue("refund_dispute", _rx(r"(?:want|need|demand|deserve|expect|get|getting)\s+(?:all\s+of\s+)?"
                               r"(?:my|our|the)\s+money\s+back|money\s+back|"
                               r"(?:where\s+is|waiting\s+(?:for|on)|still\s+no|never\s+(?:got|received)|"
                               r"(?:haven'?t|have\s+not|hasn'?t|has\s+not|didn'?t|did\s+not|not)\s+"
                               r"(?:yet\s+)?(?:received|got|gotten|seen|get))\s+(?:my|the|a|our|any)"
                               r"\s+refund|refund\s+(?:\w+\s+)?(?:has\s*n'?t|has\s+not|is\s+not|"
                               r"isn'?t|not|never|still)\s+(?:yet\s+)?(?:arrived|received|showing|"
                               r"shown|showed|come|appeared|processed|here|there)|"
                               r"missing\s+(?:my\s+)?refund|"
                               r"refund\s+(?:me|us)|(?:issue|process|give|send)\s+(?:me|us)\s+"
                               r"(?:a|my|the|our)\s+refund|"
                               r"(?:want|need|demand|expect|request(?:ing)?|asking\s+for)\s+"
                               r"(?:a|my|an\s+immediate|a\s+full|full|our|the)\s+refund|"
                               r"(?:get|claim|receive)\s+a\s+refund\s+(?:for|on)\s+"
                               r"(?:my|the|this|something|an?\s+(?:item|order|purchase))|"
                               r"(?:reimburse|compensate)\s+(?:me|us)"), 0.8, negatable=False),
    # Explicit intent to end the relationship.
    _Cue("churn", _rx(r"(?:cancel|close|terminate|deactivate|delete|end|stop|quit)\s+(?:my|our)\s+"
                      r"(?:\w+\s+)?(?:subscription|account|membership|plan|contract|service|"
                      r"policy|licen[cs]e|renewal|workspace)|"
                      r"(?:cancel(?:l?ing)?|closing|terminating|deactivating|deleting|ending)\s+"
                      r"(?:my|our)\s+(?:\w+\s+)?(?:subscription|account|membership|plan|"
                      r"contract|service|licen[cs]e)|"
                      r"(?:remove|delete|close)\s+my\s+account|"
                      r"(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?)\s+(?:over\s+)?to\s+"
                      r"(?:a\s+|another\s+)?(?:competitor|different\s+provider|another\s+"
                      r"(?:provider|company|bank|vendor|service))|"
                      r"take\s+(?:my|our)\s+business\s+elsewhere|"
                      r"(?:find|look\s+for|found)\s+(?:a\s+|another\s+)(?:new\s+)?(?:provider|"
                      r"company|bank|vendor|supplier|service)|"
                      r"(?:we'?re|i'?m|we\s+are|i\s+am)\s+(?:leaving|switching|moving\s+on)|"
                      r"(?:don'?t|do\s+not)\s+(?:want|need)\s+(?:your|this)\s+(?:service|"
                      r"product|subscription)\s+any\s*more"), 0.8, negatable=True),
)

_HUMAN_CUES: tuple[_Cue, ...] = (
    _Cue("human_requested", _rx(
        r"(?:talk|speak|chat|get|put\s+me\s+through|connect\s+me|transfer\s+me)\s+"
        r"(?:to|with)\s+(?:a|an|some|your|the|any|one\s+of\s+your)?\s*(?:real|actual|live|"
        r"human|proper|customer\s+service)?\s*(?:person|people|human(?:\s+being)?|agent|"
        r"representative|rep|operator|someone|somebody|anyone|anybody|manager|supervisor|"
        r"staff(?:\s+member)?|employee)|"
        r"real\s+(?:person|human|people)|live\s+(?:agent|person|chat\s+agent|support)|"
        r"human\s+(?:being|agent|please|support)|actual\s+(?:person|human)|"
        r"representative(?!\s+(?:apr|example|rate))|"
        r"(?:call|phone|ring)\s+me(?:\s+back)?|give\s+me\s+a\s+(?:call|ring)|"
        r"(?:can|could|will|would)\s+(?:someone|somebody|anyone|an?\s+agent)\s+(?:please\s+)?"
        r"(?:call|contact|phone|ring)|"
        r"escalate\s+(?:this|my|it|the)|(?:your|a|the)\s+(?:manager|supervisor)|"
        r"not\s+(?:a|another|this|your)\s+(?:bot|robot|machine|chatbot)|"
        r"stop\s+(?:the\s+)?(?:bot|robot)|no\s+more\s+bots?"), 0.9),
)

# Phrases where the negator belongs to the cue (they must not cancel themselves).
_SELF_NEGATING_HUMAN = re.compile(r"not\s+(?:a|another|this|your)\s+(?:bot|robot|machine|chatbot)",
                                  _FLAGS)

# Information questions about a policy: "what is your refund policy?" is not a dispute.
_POLICY_QUESTION = _rx(
    r"(?:refund|return|cancell?ation|privacy|data|security|fraud|chargeback|dispute)\s+"
    r"(?:policy|policies|terms|process|period|window|rules)|"
    r"(?:do|does)\s+(?:you|your\s+\w+)\s+(?:offer|give|do|provide|allow|accept|support)|"
    r"(?:is|are)\s+(?:it|they|\w+)\s+refundable|how\s+(?:long|many\s+days)\s+(?:does|do|will)\s+"
    r"(?:a\s+|the\s+)?refunds?"
)

# ---- emotional cue families: (name, pattern, weight). Each family counts once. --------------
_HOSTILE = _rx(
    r"sucks?|suck(?:ed|ing)|pathetic|ridiculous|unacceptable|disgrace(?:ful)?|disgusting|"
    r"appall(?:ed|ing)|atrocious|outrageous|incompetent|incompetence|useless|worst|"
    r"terrible|horrible|horrendous|awful|dreadful|rude(?:ly|ness)?|a\s+joke|joke\s+of|"
    r"scam(?:med|mers?)?|rip[- ]?off|ripped\s+off|shameful|shame\s+on|lousy|garbage|trash|"
    r"crap(?:py)?|shit(?:ty)?|bs|bullshit|fuck(?:ing|ed)?|f\*+\w*|wtf|smh|ugh+|"
    r"nightmare|fed\s+up|sick\s+of|tired\s+of|furious|livid|pissed(?:\s+off)?|angry|"
    r"annoy(?:ed|ing)|frustrat(?:ed|ing|ion)|infuriat(?:ed|ing)|disappoint(?:ed|ing|ment)|"
    r"upset|unprofessional|unhelpful|unreliable|unfair|mediocre|epic\s+fail|#\w*fail\w*|"
    r"fail(?:ed|s)?\s+(?:again|me|us)|lie[ds]?|lying|liars?|clueless|hopeless|"
    r"inexcusable|no\s+excuse|embarrassing|laughable|insult(?:ing)?|abysmal|"
    r"shambles|fiasco|mess(?:ed)?\s+up|screw(?:ed)?\s+(?:up|over|me|us)|"
    r"poor(?:ly)?|not\s+(?:happy|impressed|satisfied|pleased|cool|ok|okay|good|great|"
    r"acceptable|fair|helpful|nice|right|funny|amused|fun)|non[- ]?helpful|"
    r"(?:#)?never\s*again|(?:don'?t|doesn'?t|do\s+not|does\s+not|didn'?t)\s+(?:even\s+)?care"
)
_UNRESPONSIVE = _rx(
    r"no\s+(?:one|body)|nobody|no\s+(?:response|reply|replies|answer|word|update|updates|info|"
    r"information|help|call\s*back|follow[- ]?up|communication|explanation|notice|"
    r"notification|email|call|contact|assistance|support|human)|"
    r"(?:haven'?t|have\s+not|hasn'?t|has\s+not|never|didn'?t|did\s+not|still\s+not|not)\s+"
    r"(?:yet\s+|even\s+)?(?:heard|replied|responded|answered|called|contacted|gotten\s+back|"
    r"got\s+back|get\s+back|followed\s+up|helped|acknowledged|bothered)|"
    r"(?:can'?t|cannot|couldn'?t|unable\s+to)\s+(?:even\s+)?(?:get\s+(?:through|a\s+hold|"
    r"hold|an?\s+(?:answer|agent|person|human|response|reply))|reach|contact|talk|speak|"
    r"get\s+anyone|get\s+someone)|"
    r"on\s+hold|hold\s+time|(?:been|kept|keep|put)\s+(?:me\s+)?(?:on\s+)?hold(?:ing)?|"
    r"ignor(?:ed|ing|es)|hung\s+up|hang(?:s)?\s+up|disconnect(?:ed|s)?|cut\s+(?:me\s+)?off|"
    r"kick(?:ed|s)?\s+(?:me\s+)?(?:off|out)|left\s+on\s+read|"
    r"(?:still|been|keep|kept|am|are|is)\s+waiting|waited|wait(?:ing)?\s+(?:time|times|list)|"
    r"long\s+(?:wait|waits|line|lines|queue|queues)|queue\s+for"
)
_FAILURE = _rx(
    r"delay(?:ed|s)?|late(?:r|st)?|cancell?(?:ed|ing|ations?)|stranded|stuck|missed|lost|"
    r"missing|misplaced|damaged|broken|broke|crash(?:ed|es|ing)?|outage|glitch(?:es|y)?|"
    r"error(?:s)?|bug(?:gy)?|down\s+again|(?:is|was|been|went)\s+down|"
    r"(?:not|n'?t|never)\s+(?:\w+\s+)?(?:work|working|worked|arrive[d]?|arriving|show(?:ed|n)?\s+up|"
    r"load(?:ing)?|open(?:ing)?|here|there|received|fixed|resolved|sorted|refunded)|"
    r"stopped\s+working|fail(?:ed|s|ing|ure)?|keeps?\s+(?:\w+ing)|"
    r"overbook(?:ed|ing)?|overcharg(?:ed|ing)|wrong|mistake|denied|refused|"
    r"won'?t\s+(?:let|allow|accept|work|refund|help|load)|wouldn'?t\s+(?:let|allow|help)|"
    r"(?:can'?t|cannot|unable\s+to|couldn'?t)\s+(?:\w+\s+)?(?:find|track|book|check|get|use|"
    r"access|change|log|see|load|open|pay|connect|make|do|even)|"
    r"charged|fees?|penali[sz](?:ed|e)|downgrade[d]?|"
    r"dirty|smell(?:s|y)?|cold|uncomfortable|cramped|leak(?:ing|ed|s)?|spill(?:ed)?|"
    r"(?:ran|run)\s+out|sold\s+out|not\s+(?:available|enough|provided)|without\s+(?:any\s+)?"
    r"(?:notice|warning|explanation|notification)"
)
_PERSIST = _rx(
    r"still|again|yet\s+again|(?:2nd|second|3rd|third|4th|fourth|5th|fifth|\d+th|nth)\s+time|"
    r"twice|x[2-9]|[2-9]x|(?:multiple|several|many|countless|numerous|three|four|five|ten|"
    r"\d+)\s+(?:times|calls|emails|attempts)|every\s+(?:time|single\s+time)|"
    r"how\s+many\s+(?:more\s+)?times|keep\s+(?:asking|calling|getting|trying|telling|"
    r"being|having)|for\s+days|for\s+weeks|all\s+(?:day|night|morning|week)|"
    r"already\s+(?:told|asked|called|explained|sent|emailed|contacted|reported|waited)|"
    r"(?:told|asked|reported|explained)\s+(?:you\s+)?(?:this\s+)?(?:before|already|twice)|"
    r"over\s+and\s+over|forever|ages|(?:yesterday|last\s+week)\s+and\s+(?:today|still)"
)
_AMOUNT_OF_TIME = (
    r"(?:\d+(?:\.\d+)?\+?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
    r"several|many|multiple|few|couple\s+of|half\s+an?)\s*(?:\+\s*)?(?:more\s+)?"
    r"(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?)"
)
# An amount of time only counts as waiting when the words around it say so ("an hour early" is
# good news, "on hold for an hour" is not).
_DURATION = _rx(
    r"(?:for|over|after|another|almost|nearly|more\s+than|already|waited|waiting|wait|hold|"
    r"late|delayed|took|takes|taking|spent|wasted|been|sat|sitting|stuck|queued)\s+"
    r"(?:(?:for|about|over|almost|nearly|another|more\s+than|at\s+least|an\s+extra)\s+)?"
    + _AMOUNT_OF_TIME + r"|" + _AMOUNT_OF_TIME +
    r"\s+(?:long\s+)?(?:late|delay(?:ed)?|wait(?:ing)?|on\s+hold|of\s+(?:waiting|hold|my)|later|"
    r"now|already|and\s+(?:counting|still|nothing|no)|in\s+(?:line|a\s+queue)|queue|line|hold|"
    r"behind|stuck)"
)
_REGRET = _rx(
    r"regret(?:s|ted|ting)?|sorry\s+i\s+(?:ever\s+)?(?:chose|picked|used|bought|booked|signed)|"
    r"should(?:\s+have|'ve|\s+of)\s+(?:just\s+)?(?:\w+\s+)?(?:gone|chosen|used|stayed|taken|"
    r"picked|bought|booked|flown|driven|known|listened|read)|"
    r"wish\s+i\s+(?:had|hadn'?t|never|didn'?t)|last\s+time\s+i|never\s+(?:again|should\s+have)"
)
_CRITICISM = _rx(
    r"you\s+(?:really\s+|guys\s+|people\s+)?(?:should|need\s+to|have\s+to|ought\s+to|must)\s+"
    r"(?:really\s+)?(?:fix|hire|get|improve|have|be|train|staff|do|stop|learn|start|invest|"
    r"update|figure|think|know|make)|do\s+better|get\s+(?:it|your\s+act)\s+together|"
    r"step\s+(?:it\s+)?up|not\s+liv(?:e|ing)\s+up|not\s+worth|(?:under|un)[- ]?appreciated|"
    r"what\s+kind\s+of\s+(?:service|company|support|business|customer\s+service)|"
    r"(?:is\s+this|that'?s|this\s+is)\s+how\s+you\s+treat|way\s+to\s+treat|"
    r"treat(?:ed|s|ing)?\s+(?:\w+\s+){0,3}(?:poorly|badly|like\s+(?:dirt|garbage|crap|criminals|"
    r"cattle))|did\s+nothing|nothing\s+(?:was\s+|has\s+been\s+|is\s+being\s+)?done|"
    r"(?:hate|despise|loathe)\s+(?:you|your|this|it|that|how|when|dealing)|absurd|egregious|"
    r"unhelpfulness|(?:too|way\s+too|so)\s+(?:long|slow|expensive|much)|"
    r"(?:still\s+)?(?:no|zero)\s+(?:apology|compensation|explanation|accountability)"
)
_SARCASM_STRONG = _rx(
    r"thanks?\s+(?:you\s+)?for\s+nothing|oh\s+wait|yeah\s+right|(?<!thank\s)(?<!thanks\s)"
    r"(?<!you\s)so\s+much\s+for|#not|said\s+no\s+one|surprise\s*,?\s+surprise|do\s+i\s+win|"
    r"feel\s+the\s+love|(?:of\s+)?course\s+not|thanks?\s+a\s+lot\s*(?:\.{2,}|!|$)|"
    r"thanks?\s+(?:again\s+)?for\s+(?:the\s+)?(?:delay|wait|runaround|hassle|trouble|"
    r"ruining|wasting|losing|making\s+me\s+wait|leaving\s+me|ignoring|nothing)"
)
# Praise that is sarcastic only next to a complaint ("great job losing my order").
_SARCASM_AMBIGUOUS = _rx(
    r"(?:great|good|nice|fantastic|awesome|amazing|stellar|excellent|brilliant|wonderful|"
    r"superb|outstanding)\s+(?:job|work|service|going|one|move|way\s+to)|well\s+done|"
    r"keep\s+up\s+the\s+\w+\s+work|just\s+(?:great|perfect|wonderful|lovely|brilliant|"
    r"fantastic|awesome)|love\s+(?:how|that|it\s+when|being|waiting|sitting|the\s+fact)|"
    r"(?:gotta|got\s+to|have\s+to|you\s+have\s+to)\s+love|thanks?\s+(?:again\s+)?for\s+\w+ing|"
    r"what\s+a\s+(?:joke|mess|way|surprise|shock|great|wonderful|treat)|apparently|i\s+guess|"
    r"shocking|the\s+best\s+you\s+can|is\s+that\s+(?:it|all)|that'?s\s+it\s*\?|"
    r"(?:thanks|thank\s+you)\s*(?:\.{2,}|!)?\s*$|awesome\s*[.!]*\s*$|great\s*[.!]*\s*$|"
    r"perfect\s*[.!]*\s*$|wow\b"
)
_RHETORICAL = _rx(
    r"really\s*\?+|seriously\s*[?!.]*|are\s+you\s+(?:kidding|serious|joking)|kidding\s+me|"
    r"you\s+(?:have|'ve|got)\s+(?:got\s+)?to\s+be\s+kidding|how\s+(?:hard|difficult)\s+"
    r"(?:is\s+it|can\s+it\s+be)|how\s+is\s+(?:this|that|it)\s+(?:ok|okay|acceptable|possible|"
    r"fair|legal|right)|what'?s\s+the\s+point|what\s+is\s+going\s+on|what\s+the\s+hell|"
    r"how\s+(?:much\s+)?longer|how\s+come|why\s+(?:on\s+earth|the\s+hell|would\s+you|"
    r"can'?t|won'?t|isn'?t|aren'?t|wasn'?t|didn'?t|doesn'?t|don'?t|hasn'?t|haven'?t|"
    r"should\s+i|do\s+i\s+have\s+to|am\s+i|is\s+it\s+so)|explain\s+(?:to\s+me\s+)?(?:why|how)|"
    r"anyone\s+(?:there|home|listening)|hello\s*\?+"
)
_WHY = _rx(r"why")
_DISTRESS = _rx(
    r"(?<!the\s)(?<!for\s)(?<!all\s)(?<!your\s)help\s*!+|please\s+help|help\s+(?:me|us)\s*!|"
    r"urgent(?:ly)?|asap|desperate(?:ly)?|emergency|"
    r"panick?(?:ing|ed)?|worried|stress(?:ed|ful)?|tears|crying|cried|exhausted|miserable|"
    r"ruin(?:ed|s|ing)?|wast(?:e|ed|ing)\s+(?:of\s+)?(?:my|our|time|money|an?)|wasted|"
    r"inconvenien(?:ce|ced|t)|hassle|headache|no\s+sleep|stuck|all\s+night|"
    r"sad|unhappy|lost\s+(?:a|another|my|me\s+as\s+a)\s+(?:loyal\s+)?customer"
)
_MONEY_BACK = _rx(
    r"refund(?:s|ed)?|money\s+back|compensat(?:e|ion|ed)|reimburs(?:e|ed|ement)|"
    r"credit\s+(?:me|back)|owe\s+(?:me|us)|pay\s+for\s+(?:my|our|this|the)"
)
_NEG_HASHTAG = re.compile(
    r"#\w*(?:fail|suck|worst|never|terrible|awful|horrible|bad|poor|shame|angry|mad|"
    r"disappoint|frustrat|annoy|ridiculous|unacceptable|nothanks|notcool|notok|notnice|"
    r"broken|lost|wtf|fml|ugh|smh|rude|joke|scam|hate|boycott|switching|nohelp|noservice|"
    r"delay|cancel|stuck|stranded|neveragain|tired|sick|waiting|wait|fix|help)\w*",
    _FLAGS,
)
_THREAT_TO_LEAVE = _rx(
    r"never\s+(?:again|(?:be\s+)?(?:using|use|buying|buy|ordering|order|booking|book|flying|fly|"
    r"shopping|shop|coming\s+back|recommend(?:ing)?|choose|choosing|return(?:ing)?)\s+"
    r"(?:with\s+|from\s+|to\s+)?(?:you|your|this|again|here))|#?neveragain|"
    r"(?:won'?t|will\s+not|wouldn'?t)\s+(?:ever\s+)?(?:be\s+)?(?:using|use|buying|buy|ordering|"
    r"order|booking|book|flying|fly|shopping|shop|coming\s+back|recommending|recommend|"
    r"choosing|choose|returning|renewing|renew)\s+(?:with\s+|from\s+)?(?:you|your|this|again)|"
    r"take\s+(?:my|our)\s+(?:business|money|custom)\s+elsewhere|(?:i'?m|we'?re|i\s+am|we\s+are)"
    r"\s+done\s+with\s+you|(?:lost|losing)\s+(?:a|another|me\s+as\s+a|my|our)\s+(?:loyal\s+)?"
    r"(?:customer|business)|you'?(?:ve|ll)\s+lost\s+(?:me|us)|last\s+time\s+i(?:'?ll| will)?\s+"
    r"(?:use|fly|buy|order|book|shop)|"
    r"(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?)\s+(?:back\s+)?to\s+(?:a\s+|another\s+)?"
    r"(?:competitor|different\s+(?:provider|company|airline|bank|carrier|service))|"
    r"(?:i'?ll|i\s+will|we'?ll|we\s+will|going\s+to|gonna)\s+(?:be\s+)?(?:cancel(?:l?ing)?|"
    r"leav(?:e|ing)|switch(?:ing)?|tak(?:e|ing)\s+my\s+business)|#switching\w*"
)
_PUBLIC = _rx(
    r"(?:post|posting|share|sharing|tweet|tweeting|put|putting|write|writing|blog|blogging)\s+"
    r"(?:this|it|about\s+(?:this|it|you)|everything)\s+(?:on|to|all\s+over)\s+\w+|"
    r"(?:leave|leaving|write|writing|post|posting|give|giving)\s+(?:a|an|you\s+a)?\s*"
    r"(?:bad|negative|terrible|honest|scathing|1[- ]?star|one[- ]?star|zero[- ]?star)\s+reviews?|"
    r"(?:bad|negative|1[- ]?star|one[- ]?star|zero[- ]?star)\s+reviews?|trustpilot|yelp|"
    r"better\s+business\s+bureau|bbb|(?:the|local)\s+(?:press|media|news)|journalists?|"
    r"reporters?|go(?:ing)?\s+public|(?:tell|telling|warn|warning)\s+(?:everyone|everybody|"
    r"all\s+my\s+(?:friends|followers)|my\s+followers|others)|go(?:ing|es)?\s+viral|"
    r"great\s+story\s+for"
)
_POSITIVE_CLOSE = _rx(
    r"thanks?\s+(?:you\s+)?(?:so\s+much|very\s+much|a\s+(?:ton|million|bunch))|"
    r"(?:really|truly)\s+appreciate|you\s+(?:guys\s+)?(?:rock|are\s+(?:the\s+best|awesome|great|"
    r"amazing))|(?:love|loved|loving)\s+(?:you|your|the|this|it|flying|my)|"
    r"(?:great|amazing|awesome|excellent|wonderful|fantastic|outstanding|superb)\s+"
    r"(?:experience|crew|staff|team|support|customer\s+service|time|trip|flight|product|app)"
)
_QUESTION_START = re.compile(
    r"^\W*(?:@\w+\s+)*(?:hi|hey|hello|quick\s+question|question)?[,!:\s]*"
    r"(?:how|what|when|where|which|who|whom|whose|is|are|am|can|could|do|does|did|will|would|"
    r"should|shall|may|might|has|have|any|if|i\s+was\s+wondering|wondering|just\s+wondering|"
    r"please\s+(?:tell|let|advise|confirm)|pls)\b",
    _FLAGS,
)
_SHOUT = re.compile(r"(?<![@#\w])[A-Z][A-Z']{3,}(?![\w])")
_EXCLAIM = re.compile(r"!{2,}|\?!|!\?|\?{2,}")
_NEG_EMOJI = re.compile("[\U0001F620\U0001F621\U0001F624\U0001F92C\U0001F62D\U0001F622\U0001F61E"
                        "\U0001F629\U0001F62B\U0001F612\U0001F644\U0001F44E\U0001F611\U0001F610"
                        "\U0001F615\U0001F61F\U0001F625\U0001F630\U0001F480]")
_MENTION = re.compile(r"(?:^|(?<=\s))@\w+|https?://\S+")
_WORD = re.compile(r"[a-z0-9']+")
_ACRONYMS = frozenset({"ASAP", "HTTP", "HTTPS", "USA", "FAQ", "HTML", "JSON", "NYSE", "NASA"})

_COMPLAINT, _CONDITIONAL, _AMPLIFIER = "complaint", "conditional", "amplifier"

# (family, pattern, weight, role, damped in plain information questions). Roles: a complaint
# family counts on its own; a conditional one (ambiguous praise) only next to a complaint; an
# amplifier (shouting, "!!", upset emoji) only next to other negative evidence.
_EMOTION_FAMILIES: tuple[tuple[str, re.Pattern[str], float, str, bool], ...] = (
    ("hostile", _HOSTILE, 0.45, _COMPLAINT, False),
    ("unresponsive", _UNRESPONSIVE, 0.40, _COMPLAINT, False),
    ("threat_to_leave", _THREAT_TO_LEAVE, 0.50, _COMPLAINT, False),
    ("public_escalation", _PUBLIC, 0.40, _COMPLAINT, False),
    ("sarcasm", _SARCASM_STRONG, 0.40, _COMPLAINT, False),
    ("regret", _REGRET, 0.35, _COMPLAINT, False),
    ("criticism", _CRITICISM, 0.30, _COMPLAINT, False),
    ("rhetorical", _RHETORICAL, 0.30, _COMPLAINT, False),
    ("negative_hashtag", _NEG_HASHTAG, 0.35, _COMPLAINT, False),
    ("failure", _FAILURE, 0.30, _COMPLAINT, True),
    ("waiting_time", _DURATION, 0.30, _COMPLAINT, True),
    ("persistence", _PERSIST, 0.25, _COMPLAINT, True),
    ("distress", _DISTRESS, 0.25, _COMPLAINT, True),
    ("money_back", _MONEY_BACK, 0.25, _COMPLAINT, True),
    ("why_question", _WHY, 0.15, _COMPLAINT, True),
    ("ironic_praise", _SARCASM_AMBIGUOUS, 0.30, _CONDITIONAL, False),
    ("shouting", None, 0.25, _AMPLIFIER, False),
    ("exclamation", _EXCLAIM, 0.15, _AMPLIFIER, False),
    ("upset_emoji", _NEG_EMOJI, 0.20, _AMPLIFIER, False),
)
_QUESTION_DAMPING = 0.4      # plain questions keep 40 % of their soft cue weight
_QUESTION_NEGATIVE_KEPT = 0.5  # ... and half of a negative VADER score
_PRAISE_FLOOR = 0.25         # positive VADER kept at least this share next to a complaint
_PRAISE_SLOPE = 1.5          # ... shrinking linearly with the complaint weight

# repeated complaints across history
_REPEAT_MARKER = _rx(
    r"again|still|yet|(?:2nd|second|3rd|third|4th|fourth|\d+th)\s+time|already|"
    r"any\s+(?:update|news|word|answer|response|reply)|hello\s*\?+|anyone\s*\?+|"
    r"(?:as\s+)?i\s+(?:said|mentioned|asked|told\s+you)|same\s+(?:problem|issue|thing)|"
    r"keep\s+(?:asking|happening)|how\s+many\s+times|ping(?:ing)?|bump|follow(?:ing)?\s+up"
)
_STOPWORDS = frozenset(
    "a an the and or but if then so to of in on at for with from by about as is are was were be "
    "been being am i me my we our you your it its this that these those there here have has had "
    "do does did not no can could will would should just please hi hello hey thanks thank any "
    "what when where why how who which again still yet already get got up out into than too very "
    "all some more now today there's it's i'm i've don't can't won't im ive dont cant wont".split()
)
_REPEAT_OVERLAP = 0.5   # share of the shorter message's content words found in an earlier one


@dataclass(frozen=True, slots=True)
class _Hit:
    """One matched cue: the kind and the words matched."""

    kind: str
    words: str
    weight: float


@dataclass(frozen=True, slots=True)
class EmotionBreakdown:
    """How :meth:`Detectors.sentiment` reached its figure: VADER, cues and the final score."""

    compound: float
    cue_weight: float
    score: float
    families: tuple[tuple[str, str], ...]
    question: bool


class Detectors:
    """Offline detectors for policy risk, high value, emotion and requests for a human.

    Build one per process (or per rules reload): the VADER analyzer is constructed here and is
    not shared between instances. Every method is pure given the instance, hence thread-safe.
    """

    def __init__(self, *, sentiment_threshold: float = DEFAULT_SENTIMENT_THRESHOLD) -> None:
        if not -1.0 <= sentiment_threshold <= 1.0:
            raise ValueError("sentiment_threshold must lie in -1..1")
        self.sentiment_threshold = sentiment_threshold
        self._vader = SentimentIntensityAnalyzer()

    # ---------------------------------------------------------------- public API
    def detect(self, conversation: Conversation) -> list[Signal]:
        """Every signal the newest message (and its history) raises, strongest reason first."""
        text = conversation.text or ""
        signals: list[Signal] = []
        signals += self.human_requested(text=text)
        signals += self.policy_risk(text=text)
        signals += self.high_value(text=text)
        signals += self.emotional(conversation=conversation)
        return signals

    def sentiment(self, text: str) -> float:
        """Support-adjusted sentiment in -1..1 (VADER compound plus complaint cues)."""
        return self.explain_sentiment(text=text).score

    def vader(self, text: str) -> float:
        """Plain VADER compound score, for comparison and diagnostics."""
        return float(self._vader.polarity_scores(text)["compound"])

    def explain_sentiment(self, *, text: str) -> EmotionBreakdown:
        """The adjusted sentiment with its parts, so a card can say why a message read as angry.

        score = praise-discounted VADER compound - noisy-or of the cue weights, clipped to -1..1.
        """
        clean = _MENTION.sub(" ", text)
        compound = self.vader(clean) if clean.strip() else 0.0
        question = _is_information_question(clean)
        families = _emotion_families(clean, vader_negative=compound <= -0.05)
        hard = any(role == _COMPLAINT and not damped for _n, _w, _wt, role, damped in families)
        complaint = 1.0
        total = 1.0
        for _name, _words, weight, role, damped in families:
            if question and damped and not hard:
                weight *= _QUESTION_DAMPING
            total *= 1.0 - weight
            if role == _COMPLAINT:
                complaint *= 1.0 - weight
        cue = 1.0 - total
        complaint = 1.0 - complaint
        adjusted = compound
        if compound > 0 and complaint > 0:
            # Praise next to a complaint is politeness or sarcasm: keep only part of it.
            adjusted = compound * max(_PRAISE_FLOOR, 1.0 - _PRAISE_SLOPE * complaint)
        if question and not hard and compound < 0:
            adjusted = compound * _QUESTION_NEGATIVE_KEPT
        score = max(-1.0, min(1.0, adjusted - cue))
        return EmotionBreakdown(
            compound=compound,
            cue_weight=cue,
            score=score,
            families=tuple((name, words) for name, words, _w, _r, _d in families),
            question=question,
        )

    # ---------------------------------------------------------------- per reason
    def human_requested(self, *, text: str) -> list[Signal]:
        """The customer asks for a person, a call back or an escalation."""
        hits = _match_cues(text, _HUMAN_CUES, self_negating=_SELF_NEGATING_HUMAN)
        if not hits:
            return []
        words = tuple(dict.fromkeys(h.words for h in hits))
        return [Signal(Reason.HUMAN_REQUESTED, "human_requested",
                       "Customer asked to speak to a person", words, 0.95)]

    def policy_risk(self, *, text: str) -> list[Signal]:
        """Legal threats, data-protection requests, compromise, loss of access, payment errors."""
        return _signals_by_kind(Reason.POLICY_RISK, _match_cues(text, _POLICY_CUES),
                                _POLICY_DETAILS)

    def high_value(self, *, text: str) -> list[Signal]:
        """Refund disputes and churn intent; questions about a refund policy do not count."""
        hits = _match_cues(text, _HIGH_VALUE_CUES)
        if hits and _POLICY_QUESTION.search(text) and _is_information_question(text):
            hits = [h for h in hits if not _is_generic_refund_question(h)]
        return _signals_by_kind(Reason.HIGH_VALUE, hits, _HIGH_VALUE_DETAILS)

    def emotional(self, *, conversation: Conversation) -> list[Signal]:
        """Anger, repeated complaints, public escalation and threats to leave."""
        text = conversation.text or ""
        breakdown = self.explain_sentiment(text=text)
        found = dict(breakdown.families)
        signals: list[Signal] = []
        if breakdown.score <= self.sentiment_threshold:
            evidence = tuple(words for name, words in breakdown.families) or ("(tone)",)
            signals.append(Signal(
                Reason.EMOTIONAL, "anger",
                f"Customer sounds upset (sentiment {breakdown.score:+.2f}, "
                f"threshold {self.sentiment_threshold:+.2f})",
                evidence, round(min(1.0, -breakdown.score), 4)))
        repeated = _repeated_complaint(conversation, found)
        if repeated:
            signals.append(repeated)
        if "public_escalation" in found:
            signals.append(Signal(Reason.EMOTIONAL, "public_escalation",
                                  "Customer threatens to go public (social media, reviews, press)",
                                  (found["public_escalation"],), 0.9))
        if "threat_to_leave" in found:
            signals.append(Signal(Reason.EMOTIONAL, "threat_to_leave",
                                  "Customer threatens to leave", (found["threat_to_leave"],), 0.85))
        return signals


# ------------------------------------------------------------------------- helpers
_POLICY_DETAILS = {
    "legal": "Customer mentions legal action or lawyers",
    "compliance": "Data-protection or compliance request",
    "security": "Possible fraud, theft or account compromise",
    "account_access": "Customer has lost access to their account",
    "payment": "Payment taken or handled wrongly",
    "financial": "Formal dispute over a charge, invoice or tax",
}
_HIGH_VALUE_DETAILS = {
    "refund_dispute": "Customer wants money back",
    "churn": "Customer wants to cancel or leave",
}


def _negated(text: str, start: int) -> bool:
    """Whether a negator sits in the few words before ``start`` within the same clause."""
    before = text[max(0, start - 60):start]
    clause = _CLAUSE_BREAK.split(before)[-1]
    words = clause.split()[-_NEGATION_WINDOW_WORDS:]
    return bool(_NEGATOR.search(" ".join(words)))


def _match_cues(text: str, cues: Iterable[_Cue], *,
                self_negating: re.Pattern[str] | None = None) -> list[_Hit]:
    """Every non-negated cue match in ``text``, in cue order."""
    hits: list[_Hit] = []
    for cue in cues:
        for match in cue.pattern.finditer(text):
            words = match.group(0)
            if self_negating is not None and self_negating.fullmatch(words):
                hits.append(_Hit(cue.kind, words, cue.weight))
                continue
            if cue.negatable and _negated(text, match.start()):
                continue
            hits.append(_Hit(cue.kind, words, cue.weight))
    return hits


def _signals_by_kind(reason: Reason, hits: list[_Hit], details: dict[str, str]) -> list[Signal]:
    """One signal per kind, evidence in match order without duplicates."""
    by_kind: dict[str, list[_Hit]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit)
    signals = []
    for kind, kind_hits in by_kind.items():
        words = tuple(dict.fromkeys(h.words for h in kind_hits))
        score = max(h.weight for h in kind_hits)
        signals.append(Signal(reason, kind, details[kind], words, score))
    return signals


def _is_generic_refund_question(hit: _Hit) -> bool:
    """A refund cue inside a policy question ("how long do refunds take?") is not a dispute."""
    return hit.kind == "refund_dispute" and "money" not in hit.words.lower()


def _is_information_question(text: str) -> bool:
    """A plain question: starts like one or ends with '?', with no '?!' or '!!' heat."""
    stripped = text.strip()
    if not stripped or _EXCLAIM.search(stripped):
        return False
    return bool(_QUESTION_START.match(stripped)) or stripped.rstrip(" .)").endswith("?")


def _emotion_families(text: str, *,
                      vader_negative: bool) -> list[tuple[str, str, float, str, bool]]:
    """The emotional cue families present: (family, words, weight, role, damped-in-questions).

    Conditional families count only next to a complaint family; amplifiers only next to a
    complaint family or a negative VADER score.
    """
    found: list[tuple[str, str, float, str, bool]] = []
    for name, pattern, weight, role, damped in _EMOTION_FAMILIES:
        if pattern is None:
            words = _shouted_words(text)
        else:
            words = _first_unnegated(text, pattern, negatable=damped)
        if words:
            found.append((name, words, weight, role, damped))
    has_complaint = any(role == _COMPLAINT for _n, _w, _wt, role, _d in found)
    return [item for item in found
            if item[3] == _COMPLAINT
            or (item[3] == _CONDITIONAL and has_complaint)
            or (item[3] == _AMPLIFIER and (has_complaint or vader_negative))]


def _shouted_words(text: str) -> str | None:
    """Two or more all-caps words (or one long one), ignoring common acronyms."""
    shouted = [w for w in _SHOUT.findall(text) if w.strip("'") not in _ACRONYMS]
    if len(shouted) >= 2 or any(len(w) >= 6 for w in shouted):
        return " ".join(shouted[:4])
    return None


def _first_unnegated(text: str, pattern: re.Pattern[str], *, negatable: bool) -> str | None:
    """The first match of ``pattern`` that is not negated (negation only for soft families)."""
    for match in pattern.finditer(text):
        if negatable and _negated(text, match.start()):
            continue
        return match.group(0)
    return None


def _content_words(text: str) -> set[str]:
    """Lower-cased words that carry the topic of a message (no stop words, no short tokens)."""
    return {w for w in _WORD.findall(_MENTION.sub(" ", text.lower()))
            if len(w) > 2 and w not in _STOPWORDS}


def _repeated_complaint(conversation: Conversation, found: dict[str, str]) -> Signal | None:
    """The customer raised this before: same topic as an earlier customer turn, or a nudge
    ("again", "still", "any update?") while earlier customer turns went unanswered."""
    history = conversation.history
    text = conversation.text or ""
    earlier = [t for t in history if t.role == Role.CUSTOMER]
    if earlier:
        now = _content_words(text)
        for turn in earlier:
            before = _content_words(turn.text)
            shared = now & before
            smaller = min(len(now), len(before))
            if smaller >= 2 and len(shared) >= 2 and len(shared) / smaller >= _REPEAT_OVERLAP:
                return Signal(Reason.EMOTIONAL, "repeated_complaint",
                              "Customer raised the same issue earlier in this conversation",
                              (turn.text[:120], *sorted(shared)[:5]), 0.8)
        unanswered = _unanswered_customer_turns(history)
        marker = _REPEAT_MARKER.search(text)
        if marker and unanswered:
            return Signal(Reason.EMOTIONAL, "repeated_complaint",
                          f"Customer is chasing: {unanswered} earlier message(s) without a reply",
                          (marker.group(0), unanswered_text(history)[:120]), 0.75)
    if "persistence" in found and _COUNTED_REPEAT.search(text):
        return Signal(Reason.EMOTIONAL, "repeated_complaint",
                      "Customer says they have raised this before",
                      (_COUNTED_REPEAT.search(text).group(0),), 0.7)
    return None


_COUNTED_REPEAT = _rx(
    r"(?:2nd|second|3rd|third|4th|fourth|5th|fifth|\d+th|nth)\s+time|"
    r"(?:multiple|several|many|countless|numerous|three|four|five|ten|\d+)\s+"
    r"(?:times|calls|emails|attempts)|how\s+many\s+(?:more\s+)?times|"
    r"already\s+(?:told|asked|called|explained|emailed|contacted|reported)|"
    r"(?:told|asked|reported|explained)\s+(?:you\s+)?(?:this\s+)?(?:before|already|twice)|"
    r"keep\s+(?:asking|calling|telling)|over\s+and\s+over|yet\s+again"
)


def _unanswered_customer_turns(history: tuple) -> int:
    """How many customer turns at the end of the history came after the last agent/bot reply."""
    count = 0
    for turn in reversed(history):
        if turn.role != Role.CUSTOMER:
            break
        count += 1
    return count


def unanswered_text(history: tuple) -> str:
    """The last unanswered customer turn's text (for evidence)."""
    for turn in reversed(history):
        if turn.role == Role.CUSTOMER:
            return turn.text
        break
    return ""
