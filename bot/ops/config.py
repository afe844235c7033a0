"""The `operations:` section of the rules file: SLA reminders, escalation ladder, digest, review.

Proposed shape (every key optional)::

    operations:
      sla:
        remind_at: 80%            # share of the window, or a lead time before due such as 30m
        escalation:               # who is told next, N after the breach
          - {after: 30m, notify: "<!subteam^S0SUPLEADS>"}
          - {after: 2h,  notify: "<@U0HEADOFSUPPORT>"}
        queues:                   # a queue's own ladder replaces the default one
          security:
            - {after: 10m, notify: "<!subteam^S0SECLEADS>"}
      digest:  {platform: slack, channel: C0SUPLEADS, weekday: monday, hour: 9}
      review:  {platform: slack, channel: C0REVIEWERS, weekday: friday, hour: 14, sample_size: 20}
      time_saved: {handle_minutes: 8, triage_minutes: 6}

The models import nothing from ``bot.rules`` at module level, so ``bot.rules`` can embed
``OpsConfig`` as a field (and so report line numbers) without an import cycle.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.durations import parse_duration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LadderStep(_Strict):
    """One rung of the escalation ladder: after this many minutes past breach, tell someone."""

    after: int
    notify: str = Field(min_length=1)

    @field_validator("after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        return parse_duration(value)


class SlaAlerts(_Strict):
    """When to remind before a breach, and who is told after one."""

    remind_at: str | float = "80%"
    escalation: list[LadderStep] = []
    queues: dict[str, list[LadderStep]] = {}

    @field_validator("remind_at")
    @classmethod
    def _valid_lead(cls, value: str | float) -> str | float:
        if isinstance(value, float) or str(value).strip().endswith("%"):
            remind_share(value)
        else:
            parse_duration(value)
        return value

    def ladder(self, *, queue: str) -> list[LadderStep]:
        return self.queues.get(queue, self.escalation)


def remind_share(value: str | float) -> float:
    """'80%' or 0.8 as a share of the window, checked to lie strictly between 0 and 1."""
    share = float(str(value).strip().rstrip("%")) / 100 if isinstance(value, str) else float(value)
    if not 0 < share < 1:
        raise ValueError(f"remind_at '{value}' must be a share between 0% and 100%, or a duration like 30m")
    return share


class Weekly(_Strict):
    """Where and when a weekly post goes (hour in UTC)."""

    platform: str | None = None
    channel: str | None = None
    weekday: str = "monday"
    hour: int = Field(default=9, ge=0, le=23)
    sample_size: int = Field(default=20, ge=1, le=500)

    @field_validator("weekday")
    @classmethod
    def _known_day(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"unknown weekday '{value}'; use one of {', '.join(WEEKDAYS)}")
        return value.lower()

    @property
    def enabled(self) -> bool:
        return bool(self.platform and self.channel)


class TimeSavedBaseline(_Strict):
    """Minutes a person would spend without Baton: answering one conversation, triaging one case."""

    handle_minutes: float = Field(default=8.0, ge=0)
    triage_minutes: float = Field(default=6.0, ge=0)


class OpsConfig(_Strict):
    """The whole `operations:` section."""

    sla: SlaAlerts = Field(default_factory=SlaAlerts)
    digest: Weekly = Field(default_factory=Weekly)
    review: Weekly = Field(default_factory=lambda: Weekly(weekday="friday", hour=14))
    time_saved: TimeSavedBaseline = Field(default_factory=TimeSavedBaseline)


def ops_config(*, rules: Any = None, data: dict | None = None) -> OpsConfig:
    """The operations settings from a dict, or from ``rules.operations`` (dict, model or absent)."""
    if data is None:
        data = getattr(rules, "operations", None) if rules is not None else None
    if isinstance(data, OpsConfig):
        return data
    return OpsConfig.model_validate(data or {})
