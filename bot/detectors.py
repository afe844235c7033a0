"""Offline detectors for the four escalation reasons that do not depend on retrieval.

Each detector reads the newest customer message (and, for repeated complaints, the earlier turns)
and returns :class:`Signal` objects a human agent can read on a handoff card: the reason, a finer
``kind``, one sentence of detail and the exact words that fired.

Design choices, and why:

* **Precision first for policy_risk and high_value.** They fire on clear disputes, fraud,
  compromise, loss of access and legal threats, not on questions *about* a policy. "What is your
  refund policy?", "how do I reset my password?" and "can I change my card PIN?" stay quiet;
  "I want my money back", "someone hacked my account" and "I'm locked out" fire. Account access is
  a judgement call, documented here: we flag a customer who has *lost* access (locked out, can't
  log in, forgot the password, 2FA device lost, account suspended) as ``account_access``, because
  a person usually has to verify identity before anything can be done; we do not flag how-to
  questions (reset or change a password or PIN), which a knowledge base answers. A mention of a
  lawyer only counts when it concerns this matter ("my lawyer", "contact a lawyer", "sue you"),
  not "find me a divorce lawyer"; a lost card or wallet counts as ``security`` (it can be misused).
* **Negation is handled cheaply**: a cue is dropped when a negator ("don't", "no need to",
  "not", "never") sits in the four words before it in the same clause ("no need to call me",
  "I'm not going to cancel my subscription"). Cues whose meaning *contains* a negation ("I didn't
  authorise this", "haven't received my refund") are written as patterns of their own and never
  negated. "can't" is deliberately not a negator: "why can't I talk to a human" still asks for one.
* **Emotion = VADER + support-language cues.** VADER alone misses most support complaints: "on
  hold for two hours", "still no reply", "third time I'm asking" carry no lexicon sentiment, and
  polite or sarcastic praise ("thanks for nothing", "great job losing my order") pushes the
  compound score the wrong way. :meth:`Detectors.sentiment` therefore combines

  - VADER's compound score of the message with *fact* words hidden (a failure word such as
    "wrong", "lost" or "failed" is counted once, as a cue, not again by VADER);
  - a noisy-or of weighted cue families: hostility, no response, threats to leave, public
    escalation, sarcasm, regret, criticism, rhetorical questions, failures, waiting time,
    persistence ("still", "again", "third time"), distress, money-back demands and (weaker)
    friction words ("issue", "confusing"); amplifiers (shouting, "!!", upset emoji, elongated
    words, negated statements) count only next to other negative evidence, ambiguous praise
    ("great job", "thanks for ...ing") only next to a complaint;
  - praise next to a complaint is discounted (politeness or sarcasm), strong praise less so
    ("great staff during the delays" stays positive);
  - policy words ("stolen", "fraud", "charged twice") are hidden from VADER too: the policy
    reason reports them, they say nothing of the customer's mood;
  - a message that states no complaint outside its questions ("is my order delayed?" asks, "my
    order is delayed" complains) keeps its cue weight within VADER's neutral band, unless the
    questions pile up a wait or a repeat with another problem;
  - VADER alone, without a stated complaint, must be clearly negative (topic words such as
    "crime" or "stop" make neutral requests score below zero).

  The result stays on VADER's -1..1 scale, so the rules file's ``thresholds.sentiment`` keeps its
  meaning: at or below it, a message is emotional.
* **Default threshold** (:data:`DEFAULT_SENTIMENT_THRESHOLD`): chosen once, by the procedure in
  ``benchmarks/signals_bench.py``: on a fixed 20 % random split of the public airline-sentiment
  signals suite (the suite has no validation split), the grid value in -0.60..-0.05 that maximises
  min(precision, recall). Scores in (-0.05, 0] are VADER-neutral and are not admissible
  thresholds. Figures are reported on the other 80 % and on the whole suite. No cue names an
  airline, a flight or other wording of one dataset: the cues are general support language.
* **Trade-off to know about**: a bare problem report ("my card hasn't arrived", "the exchange
  rate is wrong") reads as a complaint (in the airline suite such messages are labelled
  negative), so at the default threshold the emotional reason also fires on many calm problem
  reports of a banking help desk. Deployments that want emotion to mean *upset* rather than
  *complaining* set ``thresholds.sentiment`` lower (about -0.35: a single problem report no
  longer fires, see the benchmark's figures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.types import Conversation, Reason, Role, Trigger, Turn

__all__ = ["DEFAULT_SENTIMENT_THRESHOLD", "Detectors", "EmotionBreakdown", "Signal"]

#: Adjusted sentiment at or below which a message counts as emotional (see the module docstring;
#: ``python benchmarks/signals_bench.py`` re-runs the choice and prints the figures).
DEFAULT_SENTIMENT_THRESHOLD = -0.07


@dataclass(frozen=True, slots=True)
class Signal:
    """One escalation signal with the evidence an agent reads on the handoff card.

    ``score`` is the strength of the signal in 0..1 (for ``anger``, the negated adjusted
    sentiment); ``evidence`` holds the words of the message (or history) that made it fire.
    """

    reason: Reason
    kind: str
    detail: str
    evidence: tuple[str, ...]
    score: float

    def to_trigger(self) -> Trigger:
        """The shared :class:`~bot.types.Trigger` form, for decisions and handoff cards."""
        return Trigger(reason=self.reason, detail=self.detail, evidence=self.evidence,
                       score=self.score, kind=self.kind)


@dataclass(frozen=True, slots=True)
class EmotionBreakdown:
    """How :meth:`Detectors.sentiment` reached its figure, for diagnostics and cards.

    ``compound`` is VADER on the message with fact words hidden, ``cue_weight`` the noisy-or of
    the cue families found, ``families`` the (family, matched words) pairs and ``question``
    whether the whole message is a plain question.
    """

    compound: float
    cue_weight: float
    score: float
    families: tuple[tuple[str, str], ...]
    question: bool


# =============================================================================================
# Pattern tables: module-level tuples of precompiled patterns, immutable and read-only.
# =============================================================================================

_FLAGS = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile a cue with word boundaries on both ends (apostrophes count as word characters)."""
    return re.compile(r"(?<![\w'])(?:" + pattern + r")(?![\w'])", _FLAGS)


@dataclass(frozen=True, slots=True)
class _Cue:
    """A family of phrases for one kind; ``negatable`` cues are dropped after a negator."""

    kind: str
    pattern: re.Pattern[str]
    weight: float = 1.0
    negatable: bool = True


# Words that cancel a following cue in the same clause. "can't"/"haven't" are deliberately NOT
# here: "I can't reach a human" and "I haven't got my refund" are complaints, not negations.
_NEGATOR = re.compile(
    r"(?<![\w'])(?:don'?t|do\s+not|doesn'?t|does\s+not|didn'?t|did\s+not|not|no\s+need\s+to|"
    r"never|won'?t|will\s+not|without|rather\s+not|no\s+longer|isn'?t|wasn'?t|aren'?t)(?![\w'])",
    _FLAGS,
)
# Hypothetical framing: "if I cancel my plan, do I get a refund?" asks about a policy.
_HYPOTHETICAL = re.compile(r"(?<![\w'])(?:if|when|whether|in\s+case|suppose|once)(?![\w'])",
                           _FLAGS)
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n]|\bbut\b|\bthough\b", _FLAGS)
_NEGATION_WINDOW_WORDS = 4
_QUOTES = MappingProxyType(str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'",
                                          "\u201c": '"', "\u201d": '"'}))

# A negative contraction, with or without its apostrophe ("didn't", "didnt"; not "want").
_NT = (r"(?:\w+n't|dont|cant|wont|didnt|doesnt|isnt|wasnt|havent|hasnt|couldnt|wouldnt|"
       r"shouldnt|arent|werent|aint)")
_ACCOUNT = r"(?:account|acct|profile|login|app|online\s+banking|dashboard|workspace|portal)"
_MONEY_THING = (r"(?:charges?|transactions?|payments?|withdrawals?|purchases?|debits?|transfers?|"
                r"logins?|log-?ins|sign-?ins|activity)")

