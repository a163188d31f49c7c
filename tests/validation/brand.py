"""Check the brand images in the integration's brand/ directory.

HACS's brands check passes when brand/icon.png exists. Home Assistant 2026.3
and later serve these files as the integration's icon and logo. The sizes
follow the rules of the home-assistant/brands repository: PNG, transparent,
trimmed, a square 256 px icon (512 px at @2x), a logo whose shortest side is
128 to 256 px (256 to 512 px at @2x).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .problems import Problem

REQUIRED_IMAGES = ("icon.png", "icon@2x.png", "logo.png", "logo@2x.png")
_KINDS = ("icon", "logo", "dark_icon", "dark_logo")
_SHORTEST_SIDE = {False: (128, 256), True: (256, 512)}


def check_brand(package_dir: Path, root: Path) -> list[Problem]:
    """Return every problem of the brand images."""
    brand_dir = package_dir / "brand"
    problems: list[Problem] = []
    for name in REQUIRED_IMAGES:
        if not (brand_dir / name).is_file():
            relative = str((brand_dir / name).relative_to(root))
            problems.append(Problem(relative, "file is missing"))
    if not brand_dir.is_dir():
        return problems

    allowed = {f"{kind}{scale}.png" for kind in _KINDS for scale in ("", "@2x")}
    for path in sorted(brand_dir.iterdir()):
        relative = str(path.relative_to(root))
        if path.name not in allowed:
            problems.append(
                Problem(relative, "not a brand image name Home Assistant uses")
            )
            continue
        problems += [Problem(relative, message) for message in _image_problems(path)]
    return problems


def _image_problems(path: Path) -> list[str]:
    """Return what is wrong with one brand image."""
    try:
        with Image.open(path) as image:
            image_format = image.format
            image.load()
            rgba = image.convert("RGBA")
            has_alpha = "A" in image.getbands() or "transparency" in image.info
    except (OSError, UnidentifiedImageError) as err:
        return [f"cannot be read as an image: {err}"]
    if image_format != "PNG":
        return [f"must be a PNG file, not {image_format}"]

    found = []
    width, height = rgba.size
    double = path.stem.endswith("@2x")
    if "icon" in path.stem:
        expected = 512 if double else 256
        if (width, height) != (expected, expected):
            found.append(
                f"is {width}x{height} px; an icon must be {expected}x{expected}"
            )
    else:
        low, high = _SHORTEST_SIDE[double]
        if not low <= min(width, height) <= high:
            found.append(
                f"is {width}x{height} px; the shortest side of a logo must be "
                f"{low} to {high} px"
            )
        if width < height:
            found.append(f"is {width}x{height} px; a logo must not be portrait")
    if not has_alpha:
        found.append("has no transparency")
    bounds = rgba.getchannel("A").getbbox()
    if bounds is None:
        found.append("is fully transparent")
    else:
        left, top, right, bottom = bounds
        spans_width = left == 0 and right == width
        spans_height = top == 0 and bottom == height
        if not (spans_width or spans_height):
            found.append("is not trimmed: the drawing must reach two opposite edges")
    return found
