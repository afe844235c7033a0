"""Local stand-ins of the platforms Baton talks to, for tests that must not touch the internet.

Import each stand-in from its own module (``from .slack_api import SlackStandIn``), so that
this package stays free of imports and stand-ins for other platforms can live next to it.
"""
