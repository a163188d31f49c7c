"""Draw the WattShift brand images into custom_components/wattshift/brand/.

The mark is a thermostat dial whose ring runs from warm orange (heating) to
cool blue (cooling) around a lightning bolt (electricity). The logo sets the
mark beside the word "WattShift". Everything is drawn at four times the final
size and scaled down, which smooths the edges.

Usage: python scripts/make_brand.py [--font FILE] [--output DIR]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import math
from pathlib import Path
import sys

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "custom_components" / "wattshift" / "brand"
# Bold sans-serif fonts tried in order when --font is not given.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/Library/Fonts/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)

type RGB = tuple[int, int, int]

SCALE = 4
WARM = (244, 81, 30)  # heating
# A straight mix of orange and blue is a dull grey, so the sweep passes
# through violet instead.
MIDDLE = (171, 71, 188)
COOL = (30, 136, 229)  # cooling
BOLT = (255, 179, 0)
TRANSPARENT = (0, 0, 0, 0)

# The ring leaves a gap at the bottom, like the scale of a thermostat dial.
# Angles are in degrees, clockwise from three o'clock, as Pillow measures them.
ARC_START = 125.0
ARC_END = 415.0
RING_WIDTH = 0.15  # of the mark's diameter
# Lightning bolt corners as fractions of the diameter, from the centre.
BOLT_POINTS = (
    (0.05, -0.28),
    (-0.15, 0.04),
    (-0.02, 0.04),
    (-0.07, 0.28),
    (0.15, -0.06),
    (0.02, -0.06),
    (0.08, -0.28),
)


def blend(start: RGB, end: RGB, t: float) -> RGB:
    """Return the color a fraction t of the way from start to end."""
    red, green, blue = (round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
    return red, green, blue


def sweep_color(t: float) -> RGB:
    """Return the ring color a fraction t of the way along the arc."""
    if t < 0.5:
        return blend(WARM, MIDDLE, t * 2)
    return blend(MIDDLE, COOL, t * 2 - 1)


def draw_ring(diameter: int) -> Image.Image:
    """Draw the dial ring with its warm-to-cool sweep and round ends."""
    gradient = Image.new("RGBA", (diameter, diameter), TRANSPARENT)
    draw = ImageDraw.Draw(gradient)
    box = (0, 0, diameter - 1, diameter - 1)
    steps = 360
    sweep = ARC_END - ARC_START
    for step in range(steps):
        start = ARC_START + sweep * step / steps
        # Overlap each slice with the next one so no seam shows.
        end = ARC_START + sweep * (step + 1.5) / steps
        draw.pieslice(box, start, min(end, ARC_END), fill=sweep_color(step / steps))

    width = round(diameter * RING_WIDTH)
    mask = Image.new("L", (diameter, diameter), 0)
    mask_draw = ImageDraw.Draw(mask)
    mask_draw.arc(box, ARC_START, ARC_END, fill=255, width=width)
    radius = (diameter - width) / 2
    centre = diameter / 2
    for angle, color in ((ARC_START, WARM), (ARC_END, COOL)):
        # Round caps: a disc at each end of the arc, in that end's color.
        x = centre + radius * math.cos(math.radians(angle))
        y = centre + radius * math.sin(math.radians(angle))
        cap = (x - width / 2, y - width / 2, x + width / 2, y + width / 2)
        mask_draw.ellipse(cap, fill=255)
        draw.ellipse(cap, fill=color)

    ring = Image.new("RGBA", (diameter, diameter), TRANSPARENT)
    ring.paste(gradient, (0, 0), mask)
    return ring


def draw_bolt(diameter: int) -> Image.Image:
    """Draw the lightning bolt inside the ring."""
    bolt = Image.new("RGBA", (diameter, diameter), TRANSPARENT)
    centre = diameter / 2
    points = [(centre + x * diameter, centre + y * diameter) for x, y in BOLT_POINTS]
    ImageDraw.Draw(bolt).polygon(points, fill=BOLT)
    return bolt


def draw_mark(size: int) -> Image.Image:
    """Draw the square mark at size x size pixels."""
    diameter = size * SCALE
    mark = draw_ring(diameter)
    mark.alpha_composite(draw_bolt(diameter))
    return mark.resize((size, size), Image.Resampling.LANCZOS)


def draw_logo(height: int, font_path: Path) -> Image.Image:
    """Draw the mark and the word WattShift, trimmed, height pixels high."""
    big = height * SCALE
    mark = draw_ring(big)
    mark.alpha_composite(draw_bolt(big))

    font = ImageFont.truetype(str(font_path), round(big * 0.56))
    gap = round(big * 0.16)
    words = (("Watt", WARM), ("Shift", COOL))
    widths = [font.getbbox(word)[2] for word, _ in words]
    canvas = Image.new("RGBA", (big + gap + sum(widths) + big, big), TRANSPARENT)
    canvas.alpha_composite(mark)
    draw = ImageDraw.Draw(canvas)
    x = big + gap
    for (word, color), width in zip(words, widths, strict=True):
        # Anchor "lm" centres the text's cap height on the mark's middle.
        draw.text((x, big / 2), word, font=font, fill=color, anchor="lm")
        x += width

    trimmed = trim(canvas)
    scale = height / trimmed.height
    size = (round(trimmed.width * scale), height)
    return trimmed.resize(size, Image.Resampling.LANCZOS)


def trim(image: Image.Image) -> Image.Image:
    """Cut fully transparent rows and columns from the edges."""
    bounds = image.getchannel("A").getbbox()
    return image if bounds is None else image.crop(bounds)


def find_font(given: str | None) -> Path:
    """Return the font file to use, or exit with a message naming the choices."""
    candidates = [given] if given else list(FONT_CANDIDATES)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    sys.exit(
        "No bold sans-serif font found. Install DejaVu Sans (Debian: fonts-dejavu-core) "
        "or pass --font FILE. Tried: " + ", ".join(str(c) for c in candidates)
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Write icon.png, icon@2x.png, logo.png and logo@2x.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", help="TrueType font for the word WattShift")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    font = find_font(args.font)
    args.output.mkdir(parents=True, exist_ok=True)

    images = {
        "icon.png": draw_mark(256),
        "icon@2x.png": draw_mark(512),
        "logo.png": draw_logo(128, font),
        "logo@2x.png": draw_logo(256, font),
    }
    for name, image in images.items():
        path = args.output / name
        image.save(path, optimize=True)
        print(f"{path}: {image.width}x{image.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
