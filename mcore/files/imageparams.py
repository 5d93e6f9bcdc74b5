"""The parameters of an on-the-fly image (``/image?w=&h=&fit=&format=&q=``), checked
against the whitelist and the limits: by the route, by signed links to it when they are
made and used, and by the sandbox's transform (its fits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mcore.errors import Invalid

if TYPE_CHECKING:
    from mcore.settings import Settings

FITS = ("contain", "cover", "fill")
FORMATS = ("webp", "jpeg", "png", "avif")
DEFAULT_QUALITY = 80


@dataclass(frozen=True)
class TransformParams:
    width: int | None
    height: int | None
    fit: str
    format: str
    quality: int

    def query(self) -> dict[str, str]:
        """The parameters as ``/image`` takes them in its query (a signed link's)."""
        sizes = {"w": self.width, "h": self.height}
        return {
            **{k: str(v) for k, v in sizes.items() if v is not None},
            "fit": self.fit,
            "format": self.format,
            "q": str(self.quality),
        }

    def recipe_params(self) -> dict[str, object]:
        """The parameters as the derivative's recipe records them."""
        return {
            "w": self.width,
            "h": self.height,
            "fit": self.fit,
            "format": self.format,
            "q": self.quality,
        }


def parse_params(
    settings: Settings,
    *,
    w: int | None,
    h: int | None,
    fit: str | None,
    format: str | None,
    q: int | None,
) -> TransformParams:
    """Check the query against the whitelist and the limits."""
    largest = settings.media.transform_max_dimension
    if w is None and h is None:
        raise Invalid("give w, h or both (in pixels)", field="w")
    for name, value in (("w", w), ("h", h)):
        if value is not None and not 1 <= value <= largest:
            raise Invalid(f"{name} must be between 1 and {largest}", field=name)
    fit = fit or "contain"
    if fit not in FITS:
        raise Invalid(f"fit must be one of {', '.join(FITS)}", field="fit")
    fmt = (format or "webp").lower()
    if fmt == "jpg":
        fmt = "jpeg"
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}", field="format")
    quality = q if q is not None else DEFAULT_QUALITY
    if not 1 <= quality <= 100:
        raise Invalid("q must be between 1 and 100", field="q")
    if fmt == "png":
        quality = 100  # lossless: q means nothing, so it must not split the cache
    return TransformParams(width=w, height=h, fit=fit, format=fmt, quality=quality)