# ---- policy_risk ------------------------------------------------------------------------------
_LEGAL = _rx(
    r"(?:my|our)\s+(?:lawyers?|attorneys?|solicitors?|legal\s+(?:team|counsel|department|"
    r"advisors?))|"
    r"(?:contact|call|get|hire|involve|speak\s+to|talk\s+to|consult|consulting|contacting|"
    r"calling|getting|involving|hear\s+from)\s+(?:a|my|our)\s+(?:lawyer|attorney|solicitor)|"
    r"lawsuit|law\s*suit|legal\s+(?:action|proceedings|steps|claim)|"
    r"(?:take|taking|see)\s+(?:you|this|it|them)\s+(?:to|in)\s+court|small\s+claims|"
    r"(?:sue|suing)\s+(?:you|your|them|the\s+company)|class\s+action|ombudsman|"
    r"cease\s+and\s+desist|breach\s+of\s+contract|attorney\s+general|"
    r"(?:report|reporting)\s+(?:you|this|it)\s+to\s+(?:the\s+)?(?:regulator|authorities|police|"
    r"ftc|fca|cfpb|trading\s+standards|consumer)|"
    r"consumer\s+protection\s+(?:agency|office|bureau|authority|law)"
)
_COMPLIANCE = _rx(
    r"gdpr|ccpa|hipaa|data\s+protection\s+(?:request|act|law|rights|officer)|"
    r"right\s+to\s+(?:be\s+forgotten|erasure)|(?:subject|data)\s+access\s+request|dsar|"
    r"(?:delete|erase|remove|wipe)\s+(?:all\s+)?(?:of\s+)?(?:my|our)\s+(?:personal\s+)?"
    r"(?:data|information|info|details)|"
    r"(?:copy|export)\s+of\s+(?:all\s+)?(?:my|the)\s+(?:personal\s+)?data|"
    r"privacy\s+(?:violation|breach|complaint)|money\s+laundering"
)
_SECURITY = _rx(
    r"hack(?:ed|er|ers)|compromised|(?:data|security)\s+breach|phish(?:ing|ed)|"
    r"fraud(?:ulent|ster|sters)?(?!\s+(?:department|team|alerts?|protection|prevention|policy|"
    r"line|dept))|defrauded|identity\s+theft|stolen|stole|theft|(?:got|been|was)\s+scammed|"
    r"skimm(?:ed|er|ing)|"
    r"(?:someone|somebody|some\s+one|a\s+stranger)\s+(?:else\s+)?(?:is\s+|has\s+|have\s+|was\s+)?"
    r"(?:using|used|logged\s+in|accessed|got\s+into|withdrew|changed\s+my)|"
    r"without\s+my\s+(?:permission|consent|authori[sz]ation|knowledge)|"
    r"(?:unauthori[sz]ed|unrecogni[sz]ed|suspicious|unfamiliar)\s+(?:\w+\s+)?"
    r"(?:" + _MONEY_THING[3:-1] + r"|access|merchant|device)|"
    r"(?:don'?t|do\s+not|didn'?t|did\s+not)\s+recogni[sz]e\s+(?:this|that|these|those|the|a|an|"
    r"some)\s+(?:\w+\s+)?" + _MONEY_THING + r"|"
    r"(?:did|do)\s*(?:n'?t|not)\s+(?:make|authori[sz]e|withdraw|perform|approve)\s+(?:this|that|"
    r"these|those|it|the|any|a)\b|"
    r"(?:lost|misplaced)\s+(?:my|our)\s+(?:\w+\s+)?(?:card|wallet|purse)|"
    r"(?:card|wallet|purse)\s+(?:was|has\s+been|got|is)\s+(?:lost|missing)"
)
_ACCOUNT_ACCESS = _rx(
    r"locked\s+out|lock(?:ed)?\s+me\s+out|"
    r"(?:can'?t|cannot|can\s+not|unable\s+to|couldn'?t|could\s+not|won'?t\s+let\s+me)\s+"
    r"(?:\w+\s+)?(?:log\s*in|log\s+on|sign\s*in|login|access\s+my|get\s+into\s+my|"
    r"get\s+in\s+to\s+my)|"
    r"(?:lost|lost\s+access\s+to|new)\s+(?:my\s+)?(?:phone\s+with\s+)?(?:2fa|two[- ]factor|mfa|"
    r"authenticator)|(?:2fa|two[- ]factor|mfa|authenticator)\s+(?:\w+\s+){0,2}(?:lost|"
    r"not\s+working|broken|doesn'?t\s+work)|"
    r"forg(?:ot|otten)\s+(?:my\s+)?(?:password|passcode|pin|login|username)|"
    r"(?:don'?t|do\s+not|can'?t)\s+(?:know|remember)\s+(?:what\s+)?(?:my\s+)?"
    r"(?:password|passcode|pin)|"
    r"(?:account|acct|login|profile)\s+(?:is\s+|has\s+been\s+|was\s+|got\s+)?(?:locked|blocked|"
    r"suspended|frozen|disabled|deactivated|restricted)|"
    r"(?:pin|passcode)\s+(?:is\s+|has\s+been\s+|was\s+|got\s+)?(?:locked|blocked)|"
    r"(?:hold|freeze|block)\s+on\s+my\s+" + _ACCOUNT + r"|"
    r"(?:too\s+many|exceeded\s+the\s+number\s+of)\s+(?:\w+\s+)?attempts|"
    r"(?:can'?t|cannot|unable\s+to|couldn'?t)\s+(?:verify|prove)\s+my\s+identity|"
    r"identity\s+(?:check|verification)\s+(?:failed|(?:was\s+|is\s+|keeps\s+(?:getting\s+|"
    r"being\s+)?)?(?:rejected|declined|refused|not\s+accepted))"
)
_PAYMENT = _rx(
    r"(?<!get\s)(?<!be\s)(?:charged|billed|debited)\s+(?:me\s+)?(?:twice|two\s+times|"
    r"three\s+times|double)|double[- ]?(?:charged|billed|charge|payment)|overcharg(?:ed|ing)|"
    r"duplicate\s+(?:charges?|payments?|transactions?)|"
    r"(?:charge|payment|transaction)\s+(?:\w+\s+)?(?:shows?|appears?)\s+(?:up\s+)?twice|"
    r"same\s+(?:charge|payment|transaction)\s+twice|"
    r"(?:received|got|gave\s+me|dispensed|came\s+out\s+with)\s+(?:the\s+)?wrong\s+amount|"
    r"(?:atm|machine)\s+(?:took|swallowed|ate|kept|retained)|"
    r"(?:took|swallowed|ate|kept)\s+my\s+card|"
    r"(?:money|payment|funds|transfer)\s+(?:\w+\s+)?(?:disappeared|vanished|never\s+arrived)"
)
_FINANCIAL = _rx(
    r"charge\s*backs?|dispute\s+(?:a|the|this|that|my)\s+(?:\w+\s+)?(?:charge|payment|"
    r"transaction|invoice|bill)|(?:invoice|bill|billing|vat|tax)\s+(?:\w+\s+)?(?:dispute|"
    r"is\s+wrong|error|mistake|incorrect)|(?:wrong|incorrect)\s+(?:vat|tax|invoice)|"
    r"(?:vat|tax)\s+(?:\w+\s+)?(?:charged|applied)\s+(?:wrongly|incorrectly|twice)|"
    r"(?:bank|card\s+issuer)\s+to\s+(?:dispute|reverse)"
)
_POLICY_CUES: tuple[_Cue, ...] = (
    _Cue("legal", _LEGAL, 0.9),
    _Cue("compliance", _COMPLIANCE, 0.85),
    _Cue("security", _SECURITY, 0.9, negatable=False),
    _Cue("account_access", _ACCOUNT_ACCESS, 0.75, negatable=False),
    _Cue("payment", _PAYMENT, 0.7, negatable=False),
    _Cue("financial", _FINANCIAL, 0.8, negatable=False),
)
_POLICY_DETAILS = MappingProxyType({
    "legal": "Customer mentions legal action or a lawyer",
    "compliance": "Data-protection or compliance request",
    "security": "Possible fraud, theft or account compromise",
    "account_access": "Customer has lost access to their account",
    "payment": "Payment taken or handled wrongly",
    "financial": "Formal dispute over a charge, invoice or tax",
})

