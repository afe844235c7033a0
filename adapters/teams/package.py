"""`baton teams-package`: the Teams app package (manifest.json + two icons in a zip).

The manifest uses schema version 1.17 (supported by the Teams admin centre and the Developer
Portal; it has everything a bot needs and nothing newer that Baton would use). The bot id is
the Azure Bot's Microsoft app id, scopes are personal, team and groupChat.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.teams.icons import ACCENT, ASSETS, color_icon, outline_icon

MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
PLACEHOLDER_WEBSITE = "https://example.com/baton"  # reserved documentation domain: pass valid_domains
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DOMAIN = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


class PackageError(ValueError):
    """The package cannot be built as configured; the message says what to set."""


def checked_app_id(app_id: str | None) -> str:
    """The Microsoft app id, which must be the Azure Bot's GUID."""
    if not app_id:
        raise PackageError("MICROSOFT_APP_ID is not set: register an Azure Bot, then set MICROSOFT_APP_ID to its Microsoft App ID (see docs/teams.md)")
    if not _GUID.match(app_id):
        raise PackageError(f"MICROSOFT_APP_ID must be a GUID like 00000000-0000-0000-0000-000000000000, not {app_id!r}")
    return app_id


def checked_domains(domains: Sequence[str]) -> list[str]:
    """Host names only (no scheme, no path), as the manifest's validDomains wants them."""
    hosts = [d.strip().removeprefix("https://").rstrip("/") for d in domains if d and d.strip()]
    for host in hosts:
        if not _DOMAIN.match(host):
            raise PackageError(f"valid domain {host!r} must be a host name like bot.example.com")
    return hosts


def _bot(app_id: str) -> dict[str, Any]:
    commands = [
        {"title": "use this channel as", "description": "...the <queue> queue: post that queue's handoff cards here (e.g. the billing queue)"},
    ]
    return {
        "botId": app_id, "scopes": ["personal", "team", "groupChat"], "supportsFiles": False, "isNotificationOnly": False,
        "commandLists": [{"scopes": ["team"], "commands": commands}],
    }


def manifest(*, app_id: str, version: str = "1.0.0", valid_domains: Sequence[str] = ()) -> dict[str, Any]:
    """The manifest.json content; the developer pages point at the first valid domain."""
    if not _SEMVER.match(version):
        raise PackageError(f"version must look like 1.0.0, not {version!r}")
    domains = checked_domains(valid_domains)
    website = f"https://{domains[0].removeprefix('*.')}" if domains else PLACEHOLDER_WEBSITE
    return {
        "$schema": MANIFEST_SCHEMA, "manifestVersion": MANIFEST_VERSION, "version": version, "id": checked_app_id(app_id),
        "developer": {"name": "Baton", "websiteUrl": website, "privacyUrl": f"{website}#privacy", "termsOfUseUrl": f"{website}#terms"},
        "name": {"short": "Baton", "full": "Baton support assistant"},
        "description": {
            "short": "A support bot that knows when not to answer.",
            "full": "Baton answers customers' questions from your help centre, with sources, and hands "
                    "anything risky, emotional, high-value or uncertain to a person with a complete card.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [_bot(app_id)], "permissions": ["identity", "messageTeamMembers"],
        "validDomains": domains,
    }


def _icon(name: str, draw: Any) -> bytes:
    path = ASSETS / name
    return path.read_bytes() if path.exists() else draw()


def build_package(*, settings: Any, out_dir: Path, version: str = "1.0.0", valid_domains: Sequence[str] = ()) -> Path:
    """Write ``baton-teams-<version>.zip`` into ``out_dir`` and return its path.

    Raises PackageError (with what to set) when the app id is missing or invalid.
    """
    content = manifest(app_id=settings.microsoft_app_id, version=version, valid_domains=valid_domains)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"baton-teams-{version}.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(content, indent=2))
        archive.writestr("color.png", _icon("color.png", color_icon))
        archive.writestr("outline.png", _icon("outline.png", outline_icon))
    return target
