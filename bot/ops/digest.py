"""The weekly digest, `/baton stats`, and the weekly jobs' scheduler hook.

``stats_text`` is what the Slack adapter's `/baton stats` command shows; ``digest_text`` is the
weekly post to the configured channel. ``WeeklyJobs.tick`` is called by the server next to the
SLA scheduler: once the configured weekday and hour have come, exactly one process per ISO week
posts the digest and the reviewers' sample (``bot.ops.weekly`` holds the once-per-week claim).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from typing import Any, Callable

from bot.delivery import OnceOnly
from bot.ops.config import OpsConfig, Weekly, ops_config
from bot.ops.feedback import post_review_sample
from bot.ops.fmt import duration, fraction, pct
from bot.ops.kpis import Kpis
from bot.ops.period import Period, aware, period_for
from bot.ops.report import Report, build_report
from bot.ops.time_saved import TimeSaved
from bot.ops.weekly import claim_run, finish_run, week_due
from bot.outbox import OutboxRouter
from bot.store.repo import Store
from bot.types import ConversationRef, Reply, utcnow

log = logging.getLogger(__name__)


def kpi_lines(*, kpis: Kpis, saved: TimeSaved) -> list[str]:
    """One bullet per KPI, in words a support lead reads at a glance."""
    p, m, c, r, g = kpis.precision, kpis.missed, kpis.completeness, kpis.resolution, kpis.gaps
    worst_field = max(c.missing_fields, key=c.missing_fields.get) if c.missing_fields else None
    return [
        f"• Escalation precision: {pct(p.precision)} ({fraction(p.needed, p.rated)} rated handoffs needed a person)",
        f"• Missed escalations: {pct(m.rate, digits=1)} of answers flagged ({fraction(m.flagged, m.answers)}); reviewers: {pct(m.review_rate, digits=1)} ({fraction(m.review_flagged, m.reviewed)})",
        f"• Handoff cards complete: {pct(c.auto_rate)} automatically, {pct(c.agent_rate)} by agents" + (f" (most often missing: {worst_field})" if worst_field else ""),
        f"• Resolution after handoff: median {duration(r.resolution.median)}, p90 {duration(r.resolution.p90)}; claim median {duration(r.to_claim.median)}; first-response SLA met {pct(r.first_response_rate)}",
        f"• Knowledge gaps: {g.opened} opened, {g.closed} closed, {g.open_at_end} open",
        f"• Human time saved: about {saved.total_hours:.1f} h (estimate; assumptions in `baton report`)",
    ]


def stats_text(*, store: Store, since: str | datetime = "7d", now: datetime | None = None, config: OpsConfig | None = None) -> str:
    """The `/baton stats` reply: the five KPIs for the period (default: the last 7 days)."""
    period = period_for(since=since, now=aware(now or utcnow()))
    report = build_report(store=store, period=period, baseline=(config or OpsConfig()).time_saved)
    k = report.kpis
    head = f"Baton, {period.label}: {k.conversations} conversations, {k.answers} answers, {k.escalations} handoffs"
    return "\n".join([head, *kpi_lines(kpis=k, saved=report.saved)])


def digest_text(*, report: Report) -> str:
    """The weekly digest: the KPIs, the weakest category and the most asked open gaps."""
    k = report.kpis
    lines = [f"*Baton weekly digest* ({report.period.label})",
             f"{k.conversations} conversations: {k.answers} answered by the bot, {k.escalations} handed to people.",
             *kpi_lines(kpis=k, saved=report.saved)]
    rated = [(key, r) for key, r in k.precision.breakdown.get("category", {}).items() if r.total]
    if rated:
        key, r = min(rated, key=lambda item: (item[1].value, -item[1].total))
        lines.append(f"Lowest escalation precision: {key} {pct(r.value)} ({fraction(r.hits, r.total)}): worth a look at its rules.")
    lines += [f"Open gap, asked {g['count']}x: \"{g['question']}\"" for g in k.gaps.top_open[:3]]
    return "\n".join(lines)


class WeeklyJobs:
    """Posts the weekly digest and the reviewers' sample, each once per ISO week across processes."""

    def __init__(self, *, store: Store, rules: Any, outboxes: OutboxRouter, config: OpsConfig | None = None,
                 clock: Callable[[], datetime] = utcnow, worker: str | None = None, once: OnceOnly | None = None) -> None:
        self.store = store
        self.outboxes = outboxes
        self.once = once or OnceOnly(deliveries=None)  # the core's delivery log: a retried week posts nothing twice
        self.config = config or ops_config(rules=rules)
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    async def tick(self, now: datetime | None = None) -> list[str]:
        """Run whichever weekly job is due and not yet run this week; returns the jobs run."""
        now = aware(now or self.clock())
        done = []
        for job, schedule, run in (("digest", self.config.digest, self._digest), ("review", self.config.review, self._review)):
            week = week_due(now=now, schedule=schedule) if schedule.enabled else None
            if week and claim_run(store=self.store, job=job, period=week, worker=self.worker, now=now):
                done.append(await self._run(job=job, week=week, now=now, run=run, schedule=schedule))
        return [job for job in done if job]

    async def _run(self, *, job: str, week: str, now: datetime, run: Callable, schedule: Weekly) -> str | None:
        try:
            detail = await run(now=now, week=week, schedule=schedule)
        except Exception:
            log.exception("weekly %s for %s failed; another tick will retry", job, week)
            finish_run(store=self.store, job=job, period=week, worker=self.worker, status="failed", now=now)
            return None
        finish_run(store=self.store, job=job, period=week, worker=self.worker, status="done", now=now, detail=detail)
        return job

    async def _digest(self, *, now: datetime, week: str, schedule: Weekly) -> dict:
        report = build_report(store=self.store, period=Period(since=now - timedelta(days=7), until=now), baseline=self.config.time_saved)
        ref = ConversationRef(platform=schedule.platform, channel=schedule.channel)
        await self.once.reply(outbox=self.outboxes.for_platform(schedule.platform), reply=Reply(ref=ref, text=digest_text(report=report), kind="digest", idempotency_key=f"digest:{week}"))
        return {"answers": report.kpis.answers, "escalations": report.kpis.escalations}

    async def _review(self, *, now: datetime, week: str, schedule: Weekly) -> dict:
        outbox = self.outboxes.for_platform(schedule.platform)
        period = Period(since=now - timedelta(days=7), until=now)
        posted = await post_review_sample(store=self.store, outbox=outbox, channel=schedule.channel, period=period, size=schedule.sample_size, seed=week, once=self.once)
        return {"decision_ids": posted}