# ---- high_value -------------------------------------------------------------------------------
# Statements that money is owed or has not arrived ("haven't received my refund"): never negated.
_REFUND_OWED = _rx(
    r"(?:where\s+is|waiting\s+(?:for|on)|still\s+no|never\s+(?:got|received)|(?:haven'?t|"
    r"have\s+not|hasn'?t|has\s+not|didn'?t|did\s+not|not)\s+(?:yet\s+)?(?:received|got|gotten|"
    r"seen|get))\s+(?:my|the|a|our|any)\s+refund|"
    r"refund\s+(?:\w+\s+)?(?:has\s*n'?t|has\s+not|is\s+not|isn'?t|not|never|still)\s+(?:yet\s+)?"
    r"(?:arrived|received|showing|shown|showed|come|appeared|processed|here|there)|"
    r"missing\s+(?:my\s+)?refund"
)
# Demands for money back: negatable ("I don't want a refund, just a replacement").
_REFUND_DEMAND = _rx(
    r"(?:want|need|demand|deserve|expect|get|getting)\s+(?:all\s+of\s+)?(?:my|our|the)\s+"
    r"money\s+back|(?:my|our)\s+money\s+back|money\s+back(?!\s+guarantee)\s*(?:now|immediately|"
    r"asap|please|!)|refund\s+(?:me|us)|(?:issue|process|give|send)\s+(?:me|us)\s+"
    r"(?:a|my|the|our)\s+refund|(?:want|need|demand|expect|request(?:ing)?|asking\s+for)\s+"
    r"(?:a|my|an\s+immediate|a\s+full|full|our|the)\s+refund|"
    r"(?:get|claim|receive|request)\s+a\s+refund\s+(?:for|on)\s+(?:my|the|this|something|"
    r"an?\s+(?:item|order|purchase))|(?:reimburse|compensate)\s+(?:me|us)"
)
_CHURN = _rx(
    r"(?:cancel|close|terminate|deactivate|delete|end|stop|quit)\s+(?:my|our)\s+(?:\w+\s+)?"
    r"(?:subscription|account|membership|plan|contract|service|licen[cs]e|renewal|workspace)|"
    r"(?:cancel(?:l?ing)?|closing|terminating|deactivating|deleting|ending)\s+(?:my|our)\s+"
    r"(?:\w+\s+)?(?:subscription|account|membership|plan|contract|service|licen[cs]e)|"
    r"(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?)\s+(?:over\s+)?to\s+(?:a\s+|another\s+)?"
    r"(?:competitor|different\s+provider|another\s+(?:provider|company|bank|vendor|service))|"
    r"take\s+(?:my|our)\s+business\s+elsewhere|"
    r"(?:find|look\s+for|found)\s+(?:a\s+|another\s+)(?:new\s+)?(?:provider|company|bank|vendor|"
    r"supplier|service)|"
    r"(?:i'?m|we'?re|i\s+am|we\s+are)\s+(?:leaving|switching\s+(?:providers?|banks?|companies|"
    r"vendors?|away|over)|moving\s+on)\s*(?:[.!]|$|for\s+good)|"
    r"(?:don'?t|do\s+not)\s+(?:want|need)\s+(?:your|this)\s+(?:service|product|subscription)\s+"
    r"any\s*more"
)
_HIGH_VALUE_CUES: tuple[_Cue, ...] = (
    _Cue("refund_dispute", _REFUND_OWED, 0.8, negatable=False),
    _Cue("refund_dispute", _REFUND_DEMAND, 0.8, negatable=True),
    _Cue("churn", _CHURN, 0.8, negatable=True),
)
_HIGH_VALUE_DETAILS = MappingProxyType({
    "refund_dispute": "Customer wants money back",
    "churn": "Customer wants to cancel or leave",
})
# Information questions about a policy: "what is your refund policy?" is not a dispute.
_POLICY_QUESTION = _rx(
    r"(?:refund|return|cancell?ation|money[- ]back)\s+(?:policy|policies|terms|process|period|"
    r"window|rules|guarantee)|(?:do|does)\s+(?:you|your\s+\w+)\s+(?:offer|give|do|provide|allow|"
    r"accept|support)|(?:is|are)\s+(?:it|they|\w+)\s+refundable|how\s+(?:long|many\s+days)\s+"
    r"(?:does|do|will)\s+(?:a\s+|the\s+|my\s+)?refunds?"
)
_FIRST_PERSON = re.compile(r"(?<![\w'])(?:my|me|our|us)(?![\w'])", _FLAGS)

# ---- human_requested --------------------------------------------------------------------------
_CALL_ME_NEXT = (r"(?=\s*(?:[.!?,;)]|$|back|on\s|at\s|asap|please|now|today|tomorrow|when|"
                 r"as\s+soon|regarding|about|to\s+discuss|urgently|immediately|\+?\d))")
_HUMAN = _rx(
    r"(?:talk|speak|chat|get|put\s+me\s+through|connect\s+me|transfer\s+me)\s+(?:to|with)\s+"
    r"(?:a|an|some|your|any|one\s+of\s+your)?\s*(?:real|actual|live|human|proper|"
    r"customer\s+service)?\s*(?:person|people|human(?:\s+being)?|agent|representative|rep|"
    r"operator|someone|somebody|anyone|anybody|manager|supervisor|staff(?:\s+member)?|employee)|"
    r"(?:want|need|get\s+me|give\s+me)\s+(?:a|an)\s+(?:real\s+|live\s+|actual\s+)?(?:human|"
    r"person|agent|representative|operator)(?!\s+(?:to\s+sign|who\s+can\s+sign))|"
    r"(?:real|actual|live)\s+(?:person|human|agent)\s*(?=please|now|asap|!|\.|$)|"
    r"human\s+(?:please|agent|support)|"
    r"^\W*(?:a\s+|an?\s+)?(?:customer\s+service\s+|live\s+|human\s+|real\s+)?"
    r"(?:representative|agent|human|operator)\W*$|(?:representative|agent|operator)\s+please|"
    r"(?<!do\syou\s)(?<!tell\syou\sto\s)(?:call|phone|ring)\s+me" + _CALL_ME_NEXT + r"|"
    r"give\s+me\s+a\s+(?:call|ring)|(?:can|could|will|would)\s+(?:someone|somebody|anyone|"
    r"an?\s+agent)\s+(?:please\s+)?(?:call|contact|phone|ring)|"
    r"escalate\s+(?:this|my|it)|(?:your|a)\s+(?:manager|supervisor)|"
    r"not\s+(?:a|another|this|your)\s+(?:bot|robot|machine|chatbot)|"
    r"stop\s+(?:the\s+)?(?:bot|robot)|no\s+more\s+bots?"
)
_HUMAN_CUES: tuple[_Cue, ...] = (_Cue("human_requested", _HUMAN, 0.95),)
# Phrases whose negator belongs to the cue: they must not cancel themselves.
_SELF_NEGATING_HUMAN = re.compile(r"not\s+(?:a|another|this|your)\s+(?:bot|robot|machine|"
                                  r"chatbot)", _FLAGS)

