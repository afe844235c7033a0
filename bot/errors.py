"""One place for the texts of user-facing errors (after bolt's single logger-messages module)."""

from __future__ import annotations


def describe(exc: Exception) -> str | None:
    """A one-line explanation of a known failure, or None for an unexpected one."""
    from bot.evaluation import SuiteError

    if isinstance(exc, SuiteError):
        return f"the evaluation suite does not follow FORMAT.md: {exc}"
    name = type(exc).__name__
    if name == "EncoderUnavailable":
        return f"the offline embedding model is not installed: {exc}"
    if name == "LoadError":
        return f"cannot read the knowledge base: {exc}"
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return f"cannot open {getattr(exc, 'filename', '') or exc}: {exc.strerror or exc}"
    return None
