"""Which of two modes the web server runs in, and the start-up check that keeps them apart.

* **demo**: bound to a loopback address, no platform configured and no sign-in method set. The
  sandbox (customer chat, queue, dashboard) opens with no account: the default of `make run`.
* **deployment**: as soon as the server binds a non-loopback address, Slack or Teams is
  configured, or a sign-in method is set. Every route but the platform endpoints, the health
  checks and the sign-in pages then needs a session, and the server refuses to start when the
  web UI is on without any sign-in method.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.settings import Settings

SIGN_IN_HINT = (
    "set BATON_ADMIN_TOKEN (a static admin token), or Sign in with Slack (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, BATON_PUBLIC_URL), "
    "or Microsoft Entra ID (BATON_ENTRA_CLIENT_ID, BATON_ENTRA_CLIENT_SECRET, BATON_ENTRA_TENANT_ID, BATON_PUBLIC_URL); "
    "or set BATON_SANDBOX=false to serve only the platform endpoints"
)


class ExposureError(ValueError):
    """The settings would expose the web UI without sign-in, or a sign-in method is half set."""


@dataclass(frozen=True, slots=True)
class WebMode:
    """The mode the server runs in, with the reasons it is a deployment (empty for the demo)."""

    deployment: bool
    reasons: tuple[str, ...]
    sign_in: tuple[str, ...]

    @property
    def name(self) -> str:
        return "deployment" if self.deployment else "demo"


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1; an empty host or 0.0.0.0 listens everywhere."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def sign_in_methods(settings: Settings) -> tuple[str, ...]:
    """The sign-in methods the settings turn on: token, slack, entra."""
    methods = []
    if settings.admin_token is not None and settings.admin_token.get_secret_value():
        methods.append("token")
    if settings.slack_signin_client_id:
        methods.append("slack")
    if settings.entra_client_id:
        methods.append("entra")
    return tuple(methods)


def web_mode(*, settings: Settings, host: str) -> WebMode:
    """Demo or deployment, and why."""
    reasons = []
    if not is_loopback(host):
        reasons.append(f"it listens on {host or 'every address'}, not a loopback address")
    if settings.slack_enabled:
        reasons.append("Slack is configured")
    if settings.teams_enabled:
        reasons.append("Teams is configured")
    methods = sign_in_methods(settings)
    if methods:
        reasons.append("a sign-in method is set")
    return WebMode(deployment=bool(reasons), reasons=tuple(reasons), sign_in=methods)


def check_web_surface(*, settings: Settings, host: str) -> WebMode:
    """The mode, or ExposureError naming the setting to change (called before anything binds)."""
    mode = web_mode(settings=settings, host=host)
    for problem in _half_set_sign_in(settings):
        raise ExposureError(problem)
    if mode.deployment and settings.sandbox and not mode.sign_in:
        raise ExposureError(
            f"Baton would expose its web UI (customer chat, queue, dashboard, audit trails) with no sign-in: "
            f"{'; '.join(mode.reasons)}. To protect it, {SIGN_IN_HINT}."
        )
    return mode


def _half_set_sign_in(settings: Settings) -> list[str]:
    """Sign-in settings that cannot work as given, each as a sentence naming what is missing."""
    problems = []
    public = settings.public_url.strip()
    if public and urlsplit(public).scheme not in ("http", "https"):
        problems.append(f"BATON_PUBLIC_URL must be an http(s) URL, not {public!r}")
    if settings.slack_signin_client_id:
        if settings.slack_signin_client_secret is None:
            problems.append("Sign in with Slack needs SLACK_CLIENT_SECRET next to SLACK_CLIENT_ID")
        if not public:
            problems.append("Sign in with Slack needs BATON_PUBLIC_URL (where Slack sends people back after sign-in)")
    if settings.entra_client_id:
        missing = [name for name, value in (("BATON_ENTRA_CLIENT_SECRET", settings.entra_client_secret), ("BATON_ENTRA_TENANT_ID", settings.entra_tenant_id), ("BATON_PUBLIC_URL", public)) if not value]
        if missing:
            problems.append(f"Microsoft Entra ID sign-in needs {', '.join(missing)} next to BATON_ENTRA_CLIENT_ID")
    return problems