# ---- emotional: cue families ------------------------------------------------------------------
_HOSTILE = _rx(
    r"sucks?|suck(?:ed|ing)|pathetic|bull(?:shit)?|jackass(?:es)?|idiot(?:s|ic)?|moron(?:s|ic)?|"
    r"stupid|clowns?|amateur(?:s|ish)?|despise|hate|loathe|ridiculous|unacceptable|"
    r"disgrace(?:ful)?|disgusting|appall(?:ed|ing)|atrocious|outrageous|incompeten(?:t|ce)|"
    r"useless|worst|terrible|horrible|horrendous|awful|dreadful|rude(?:ly|ness)?|"
    r"(?:is|'s|was|what|such|total|complete|absolute|like)\s+(?:a\s+)?joke|"
    r"scam(?:med|mers?)?|rip[- ]?off|ripped\s+off|shameful|shame\s+on|lousy|"
    r"crap(?:py)?|shit(?:ty)?|bs|fuck(?:ing|ed)?|f\*+\w*|wtf|smh|ugh+|"
    r"nightmare|fed\s+up|sick\s+of|tired\s+of|furious|livid|pissed(?:\s+off)?|angry|"
    r"annoy(?:ed|ing)|frustrat(?:ed|ing|ion)|infuriat(?:ed|ing)|disappoint(?:ed|ing|ment)|"
    r"upset|unprofessional|unhelpful(?:ness)?|unreliable|unfair|mediocre|epic\s+fail|"
    r"fail(?:ed|s)?\s+(?:again|me|us)|lie[ds]?|lying|liars?|clueless|hopeless|"
    r"inexcusable|no\s+excuse|embarrassing|laughable|insult(?:ing)?|abysmal|absurd|egregious|"
    r"shambles|fiasco|mess(?:ed)?\s+up|screw(?:ed)?\s+(?:up|over|me|us)|poor(?:ly)?|"
    r"not\s+(?:happy|impressed|satisfied|pleased|cool|ok|okay|good|great|acceptable|fair|"
    r"helpful|nice|right|funny|amused|fun)|non[- ]?helpful|non[- ]?existent|"
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
    r"ignor(?:ed|ing|es)|unanswered|unreturned|not\s+(?:one|a\s+single)\s+(?:reply|response|"
    r"call|email|person|agent)|hung\s+up|hang(?:s)?\s+up|disconnect(?:ed|s|ing)|"
    r"cut\s+(?:me\s+)?off|kick(?:ed|s)?\s+(?:me\s+)?(?:off|out)|left\s+on\s+read|"
    r"(?:still|been|keep|kept)\s+waiting|waited|please\s+(?:respond|reply|answer|get\s+back)|"
    r"respond\s+to\s+(?:me|my|us|our)|(?:agents?|lines?|reps?|representatives?)\s+(?:are\s+)?"
    r"(?:all\s+)?busy|busy\s+signal|wait(?:ing)?\s+(?:time|times|list)|"
    r"long\s+(?:wait|waits|line|lines|queue|queues)|queue\s+for"
)
_THREAT_TO_LEAVE = _rx(
    r"never\s+(?:again|(?:be\s+)?(?:using|use|buying|buy|ordering|order|booking|book|"
    r"shopping|shop|coming\s+back|recommend(?:ing)?|choose|choosing|return(?:ing)?)\s+"
    r"(?:with\s+|from\s+|to\s+)?(?:you|your|this|again|here))|#?neveragain|"
    r"never\s+(?:want|going)\s+to\s+(?:\w+\s+){1,4}again|"
    r"(?:won'?t|will\s+not|wouldn'?t)\s+(?:ever\s+)?(?:be\s+)?(?:using|use|buying|buy|ordering|"
    r"order|booking|book|shopping|shop|coming\s+back|recommending|recommend|choosing|choose|"
    r"returning|renewing|renew)\s+(?:with\s+|from\s+)?(?:you|your|this|again)|"
    r"take\s+(?:my|our)\s+(?:business|money|custom)\s+elsewhere|"
    r"(?:i'?m|we'?re|i\s+am|we\s+are)\s+done\s+with\s+you|"
    r"(?:lost|losing)\s+(?:a|another|me\s+as\s+a|my|our)\s+(?:loyal\s+)?(?:customer|business)|"
    r"you'?(?:ve|ll)\s+lost\s+(?:me|us)|last\s+time\s+i(?:'?ll|\s+will)?\s+(?:use|buy|order|"
    r"book|shop)|"
    r"(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?)\s+(?:back\s+)?to\s+(?:a\s+|another\s+)?"
    r"(?:competitor|different\s+(?:provider|company|bank|service|vendor))|"
    r"(?:i'?ll|i\s+will|we'?ll|we\s+will|going\s+to|gonna)\s+(?:be\s+)?(?:cancel(?:l?ing)?|"
    r"leav(?:e|ing)|switch(?:ing)?|tak(?:e|ing)\s+my\s+business)|#switching\w*"
)
_PUBLIC = _rx(
    r"(?:post|posting|share|sharing|tweet|tweeting|put|putting|write|writing|blog|blogging)\s+"
    r"(?:this|it|about\s+(?:this|it|you)|everything)\s+(?:on|to|all\s+over)\s+\w+|"
    r"(?:leave|leaving|write|writing|post|posting|give|giving)\s+(?:a|an|you\s+a)?\s*"
    r"(?:bad|negative|terrible|honest|scathing|1[- ]?star|one[- ]?star|zero[- ]?star)\s+reviews?|"
    r"(?:bad|negative|1[- ]?star|one[- ]?star|zero[- ]?star)\s+reviews?|trustpilot|yelp|"
    r"better\s+business\s+bureau|bbb|"
    r"(?:go|going|went|contact(?:ing)?|call(?:ing)?|tell(?:ing)?|alert(?:ing)?|take|taking|"
    r"bring(?:ing)?|talk(?:ing)?)\s+(?:this\s+|it\s+)?to\s+(?:the\s+)?(?:press|media|news|"
    r"papers|journalists?|reporters?)|go(?:ing)?\s+public|"
    r"(?:tell|telling|warn|warning)\s+(?:everyone|everybody|all\s+my\s+(?:friends|followers)|"
    r"my\s+followers|others)|go(?:ing|es)?\s+viral|great\s+story\s+for"
)
_SARCASM = _rx(
    r"thanks?\s+(?:you\s+)?for\s+nothing|oh\s+wait|(?:yeah|yea|yah|ya)\s+right|"
    r"(?<!thank\s)(?<!thanks\s)(?<!you\s)so\s+much\s+for|#not|said\s+no\s+one|"
    r"surprise\s*,?\s+surprise|do\s+i\s+win|feel\s+the\s+love|(?:of\s+)?course\s+not|"
    r"thanks?\s+a\s+lot\s*(?:\.{2,}|!|$)|thanks?\s+(?:again\s+)?for\s+(?:the\s+)?(?:delay|wait|"
    r"runaround|hassle|trouble|ruining|wasting|losing|making\s+me\s+wait|leaving\s+me|"
    r"ignoring|nothing)"
)
_REGRET = _rx(
    r"regret(?:s|ted|ting)?|sorry\s+i\s+(?:ever\s+)?(?:chose|picked|used|bought|booked|signed)|"
    r"should(?:\s+have|'ve|\s+of)\s+(?:just\s+)?(?:\w+\s+)?(?:gone|chosen|used|stayed|taken|"
    r"picked|bought|booked|known|listened|read)|"
    r"wish\s+i\s+(?:had|hadn'?t|never|didn'?t)|last\s+time\s+i|never\s+should\s+have"
)
_CRITICISM = _rx(
    r"(?<!do\s)(?<!did\s)(?<!would\s)(?<!will\s)(?<!if\s)you\s+(?:really\s+|guys\s+|people\s+)?"
    r"(?:should|need\s+to|have\s+to|ought\s+to|must)\s+(?:really\s+)?(?:fix|hire|get|improve|"
    r"have|train|staff|do|stop|learn|start|invest|update|figure|know|make|not)|"
    r"(?:i|we)\s+(?:was|were|had\s+been|have\s+been)\s+(?:\w+\s+)?(?:told|promised|assured)|"
    r"not\s+what\s+(?:you|your\s+\w+|i\s+was)\s+(?:\w+\s+){0,3}(?:said|told|promised)|"
    r"that'?s\s+a\s+lie|do\s+better|get\s+(?:it|your\s+act)\s+together|step\s+(?:it\s+)?up|"
    r"not\s+liv(?:e|ing)\s+up|not\s+worth|(?:under|un)[- ]?appreciated|"
    r"what\s+kind\s+of\s+(?:service|company|support|business|customer\s+service)|"
    r"(?:is\s+this|that'?s|this\s+is)\s+how\s+you\s+treat|way\s+to\s+treat|"
    r"treat(?:ed|s|ing)?\s+(?:\w+\s+){0,3}(?:poorly|badly|like\s+(?:dirt|garbage|crap|"
    r"criminals|cattle))|did\s+nothing|nothing\s+(?:was\s+|has\s+been\s+|is\s+being\s+)?done|"
    r"(?:not|" + _NT + r")\s+(?:my|our|his|her|their)\s+fault|"
    r"(?:not|" + _NT + r")\s+(?:even\s+)?(?:trying|helping|helpful|listening|responding|answering)|"
    r"(?:i|we)\s+need\s+you\s+to\s+(?:fix|sort|resolve|do)|"
    r"(?:it|this|that|you|there|i)\s+(?:shouldn'?t|should\s+not)\s+(?:take|have|be|cost|need)|"
    r"(?:too|way\s+too)\s+(?:long|slow|expensive|late)|"
    r"(?:still\s+)?(?:no|zero)\s+(?:apology|compensation|explanation|accountability)|"
    r"complain(?:t|ts|ing|ed)?|(?:could|can)\s+at\s+least|the\s+least\s+you\s+could|"
    r"not\s+even|expect(?:ed)?\s+(?:better|more)|"
    r"(?:could|should|would)(?:'ve|\s+have)\s+(?:at\s+least\s+)?(?:told|informed|notified|"
    r"warned|let\s+(?:me|us)\s+know|called|emailed|announced|been\s+(?:told|informed|nice))"
)
_RHETORICAL = _rx(
    r"really\s*\?+|seriously\s*[?!.]*|are\s+you\s+(?:kidding|serious|joking)|kidding\s+me|"
    r"you\s+(?:have|'ve|got)\s+(?:got\s+)?to\s+be\s+kidding|how\s+(?:hard|difficult)\s+"
    r"(?:is\s+it|can\s+it\s+be)|how\s+is\s+(?:this|that|it)\s+(?:ok|okay|acceptable|possible|"
    r"fair|legal|right)|what'?s\s+the\s+point|what\s+is\s+going\s+on|what\s+the\s+hell|"
    r"how\s+(?:much\s+)?longer|how\s+come|why\s+(?:on\s+earth|the\s+hell|would\s+you|"
    r"should\s+i\s+have\s+to|is\s+it\s+so\s+(?:hard|difficult))|"
    r"anyone\s+(?:there|home|listening)|hello\s*\?+|"
    r"(?:how|what)\s+(?:am|are|is)\s+(?:i|we|my\s+\w+)\s+supposed\s+to"
)
_NEG_HASHTAG = re.compile(
    r"#\w*(?:fail|suck|worst|terrible|awful|horrible|bad|poor|shame|angry|mad|disappoint|"
    r"frustrat|annoy|ridiculous|unacceptable|nothanks|notcool|notok|notnice|broken|lost|wtf|"
    r"fml|ugh|smh|rude|joke|scam|hate|boycott|switching|nohelp|noservice|delay|cancel|stuck|"
    r"stranded|neveragain|tired|sick|waiting|wait|fix|help)\w*",
    _FLAGS,
)
# -- fact families: what happened, rather than how the customer feels --
_FAILURE = _rx(
    r"delay(?:ed|s)?|late|forg(?:ot|otten)|where\s+(?:is|are)\s+(?:my|our)|"
    r"(?:was|were|got|been|is|are|you|they|has|have|had)\s+(?:\w+\s+)?cancell?ed|"
    r"cancell?ed\s+(?:my|our|the|on\s+(?:me|us))|(?:order|booking|appointment|reservation|"
    r"delivery|meeting|subscription|ticket)\s+cancell?ed|"
    r"cancell?ations?|stranded|stuck|missed|lost|missing|misplaced|damaged|broken|"
    r"broke|crash(?:ed|es|ing)?|outage|glitch(?:es|y)?|error(?:s)?|bug(?:gy)?|down\s+again|"
    r"(?:is|was|been|went)\s+down|"
    r"(?:not|" + _NT + r"|never)\s+(?:\w+\s+)?(?:work|working|worked|arrive[d]?|arriving|"
    r"show(?:ed|n)?\s+up|load(?:ing)?|open(?:ing)?|here|there|received|fixed|resolved|sorted|"
    r"refunded)|stopped\s+working|no\s+longer\s+(?:works?|working|available|loads?)|"
    r"fail(?:ed|s|ing|ure)?|keeps?\s+(?:\w+ing)|"
    r"overcharg(?:ed|ing)|wrong|mistake|denied|refused|"
    r"won'?t\s+(?:let|allow|accept|work|refund|help|load)|wouldn'?t\s+(?:let|allow|help)|"
    r"(?:can'?t|cannot|unable\s+to|couldn'?t)\s+(?:\w+\s+)?(?:find|track|book|check|get|use|"
    r"access|change|log|see|load|open|pay|connect|make|do|even)|"
    r"charged|fees?|penali[sz](?:ed|e)|downgrade[d]?|"
    r"dirty|smell(?:s|y)?|cold|uncomfortable|cramped|leak(?:ing|ed|s)?|spill(?:ed)?|"
    r"(?:ran|run)\s+out|sold\s+out|not\s+(?:available|enough|provided)|"
    r"without\s+(?:any\s+)?(?:notice|warning|explanation|notification)|"
    r"(?:was|were|is|are|am)\s+supposed\s+to|impossible|what\s+happened\s+to\s+(?:my|our|the)|"
    r"(?:please\s+)?fix\s+(?:this|it)|(?:i|we)\s+(?:have|had)\s+to\s+(?:wait|pay|call|drive|"
    r"sleep|sit|stand|spend|rebook|buy|start\s+over|go\s+back)|"
    r"nothing\s+(?:works|worked|happened|has\s+changed|yet|at\s+all)|got\s+nothing"
)
_PERSIST = _rx(
    r"still\s+(?:no|not|nothing|waiting|wait|haven'?t|hasn'?t|havent|hasnt|can'?t|cannot|"
    r"won'?t|doesn'?t|don'?t|didn'?t|isn'?t|aren'?t|unable|stuck|sitting|on\s+hold|broken|"
    r"missing|charged|showing|without|delayed|down|nobody|no\s*one|trying|having|getting)|"
    r"(?<!thanks\s)(?<!thank\s)(?<!you\s)(?<!say\s)(?<!repeat\s)(?<!that\s)again|yet\s+again|"
    r"(?:2nd|second|3rd|third|4th|fourth|5th|fifth|\d+th|nth)\s+time|twice|x[2-9]|[2-9]x|"
    r"(?:multiple|several|so\s+many|countless|numerous|three|four|five|ten)\s+(?:times|calls|"
    r"emails|attempts)|\d+\s+(?:calls|emails|attempts)|\d+\s+times\s+(?:now|already|and|today|"
    r"this)|every\s+(?:time|single\s+time)|how\s+many\s+(?:more\s+)?times|"
    r"keep\s+(?:asking|calling|getting|trying|telling|being|having)|for\s+days|for\s+weeks|"
    r"all\s+(?:day|night|morning|week)|already\s+(?:told|asked|called|explained|sent|emailed|"
    r"contacted|reported|waited)|(?:told|asked|reported|explained)\s+(?:you\s+)?(?:this\s+)?"
    r"(?:before|already|twice)|over\s+and\s+over|forever|ages|(?:yesterday|last\s+week)\s+and\s+"
    r"(?:today|still)"
)
_AMOUNT_OF_TIME = (
    r"(?:\d+(?:\.\d+)?\+?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
    r"several|many|multiple|few|couple\s+of|half\s+an?)\s*(?:\+\s*)?(?:more\s+)?"
    r"(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?)"
)
# An amount of time only counts as waiting when the words around it say so ("an hour early" is
# good news, "on hold for an hour" is not).
_WAITING_TIME = _rx(
    r"(?:waited|waiting|wait|hold|held|sat|sitting|stuck|queued|wasted|spent|took|taking|takes|"
    r"late|delayed|another)\s+(?:(?:for|about|over|almost|nearly|another|more\s+than|at\s+least|"
    r"an\s+extra)\s+)?" + _AMOUNT_OF_TIME + r"|"
    r"(?:for|after)\s+(?:over|more\s+than|almost|nearly|another|at\s+least)\s+" + _AMOUNT_OF_TIME
    + r"|" + _AMOUNT_OF_TIME + r"\s+(?:long\s+)?(?:late|delay(?:ed)?|wait(?:ing)?|on\s+hold|"
    r"of\s+(?:waiting|hold|my)|later|now|already|and\s+(?:counting|still|nothing|no)|"
    r"in\s+(?:line|a\s+queue)|queue|line|hold|behind|stuck)|(?:for|after)\s+hours|"
    r"hours\s+(?:later|now|late)"
)
_DISTRESS = _rx(
    r"(?<!the\s)(?<!for\s)(?<!all\s)(?<!your\s)help\s*!+|please\s+help|help\s+(?:me|us)\s*!|"
    r"urgent(?:ly)?|asap|desperate(?:ly)?|emergency|panick?(?:ing|ed)?|worried|"
    r"stress(?:ed|ful)?|tears|crying|cried|exhausted|miserable|ruin(?:ed|s|ing)?|"
    r"wast(?:e|ed|ing)\s+(?:of\s+)?(?:my|our|time|money|an?)|wasted|inconvenien(?:ce|ced|t)|"
    r"hassle|headache|no\s+sleep|all\s+night|sad|unhappy"
)
_MONEY_BACK = _rx(
    r"refund(?:s|ed)?|money\s+back|compensat(?:e|ion|ed)|reimburs(?:e|ed|ement)|"
    r"credit\s+(?:me|back)|owe\s+(?:me|us)|pay\s+for\s+(?:my|our|this|the)|"
    r"(?:i|we)\s+paid\s+(?:for|extra)"
)
_WHY = _rx(r"why")
# Friction: general words of a rough experience, weaker than a failure.
_FRICTION = _rx(
    r"issues?(?!\s+(?:a|an|the|me|us|my|your|refunds?|cards?|tickets?))|problems?|trouble|"
    r"(?:is|are|was|so|very|too|really|super|painfully|extremely|incredibly)\s+slow|"
    r"slow(?:er)?\s+(?:service|response|responses|delivery|shipping|support|internet|connection|"
    r"loading|app|site|website)|expensive|overpriced|confus(?:ed|ing|ion)|"
    r"complicated|difficult|hard\s+to|waiting|sitting|standing|stood|attitude|"
    r"inconsistent|worse|annoyance|unclear|excuses?|apolog(?:y|ies|ize|ise)"
)
# A negated statement ("it doesn't", "no one told us", "I never got"): an amplifier, because
# "I'm not sure" or "I don't have a card yet" are not complaints by themselves.
_NEGATED_STATEMENT = _rx(
    r"(?:" + _NT + r"|not|never|nothing|no)\s+(?!problem|worries|rush|need|thanks|doubt|matter|"
    r"idea|way\b|sure|bad|wonder|longer|more|less|later|one\s+else|fees?\b|"
    r"(?:\w+\s+)?(?:sure|certain))\w+"
)
# -- conditional: praise that is sarcastic only next to a complaint ("great job losing it") --
_IRONIC_PRAISE = _rx(
    r"(?:great|good|nice|fantastic|awesome|amazing|stellar|excellent|brilliant|wonderful|"
    r"superb|outstanding)\s+(?:job|work|service|going|one|move|way\s+to)|well\s+done|"
    r"keep\s+up\s+the\s+\w+\s+work|just\s+(?:great|perfect|wonderful|lovely|brilliant|"
    r"fantastic|awesome)|love\s+(?:how|that|it\s+when|being|waiting|sitting|the\s+fact)|"
    r"(?:gotta|got\s+to|have\s+to|you\s+have\s+to)\s+love|thanks?\s+(?:again\s+)?for\s+\w+ing|"
    r"what\s+a\s+(?:joke|mess|way|surprise|shock|great|wonderful|treat)|apparently|i\s+guess|"
    r"shocking|the\s+best\s+you\s+can|is\s+that\s+(?:it|all)|that'?s\s+it\s*\?|"
    r"(?:thanks|thank\s+you)\s*(?:\.{2,}|!)?\s*$|(?:awesome|great|perfect)\s*[.!]*\s*$|wow"
)
# -- amplifiers: only next to other negative evidence --
_SHOUT = re.compile(r"(?<![@#\w])[A-Z][A-Z']{3,}(?![\w])")
_ACRONYMS = frozenset({"ASAP", "HTTP", "HTTPS", "FAQ", "HTML", "JSON", "NYSE", "NASA", "IBAN",
                       "SWIFT", "GDPR", "CCPA", "HIPAA", "VISA", "SEPA", "PAYPAL", "IPHONE"})
