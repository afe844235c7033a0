"""Roles on the web surface and who holds them.

agent: the queue and ticket actions (and the test chat); lead: also the dashboard, reports,
audit trails and rules; admin: also the settings. Each role includes the ones below it. People
are named in BATON_AGENTS / BATON_LEADS / BATON_ADMINS by email address, ``@domain`` or
platform user id (Slack ``U...``, Entra object id); someone who signs in but is named nowhere
gets no role and sees a page saying whom to ask. The static admin token is always admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from bot.settings import Settings


class Role(IntEnum):
    NONE = 0
    AGENT = 1
    LEAD = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


def _entries(text: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in text.replace(";", ",").split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class RoleMap:
    """Who holds which role, from the settings."""

    agents: frozenset[str] = frozenset()
    leads: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> "RoleMap":
        return cls(agents=_entries(settings.agents), leads=_entries(settings.leads), admins=_entries(settings.admins))

    def role_for(self, *, provider: str, email: str, user_id: str) -> Role:
        """The highest role any of this person's names holds."""
        if provider == "token":
            return Role.ADMIN
        names = _names(email=email, user_id=user_id)
        for role, holders in ((Role.ADMIN, self.admins), (Role.LEAD, self.leads), (Role.AGENT, self.agents)):
            if names & holders:
                return role
        return Role.NONE


def _names(*, email: str, user_id: str) -> set[str]:
    """The ways a role list can name a person: the email, its @domain, the platform user id."""
    names = set()
    email = email.strip().lower()
    if "@" in email:
        names |= {email, "@" + email.rsplit("@", 1)[1]}
    if user_id.strip():
        names.add(user_id.strip().lower())
    return names
