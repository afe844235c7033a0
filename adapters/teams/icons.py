"""The Teams app icons, drawn with the standard library (zlib + struct), no image library.

Teams wants a 192x192 full-colour icon and a 32x32 outline icon that is white on a transparent
background. Both show a relay baton: a thick rounded diagonal bar with two grooves.
``python -m adapters.teams.icons`` rewrites ``adapters/teams/assets/``.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
ACCENT = (0x1F, 0x5F, 0x8B)  # also the manifest's accentColor
WHITE = (255, 255, 255)


def png(*, width: int, height: int, rows: list[bytes], alpha: bool) -> bytes:
    """A PNG file from raw 8-bit RGB or RGBA rows (filter 0 on every row)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6 if alpha else 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _segment_distance(x: float, y: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def coverage(x: float, y: float, size: int) -> float:
    """How much of the pixel centred at (x, y) the baton covers (0..1, anti-aliased edge).

    The baton is a rounded diagonal bar with two thin grooves across it."""
    s = size / 32.0
    bar = 5.0 * s - _segment_distance(x, y, (8.5 * s, 23.5 * s), (23.5 * s, 8.5 * s))
    along = ((x - 16.0 * s) - (y - 16.0 * s)) / math.sqrt(2.0)  # position along the bar, centre 0
    groove = min(abs(along - 3.2 * s), abs(along + 3.2 * s)) - 0.9 * s
    return max(0.0, min(1.0, bar + 0.5, groove + 0.5))


def _blend(value: float, background: tuple[int, int, int]) -> bytes:
    return bytes(round(c + (w - c) * value) for c, w in zip(background, WHITE))


def color_icon(*, size: int = 192) -> bytes:
    """The full-colour icon: a white baton on the accent colour."""
    rows = [b"".join(_blend(coverage(x + 0.5, y + 0.5, size), ACCENT) for x in range(size)) for y in range(size)]
    return png(width=size, height=size, rows=rows, alpha=False)


def outline_icon(*, size: int = 32) -> bytes:
    """The outline icon: white only, the shape drawn in alpha on transparency."""
    rows = [b"".join(bytes((255, 255, 255, round(255 * coverage(x + 0.5, y + 0.5, size)))) for x in range(size)) for y in range(size)]
    return png(width=size, height=size, rows=rows, alpha=True)


def write_assets(*, folder: Path = ASSETS) -> tuple[Path, Path]:
    """Write color.png and outline.png into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    color, outline = folder / "color.png", folder / "outline.png"
    color.write_bytes(color_icon())
    outline.write_bytes(outline_icon())
    return color, outline


if __name__ == "__main__":
    for path in write_assets():
        print(path)