_EXCLAIM = re.compile(r"!{2,}|\?!|!\?|\?{2,}")
_ELONGATED = re.compile(r"\b\w*([a-zA-Z])\1{2,}\w*\b")
_NEG_EMOJI = re.compile(
    r"(?<!\S)(?:>?:-?[(/\\\[|]|:'\(|-_-|D:)(?!\S)|"
    "[\U0001F620\U0001F621\U0001F624\U0001F92C\U0001F62D\U0001F622\U0001F61E\U0001F629"
    "\U0001F62B\U0001F612\U0001F644\U0001F44E\U0001F611\U0001F610\U0001F615\U0001F61F"
    "\U0001F625\U0001F630\U0001F480]"
)

_COMPLAINT, _CONDITIONAL, _AMPLIFIER = "complaint", "conditional", "amplifier"


@dataclass(frozen=True, slots=True)
class _Family:
    """A cue family of the emotion score.

    ``fact`` families report what happened: their words are hidden from VADER (so a failure word
    VADER also scores is counted once), they honour negation, and inside a plain question they
    count at :data:`_QUESTION_DAMPING` of their weight.
    """

    name: str
    pattern: re.Pattern[str] | None
    weight: float
    role: str = _COMPLAINT
    fact: bool = False
    in_questions: bool = False   # damped inside a question even though not a fact family

    @property
    def damped_in_questions(self) -> bool:
        """Whether a match inside a question sentence counts at the reduced weight."""
        return self.fact or self.in_questions


