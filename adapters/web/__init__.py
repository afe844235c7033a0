"""The web surface's access control: modes, sign-in (admin token, Slack, Entra ID), sessions, roles, hardening.

bot/server.py mounts it in front of every other adapter's routes (see docs/security.md)."""
