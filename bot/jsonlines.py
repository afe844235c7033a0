"""JSON lines: one object a line, each error naming the file and line (suites, history imports)."""

from __future__ import annotations

import json
from typing import Iterator


def json_objects(*, text: str, source: str, error: type[Exception]) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; ``error`` names the first bad line."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise error(f"{source}:{number}: each line must be a JSON object")
        yield number, item