_EMOTION_FAMILIES: tuple[_Family, ...] = (
    _Family("hostile", _HOSTILE, 0.45),
    _Family("unresponsive", _UNRESPONSIVE, 0.40),
    _Family("threat_to_leave", _THREAT_TO_LEAVE, 0.50),
    _Family("public_escalation", _PUBLIC, 0.40),
    _Family("sarcasm", _SARCASM, 0.40),
    _Family("regret", _REGRET, 0.35),
    _Family("criticism", _CRITICISM, 0.30, in_questions=True),
    _Family("rhetorical", _RHETORICAL, 0.30),
    _Family("negative_hashtag", _NEG_HASHTAG, 0.35),
    _Family("failure", _FAILURE, 0.30, fact=True),
    _Family("waiting_time", _WAITING_TIME, 0.30, fact=True),
    _Family("persistence", _PERSIST, 0.25, fact=True),
    _Family("distress", _DISTRESS, 0.25, fact=True),
    _Family("money_back", _MONEY_BACK, 0.25, fact=True),
    _Family("why_question", _WHY, 0.15, fact=True),
    _Family("friction", _FRICTION, 0.20, fact=True),
    _Family("negated_statement", _NEGATED_STATEMENT, 0.20, role=_AMPLIFIER, fact=True),
    _Family("ironic_praise", _IRONIC_PRAISE, 0.30, role=_CONDITIONAL),
    _Family("shouting", None, 0.25, role=_AMPLIFIER),
    _Family("exclamation", _EXCLAIM, 0.15, role=_AMPLIFIER),
    _Family("upset_emoji", _NEG_EMOJI, 0.20, role=_AMPLIFIER),
    _Family("elongation", _ELONGATED, 0.15, role=_AMPLIFIER),
)
# Words hidden from VADER: those of fact families (distress words are feelings and negations
# are VADER's own business, so those two stay) and of policy cues.
_MASKED_FAMILIES = tuple(f.name for f in _EMOTION_FAMILIES
                         if f.fact and f.name not in ("distress", "negated_statement"))

# Two or more of these inside questions make a complaint phrased as a question.
_PROBLEM_FACTS = frozenset({"failure", "waiting_time", "persistence", "money_back", "friction",
                            "distress"})
_DURATION_FACTS = frozenset({"waiting_time", "persistence"})
# Generic families: they never count words a more specific family already matched.
_GENERIC_FAMILIES = frozenset({"friction", "negated_statement"})
_QUESTION_DAMPING = 0.15       # a fact cue inside a plain question keeps 15 % of its weight
_QUESTION_NEGATIVE_KEPT = 0.5  # ... and a message made only of questions half its VADER negativity
_VADER_ALONE_MARGIN = 0.2      # without any complaint cue, VADER alone is shifted up by this
_PRAISE_FLOOR = 0.1            # next to a complaint, positive VADER keeps at least this share,
_PRAISE_SLOPE = 10.0           # ... shrinking with the complaint weight times (1 - praise)
_VADER_NEGATIVE = -0.05        # VADER's own convention for a negative text
_QUESTION_CUE_CAP = 0.04       # cue weight allowed when no complaint is stated outside questions

# ---- text structure ---------------------------------------------------------------------------
_QUESTION_START = re.compile(
    r"^\W*(?:@\w+\s+)*(?:hi|hey|hello|quick\s+question|question)?[,!:\s]*"
    r"(?:how|what|when|where|which|who|whom|whose|is|are|am|can|could|do|does|did|will|would|"
    r"should|shall|may|might|has|have|any|if|i\s+was\s+wondering|wondering|just\s+wondering|"
    r"please\s+(?:tell|let|advise|confirm)|pls)\b",
    _FLAGS,
)
_SENTENCE_SPAN = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")
_NON_WORD = re.compile(r"\W+")
_MENTION = re.compile(r"(?:^|(?<=\s))@\w+|https?://\S+")
_WORD = re.compile(r"[a-z0-9']+")

# ---- repeated complaints across history -------------------------------------------------------
_REPEAT_MARKER = _rx(
    r"again|still|(?:2nd|second|3rd|third|4th|fourth|\d+th)\s+time|already|"
    r"any\s+(?:update|news|word|answer|response|reply)|hello\s*\?+|anyone\s*\?+|"
    r"(?:as\s+)?i\s+(?:said|mentioned|asked|told\s+you)|same\s+(?:problem|issue|thing)|"
    r"keep\s+(?:asking|happening)|how\s+many\s+times|ping(?:ing)?|bump|follow(?:ing)?\s+up"
)
_COUNTED_REPEAT = _rx(
    r"(?:2nd|second|3rd|third|4th|fourth|5th|fifth|\d+th|nth)\s+time|"
    r"(?:multiple|several|so\s+many|countless|numerous|three|four|five|ten)\s+(?:times|calls|"
    r"emails|attempts)|\d+\s+(?:calls|emails|attempts)|how\s+many\s+(?:more\s+)?times|"
    r"already\s+(?:told|asked|called|explained|emailed|contacted|reported)|"
    r"(?:told|asked|reported|explained)\s+(?:you\s+)?(?:this\s+)?(?:before|already|twice)|"
    r"keep\s+(?:asking|calling|telling)|over\s+and\s+over|yet\s+again"
)
_STOPWORDS = frozenset(
    "a an the and or but if then so to of in on at for with from by about as is are was were be "
    "been being am i me my we our you your it its this that these those there here have has had "
    "do does did not no can could will would should just please hi hello hey thanks thank any "
    "what when where why how who which again still yet already get got up out into than too very "
    "all some more now today there's it's i'm i've don't can't won't im ive dont cant wont "
    "anyone someone update news".split()
)
_REPEAT_OVERLAP = 0.5   # share of the shorter message's content words found in the earlier one
_REPEAT_MIN_SHARED = 2


