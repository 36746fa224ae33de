"""Count pixels of given colours in a screenshot (Pillow's colour histogram)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from PIL import Image

TOLERANCE = 6  # per channel: anti-aliased edges differ, filled marks are exact in sRGB


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


class Screenshot:
    """A screenshot's colour histogram, and how many rows at the bottom are blank."""

    def __init__(self, png: Path):
        with Image.open(png) as image:
            image = image.convert("RGB")
            width, height = image.size
            self.colours = Counter({colour: n for n, colour in image.getcolors(maxcolors=width * height)})
            self.height = height
            bbox = Image.eval(image, lambda v: 255 - v).getbbox()  # box of everything that is not white
            self.blank_rows_at_bottom = height if bbox is None else height - bbox[3]

    def count(self, colours: tuple[str, ...], tolerance: int = TOLERANCE) -> int:
        """Pixels within `tolerance` of any of `colours`."""
        targets = [rgb(colour) for colour in colours]
        return sum(n for colour, n in self.colours.items()
                   if any(all(abs(a - b) <= tolerance for a, b in zip(colour, target)) for target in targets))
