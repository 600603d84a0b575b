"""Draw the extension's icons (16/32/48/128 px PNG) with the standard library only.

The icon is a flag on a pole over a rounded square: "where you stand", flagged.
Run from anywhere: `python3 extension/icons/make_icons.py`; it rewrites icon-<size>.png beside itself.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIZES = (16, 32, 48, 128)
SUPERSAMPLE = 4  # samples per pixel side, for smooth edges without an imaging library
BACKGROUND = (33, 84, 122)  # deep blue, readable on light and dark toolbars
FLAG = (242, 169, 0)  # amber: the product's "ask where you stand" colour
POLE = (255, 255, 255)


def _inside_rounded_square(x: float, y: float) -> bool:
    radius = 0.22
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2


def _colour_at(x: float, y: float):
    """The colour at (x, y) in the unit square, or None for transparent."""
    if not _inside_rounded_square(x, y):
        return None
    if 0.28 <= x <= 0.36 and 0.18 <= y <= 0.84:
        return POLE
    # flag: a triangle from the pole's top, pointing right
    if 0.36 <= x <= 0.80 and 0.18 <= y <= 0.56:
        half = (0.56 - 0.18) / 2
        mid = 0.18 + half
        reach = 1 - (x - 0.36) / (0.80 - 0.36)
        if abs(y - mid) <= half * reach:
            return FLAG
    return BACKGROUND


def render(size: int) -> bytes:
    """RGBA pixels, row by row, each row prefixed with PNG filter byte 0."""
    rows = bytearray()
    n = SUPERSAMPLE
    for py in range(size):
        rows.append(0)
        for px in range(size):
            r = g = b = a = 0
            for sy in range(n):
                for sx in range(n):
                    c = _colour_at((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    if c is not None:
                        r += c[0]
                        g += c[1]
                        b += c[2]
                        a += 1
            if a:
                rows += bytes((r // a, g // a, b // a, 255 * a // (n * n)))
            else:
                rows += b"\0\0\0\0"
    return bytes(rows)


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(render(size), 9)) + chunk(b"IEND", b""))


def main() -> None:
    here = Path(__file__).resolve().parent
    for size in SIZES:
        (here / f"icon-{size}.png").write_bytes(png(size))


if __name__ == "__main__":
    main()