@dataclass(frozen=True, slots=True)
class _Hit:
    """One matched cue: its kind, the words matched and the cue's weight."""

    kind: str
    words: str
    weight: float


@dataclass(frozen=True, slots=True)
class _FamilyHit:
    """One emotional cue family found in a message."""

    name: str
    words: str
    weight: float
    role: str
    damped: bool
    span: tuple[int, int] = (0, 0)


# =============================================================================================
# Detectors
# =============================================================================================


class Detectors:
    """Offline detectors for policy risk, high value, emotion and requests for a human.

    Build one per process (or per rules reload): the VADER analyzer is constructed here and is
    not shared between instances. Methods do not mutate the instance, so one instance can serve
    concurrent requests.
    """

    def __init__(self, *, sentiment_threshold: float = DEFAULT_SENTIMENT_THRESHOLD) -> None:
        if not -1.0 <= sentiment_threshold <= 1.0:
            raise ValueError("sentiment_threshold must lie in -1..1")
        self.sentiment_threshold = sentiment_threshold
        self._vader = SentimentIntensityAnalyzer()

    # ------------------------------------------------------------------ public API
    def detect(self, conversation: Conversation) -> list[Signal]:
        """Every signal the newest message (and its history) raises.

        Order: human_requested, policy_risk, high_value, emotional; within a reason, in the order
        the cues are listed. An empty message raises nothing.
        """
        text = _normalise(conversation.text or "")
        if not text.strip():
            return []
        signals = self.human_requested(text=text)
        signals += self.policy_risk(text=text)
        signals += self.high_value(text=text)
        signals += self.emotional(conversation=conversation)
        return signals

    def sentiment(self, text: str) -> float:
        """Support-adjusted sentiment in -1..1 (VADER plus complaint cues; see the module doc)."""
        return self.explain_sentiment(text=text).score

    def vader(self, text: str) -> float:
        """Plain VADER compound score, for comparison and diagnostics."""
        return float(self._vader.polarity_scores(text)["compound"])

    def explain_sentiment(self, *, text: str) -> EmotionBreakdown:
        """The adjusted sentiment with its parts, so a card can say why a message read as upset.

        score = VADER of the message with fact words hidden (praise discounted next to a
        complaint; halved negativity when the message is only questions; shifted towards zero
        when no complaint cue backs it) minus the noisy-or of the cue weights, clipped to -1..1.
        """
        clean = _MENTION.sub(" ", _normalise(text))
        if not clean.strip():
            return EmotionBreakdown(0.0, 0.0, 0.0, (), False)
        matches = _scan(clean)
        compound = self.vader(_mask_facts(clean, matches))
        questions = _question_spans(clean)
        hits = _emotion_families(clean, matches, questions=questions,
                                 vader_negative=compound <= _VADER_NEGATIVE)
        cue = _noisy_or(h.weight for h in hits)
        complaint = _noisy_or(h.weight for h in hits if h.role == _COMPLAINT)
        stated = any(h.role == _COMPLAINT and not h.damped for h in hits)
        only_questions = _only_questions(clean, questions)
        adjusted = compound
        if compound > 0 and complaint > 0:
            # Praise next to a complaint is politeness or sarcasm: keep only part of it.
            # Strong praise survives a passing mention ("great staff during the delays").
            adjusted = compound * max(_PRAISE_FLOOR,
                                      1.0 - _PRAISE_SLOPE * complaint * (1.0 - compound))
        if not stated:
            # No complaint stated outside a question: problems a question merely mentions stay
            # within VADER's neutral band, and VADER alone must be clearly negative (topic
            # words such as "crime", "stop" or "die" make neutral requests score below zero).
            cue = min(cue, _QUESTION_CUE_CAP)
            if adjusted < 0:
                if only_questions:
                    adjusted *= _QUESTION_NEGATIVE_KEPT
                adjusted = min(0.0, adjusted + _VADER_ALONE_MARGIN)
        score = max(-1.0, min(1.0, adjusted - cue))
        return EmotionBreakdown(
            compound=compound, cue_weight=cue, score=score,
            families=tuple((h.name, h.words) for h in hits), question=only_questions)

    # ------------------------------------------------------------------ per reason
    def human_requested(self, *, text: str) -> list[Signal]:
        """The customer asks for a person, a call back or an escalation."""
        hits = _match_cues(_normalise(text), _HUMAN_CUES, self_negating=_SELF_NEGATING_HUMAN)
        if not hits:
            return []
        words = tuple(dict.fromkeys(h.words for h in hits))
        return [Signal(Reason.HUMAN_REQUESTED, "human_requested",
                       "Customer asked to speak to a person", words, hits[0].weight)]

    def policy_risk(self, *, text: str) -> list[Signal]:
        """Legal threats, data-protection requests, compromise, lost access, payment errors."""
        hits = _match_cues(_normalise(text), _POLICY_CUES)
        return _signals_by_kind(Reason.POLICY_RISK, hits, _POLICY_DETAILS)

    def high_value(self, *, text: str) -> list[Signal]:
        """Refund disputes and churn intent; questions about a refund policy do not count."""
        text = _normalise(text)
        hits = _match_cues(text, _HIGH_VALUE_CUES, hypothetical_off=True)
        if hits and _POLICY_QUESTION.search(text) and _only_questions(text, _question_spans(text)):
            hits = [h for h in hits if _FIRST_PERSON.search(h.words)]
        return _signals_by_kind(Reason.HIGH_VALUE, hits, _HIGH_VALUE_DETAILS)

    def emotional(self, *, conversation: Conversation) -> list[Signal]:
        """Anger (adjusted sentiment at or below the threshold), repeated complaints, public
        escalation and threats to leave."""
        text = _normalise(conversation.text or "")
        breakdown = self.explain_sentiment(text=text)
        found = dict(breakdown.families)
        signals: list[Signal] = []
        if breakdown.score <= self.sentiment_threshold:
            evidence = tuple(dict.fromkeys(words for _name, words in breakdown.families))
            evidence = evidence or ("(overall tone)",)
            signals.append(Signal(
                Reason.EMOTIONAL, "anger",
                f"Customer sounds upset (sentiment {breakdown.score:+.2f} <= "
                f"{self.sentiment_threshold:+.2f})",
                evidence, round(max(0.0, min(1.0, -breakdown.score)), 4)))
        repeated = _repeated_complaint(conversation.history, text, found)
        if repeated is not None:
            signals.append(repeated)
        if "public_escalation" in found:
            signals.append(Signal(Reason.EMOTIONAL, "public_escalation",
                                  "Customer threatens to go public (social media, reviews, press)",
                                  (found["public_escalation"],), 0.9))
        if "threat_to_leave" in found:
            signals.append(Signal(Reason.EMOTIONAL, "threat_to_leave",
                                  "Customer threatens to leave", (found["threat_to_leave"],), 0.85))
        return signals


# =============================================================================================
# Helpers
# =============================================================================================


def _normalise(text: str) -> str:
    """Straight apostrophes and quotes, so "didn’t" matches the same cues as "didn't"."""
    return text.translate(_QUOTES)


def _clause_before(text: str, start: int) -> str:
    """The last few words before ``start`` within the same clause."""
    before = text[max(0, start - 60):start]
    clause = _CLAUSE_BREAK.split(before)[-1]
    return " ".join(clause.split()[-_NEGATION_WINDOW_WORDS:])


def _negated(text: str, start: int) -> bool:
    """Whether a negator sits in the few words before ``start`` within the same clause."""
    return bool(_NEGATOR.search(_clause_before(text, start)))


