"""The team's rules file: categories, thresholds, customer value, SLAs and queues.

Loaded from YAML and validated at start-up with pydantic; every error names the line of the
file and the problem, so a team editing the file by hand can fix it without reading code.
The format is documented in ``docs/rules.md``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.durations import parse_duration
from bot.language import LANGUAGE_NAMES
from bot.ops.config import OpsConfig
from bot.types import Automation, Reason

POLICY_TYPES = (
    "legal", "financial", "security", "compliance", "account_access", "payment",
    "refund_dispute", "churn",
)
VALUE_POLICIES = {"refund_dispute", "churn"}
PRIORITIES = ("urgent", "high", "normal", "low")


class RulesError(Exception):
    """The rules file cannot be used; ``problems`` lists each as 'line N: what is wrong'."""

    def __init__(self, *, path: Path | str, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Thresholds(_Strict):
    """Confidence bars; both models are calibrated so that 0.5 sits on their fitted boundary.

    ``caution`` is the operators' dial: the bot answers only when its category and knowledge
    confidence reach it. Raise it to miss fewer escalations (at the cost of precision), lower it
    to hand over less; ``baton eval SUITE --sweep`` prints the trade-off on your own data.
    ``category_confidence`` and ``answer_confidence`` override the dial for one model.
    """

    answer_confidence: float | None = Field(default=None, ge=0, le=1)
    category_confidence: float | None = Field(default=None, ge=0, le=1)
    sentiment: float | None = Field(default=None, ge=-1, le=0)
    strong_sentiment: float = Field(default=-0.5, ge=-1, le=0)
    caution: float = Field(default=0.5, ge=0.05, le=0.95)


class Category(_Strict):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[^\r\n]+$")
    description: str = ""
    examples: list[str] = Field(min_length=1)
    automation: Automation = Automation.AI_ANSWER
    queue: str | None = None
    policy: str | None = None
    reason: Reason | None = None
    answer: str | None = None

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value: str | None) -> str | None:
        if value is not None and value not in POLICY_TYPES:
            raise ValueError(f"unknown policy type '{value}'; use one of {', '.join(POLICY_TYPES)}")
        return value

    @property
    def escalation_reason(self) -> Reason | None:
        """The reason a message in this category escalates for, if it does by nature."""
        if self.reason is not None:
            return self.reason
        if self.policy in VALUE_POLICIES:
            return Reason.HIGH_VALUE
        if self.policy is not None:
            return Reason.POLICY_RISK
        return None


class Tier(_Strict):
    priority: str = "normal"
    escalate: bool = False

    @field_validator("priority")
    @classmethod
    def _known_priority(cls, value: str) -> str:
        if value not in PRIORITIES:
            raise ValueError(f"unknown priority '{value}'; use one of {', '.join(PRIORITIES)}")
        return value


class Organisation(_Strict):
    name: str
    tier: str
    users: list[str] = []
    email_domains: list[str] = []
    slack_teams: list[str] = []
    teams_tenants: list[str] = []


class Customers(_Strict):
    default_tier: str = "standard"
    tiers: dict[str, Tier] = Field(default_factory=lambda: {"standard": Tier()})
    organisations: list[Organisation] = []

    @model_validator(mode="after")
    def _tiers_exist(self) -> "Customers":
        if self.default_tier not in self.tiers:
            self.tiers[self.default_tier] = Tier()
        for org in self.organisations:
            if org.tier not in self.tiers:
                raise ValueError(f"organisation '{org.name}' uses unknown tier '{org.tier}'")
        return self


class Sla(_Strict):
    first_response: int
    resolution: int

    @field_validator("first_response", "resolution", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)


def _default_sla() -> dict[str, Sla]:
    minutes = {"urgent": (15, 240), "high": (60, 480), "normal": (240, 2880), "low": (1440, 7200)}
    return {p: Sla(first_response=f, resolution=r) for p, (f, r) in minutes.items()}


class Queue(_Strict):
    slack: str | None = None
    teams: str | None = None
    sandbox: str | None = None
    platform: str | None = None
    on_call: str | None = None


class Languages(_Strict):
    """The languages the bot answers in.

    ``answer_in`` empty means: the languages the knowledge base and the categories' examples are
    written in, detected at start-up. A message confidently in another language goes to a
    person with its language on the card, unless ``multilingual`` is on: then a language model
    (required, checked at start-up) answers it in the customer's language, from the same
    verified passages.
    """

    answer_in: list[str] = []
    multilingual: bool = False

    @field_validator("answer_in")
    @classmethod
    def _known_codes(cls, value: list[str]) -> list[str]:
        unknown = [code for code in value if code not in LANGUAGE_NAMES]
        if unknown:
            raise ValueError(f"unknown language code(s) {', '.join(unknown)}; use ISO 639-1 codes such as {', '.join(list(LANGUAGE_NAMES)[:8])}")
        return value


class Rules(_Strict):
    """The validated rules; ``version`` plus a content hash is recorded with every decision."""

    version: str | int = 1
    thresholds: Thresholds = Field(default_factory=Thresholds)
    categories: list[Category] = []
    customers: Customers = Field(default_factory=Customers)
    sla: dict[str, Sla] = Field(default_factory=_default_sla)
    queues: dict[str, Queue] = Field(default_factory=lambda: {"support": Queue(sandbox="support")})
    default_queue: str = "support"
    operations: OpsConfig = Field(default_factory=OpsConfig)
    languages: Languages = Field(default_factory=Languages)
    digest: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> "Rules":
        names = [c.name for c in self.categories]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"category names must be unique: {', '.join(duplicates)}")
        if self.default_queue not in self.queues:
            self.queues[self.default_queue] = Queue(sandbox=self.default_queue)
        for category in self.categories:
            if category.queue is not None and category.queue not in self.queues:
                raise ValueError(f"category '{category.name}' uses unknown queue '{category.queue}'")
        for priority in PRIORITIES:
            self.sla.setdefault(priority, _default_sla()[priority])
        for queue in self.operations.sla.queues:
            if queue not in self.queues:
                raise ValueError(f"operations.sla.queues uses unknown queue '{queue}'")
        return self

    def category(self, name: str | None) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)

    def queue_for(self, category: Category | None) -> str:
        return (category.queue if category and category.queue else None) or self.default_queue

    def sla_for(self, priority: str) -> Sla:
        return self.sla.get(priority) or _default_sla()["normal"]

    @property
    def label(self) -> str:
        """Version and short content hash, as stored in the audit trail."""
        return f"{self.version}@{self.digest[:8]}" if self.digest else str(self.version)


def sla_delta(*, rules: Rules, priority: str) -> tuple[timedelta, timedelta]:
    """First-response and resolution windows for a priority."""
    sla = rules.sla_for(priority)
    return timedelta(minutes=sla.first_response), timedelta(minutes=sla.resolution)


# --- loading with line numbers -------------------------------------------------------------


def _to_python(node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> Any:
    """Turn a composed YAML node into Python values, remembering each path's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) else key_node.value
            result[key] = _to_python(value_node, path + (key,), lines)
            lines.setdefault(path + (key,), key_node.start_mark.line + 1)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def _line_of(loc: tuple, lines: dict[tuple, int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def _problems(error: ValidationError, lines: dict[tuple, int]) -> list[str]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        where = ".".join(str(p) for p in loc) or "file"
        line = _line_of(loc, lines)
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"line {line or 1}: {where}: {message}")
    return problems


def parse_rules(*, text: str, source: str = "<rules>") -> Rules:
    """Validate rules given as YAML text; raises RulesError naming lines and problems."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise RulesError(path=source, problems=[f"line {line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    lines: dict[tuple, int] = {}
    data = {} if node is None else _to_python(node, (), lines)
    if not isinstance(data, dict):
        raise RulesError(path=source, problems=["line 1: the rules file must be a mapping of sections"])
    try:
        rules = Rules.model_validate(data)
    except ValidationError as exc:
        raise RulesError(path=source, problems=_problems(exc, lines)) from None
    rules.digest = hashlib.sha256(text.encode()).hexdigest()
    return rules


def load_rules(*, path: Path) -> Rules:
    """Read and validate a rules file; a missing or unreadable file is a RulesError too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError(path=path, problems=["line 1: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(path=path, problems=[f"line 1: cannot read the file: {exc}"]) from None
    return parse_rules(text=text, source=str(path))