def _match_cues(text: str, cues: Iterable[_Cue], *, hypothetical_off: bool = False,
                self_negating: re.Pattern[str] | None = None) -> list[_Hit]:
    """Every cue match in ``text`` that is not negated (nor hypothetical, when asked)."""
    hits: list[_Hit] = []
    for cue in cues:
        for match in cue.pattern.finditer(text):
            words = match.group(0)
            own_negation = self_negating is not None and self_negating.fullmatch(words)
            if cue.negatable and not own_negation and _negated(text, match.start()):
                continue
            if hypothetical_off and _HYPOTHETICAL.search(_clause_before(text, match.start())):
                continue
            hits.append(_Hit(cue.kind, words, cue.weight))
    return hits


def _signals_by_kind(reason: Reason, hits: list[_Hit],
                     details: MappingProxyType[str, str]) -> list[Signal]:
    """One signal per kind, evidence in match order without duplicates."""
    by_kind: dict[str, list[_Hit]] = {}
    for hit in hits:
        by_kind.setdefault(hit.kind, []).append(hit)
    return [Signal(reason, kind, details[kind], tuple(dict.fromkeys(h.words for h in kind_hits)),
                   max(h.weight for h in kind_hits))
            for kind, kind_hits in by_kind.items()]


def _noisy_or(weights: Iterable[float]) -> float:
    """1 - prod(1 - w): independent pieces of evidence that saturate towards 1."""
    remaining = 1.0
    for weight in weights:
        remaining *= 1.0 - weight
    return 1.0 - remaining


def _scan(text: str) -> dict[str, list[re.Match[str]]]:
    """Every match of every emotional family (by name), scanned once per message."""
    return {family.name: list(family.pattern.finditer(text))
            for family in _EMOTION_FAMILIES if family.pattern is not None}


def _mask_facts(text: str, matches: dict[str, list[re.Match[str]]]) -> str:
    """``text`` with fact words blanked, for VADER to read the tone only.

    Fact words are those of the fact families and of the policy cues ("stolen", "fraud",
    "charged twice"): the policy reason reports them; they say nothing of the customer's mood.
    """
    chars = list(text)
    spans = [m.span() for name in _MASKED_FAMILIES for m in matches[name]]
    spans += [m.span() for cue in _POLICY_CUES for m in cue.pattern.finditer(text)]
    for start, end in spans:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


def _question_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences that are plain questions (no '?!' or '!!' heat)."""
    spans = []
    for match in _SENTENCE_SPAN.finditer(text):
        sentence = match.group(0).strip()
        if not sentence or _EXCLAIM.search(sentence):
            continue
        if sentence.endswith("?") or _QUESTION_START.match(sentence):
            spans.append(match.span())
    return spans


def _only_questions(text: str, questions: list[tuple[int, int]]) -> bool:
    """Whether every sentence with a word in it is a plain question."""
    if not questions:
        return False
    outside = list(text)
    for start, end in questions:
        outside[start:end] = " " * (end - start)
    return not _NON_WORD.sub("", "".join(outside))


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    """Whether ``position`` falls in one of ``spans``."""
    return any(start <= position < end for start, end in spans)


def _emotion_families(text: str, matches: dict[str, list[re.Match[str]]], *,
                      questions: list[tuple[int, int]],
                      vader_negative: bool) -> list[_FamilyHit]:
    """The emotional cue families present in ``text``, with their effective weights.

    A fact family found only inside question sentences counts at a reduced weight, unless the
    questions pile up problems including a wait or a repeat ("why a 2 hour delay AND a fee
    again?"), a complaint phrased as a question. Generic families (friction, negated statement)
    do not count words another family already matched. Conditional families count only next to a
    complaint family; amplifiers only next to a complaint family or a negative VADER score.
    """
    found = [hit for family in _EMOTION_FAMILIES if family.name not in _GENERIC_FAMILIES
             if (hit := _family_hit(text, family, matches, questions)) is not None]
    taken = [hit.span for hit in found if hit.role == _COMPLAINT]
    found += [hit for family in _EMOTION_FAMILIES if family.name in _GENERIC_FAMILIES
              if (hit := _family_hit(text, family, matches, questions, taken=taken))
              is not None]
    damped_problems = {hit.name for hit in found if hit.damped and hit.name in _PROBLEM_FACTS}
    if len(damped_problems) >= 2 and damped_problems & _DURATION_FACTS:
        found = [_FamilyHit(h.name, h.words, h.weight / _QUESTION_DAMPING, h.role, False, h.span)
                 if h.damped else h for h in found]
    has_complaint = any(hit.role == _COMPLAINT for hit in found)
    return [hit for hit in found
            if hit.role == _COMPLAINT
            or (hit.role == _CONDITIONAL and has_complaint)
            or (hit.role == _AMPLIFIER
                and (has_complaint or (vader_negative and hit.name not in _GENERIC_FAMILIES)))]


def _family_hit(text: str, family: _Family, matches: dict[str, list[re.Match[str]]],
                questions: list[tuple[int, int]], *,
                taken: list[tuple[int, int]] = ()) -> _FamilyHit | None:
    """The strongest match of one family: undamped beats damped; negated fact cues and matches
    overlapping ``taken`` spans are skipped."""
    if family.pattern is None:
        words = _shouted_words(text)
        return _FamilyHit(family.name, words, family.weight, family.role, False) if words else None
    best: _FamilyHit | None = None
    for match in matches[family.name]:
        if family.fact and _negated(text, match.start()):
            continue
        if any(match.start() < end and start < match.end() for start, end in taken):
            continue
        damped = family.damped_in_questions and _inside(match.start(), questions)
        weight = family.weight * (_QUESTION_DAMPING if damped else 1.0)
        if best is None or weight > best.weight:
            best = _FamilyHit(family.name, match.group(0), weight, family.role, damped,
                              match.span())
        if not damped:
            break
    return best


def _shouted_words(text: str) -> str | None:
    """Two or more all-caps words (or one of six letters or more), ignoring common acronyms."""
    shouted = [w for w in _SHOUT.findall(text) if w.strip("'").upper() not in _ACRONYMS]
    if len(shouted) >= 2 or any(len(w) >= 6 for w in shouted):
        return " ".join(shouted[:4])
    return None


def _content_words(text: str) -> set[str]:
    """Lower-cased words that carry the topic of a message (no stop words, no short tokens)."""
    return {w for w in _WORD.findall(_MENTION.sub(" ", _normalise(text).lower()))
            if len(w) > 2 and w not in _STOPWORDS}


def _unanswered_customer_turns(history: tuple[Turn, ...]) -> list[Turn]:
    """The customer turns at the end of the history, after the last agent or bot reply."""
    trailing: list[Turn] = []
    for turn in reversed(history):
        if turn.role != Role.CUSTOMER:
            break
        trailing.append(turn)
    return trailing[::-1]


def _repeated_complaint(history: tuple[Turn, ...], text: str,
                        found: dict[str, str]) -> Signal | None:
    """The customer raised this before.

    Three ways, most specific first: the message repeats the topic of an earlier customer turn
    and one of the two reads as a complaint (or the message nudges: "again", "still"); the
    message nudges while earlier customer turns went unanswered; or the message itself says it
    has been raised before ("third time I'm asking", "I already told you").
    """
    earlier = [t for t in history if t.role == Role.CUSTOMER]
    marker = _REPEAT_MARKER.search(text)
    complaint_now = any(name not in ("why_question",) for name in found)
    if earlier:
        now = _content_words(text)
        for turn in reversed(earlier):
            before = _content_words(turn.text)
            shared = now & before
            smaller = min(len(now), len(before))
            if (len(shared) >= _REPEAT_MIN_SHARED and smaller
                    and len(shared) / smaller >= _REPEAT_OVERLAP
                    and (complaint_now or marker or _FAILURE.search(turn.text))):
                return Signal(Reason.EMOTIONAL, "repeated_complaint",
                              "Customer raised the same issue earlier in this conversation",
                              (_excerpt(turn.text), *sorted(shared)[:5]), 0.8)
        unanswered = _unanswered_customer_turns(history)
        if marker and unanswered:
            return Signal(Reason.EMOTIONAL, "repeated_complaint",
                          f"Customer is chasing: {len(unanswered)} earlier message(s) "
                          f"without a reply",
                          (marker.group(0), _excerpt(unanswered[-1].text)), 0.75)
    counted = _COUNTED_REPEAT.search(text)
    if counted:
        return Signal(Reason.EMOTIONAL, "repeated_complaint",
                      "Customer says they have raised this before", (counted.group(0),), 0.7)
    return None


def _excerpt(text: str, limit: int = 120) -> str:
    """A one-line excerpt of an earlier turn for the card."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
