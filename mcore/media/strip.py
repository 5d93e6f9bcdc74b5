"""The copy of an image that people other than its owner download: its pixels as shown,
without what its metadata says about where, when and with what it was taken.

Originals are immutable (their CID is their bytes), so a public photo's GPS position,
camera serial or XMP history cannot be taken out of the original; this makes a second
blob instead (``mcore.files.derivatives``: the ``stripped`` derivative). Runs inside
sandbox children only, within the same pixel and frame limits as previews.

An image whose metadata holds nothing beyond how to show it (size, resolution, colour
profile, orientation) needs no copy: the original is given as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyvips

from mcore.media.errors import ProcessingError
from mcore.media.image import (
    LOADERS,
    _check_limits,
    _open_header,
    _pillow_decoded,
    _pillow_if_it_fits,
    _vips_message,
)

# EXIF fields that say only how to show the pixels: an image with no other metadata is
# served as it is. Anything else (GPS, camera, times, names, comments) is stripped.
DISPLAY_EXIF = frozenset(
    {
        "Orientation",
        "XResolution",
        "YResolution",
        "ResolutionUnit",
        "YCbCrPositioning",
        "ExifVersion",
        "FlashpixVersion",
        "ComponentsConfiguration",
        "ColorSpace",
        "PixelXDimension",
        "PixelYDimension",
    }
)
PERSONAL_BLOCKS = ("xmp-data", "iptc-data", "exif-data")  # what is removed, when present
CONTENT_TYPES = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tiff": "image/tiff",
    "avif": "image/avif",
}


def personal_metadata(image: pyvips.Image) -> list[str]:
    """What in the image's metadata says more than how to show it: EXIF tags by name,
    XMP, IPTC and text comments. Empty when there is nothing to strip. libvips does not
    show a TIFF's own tags (a GPS directory among them), so a TIFF is always copied."""
    found = []
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else ""
    if loader.startswith("tiffload"):
        found.append("tiff:tags")
    for name in image.get_fields():
        if name.startswith("exif-ifd"):
            tag = name.partition("-")[2].partition("-")[2]
            if tag not in DISPLAY_EXIF:
                found.append(f"exif:{tag}")
        elif name in ("xmp-data", "iptc-data") or "comment" in name:
            found.append(name.removesuffix("-data"))
    return sorted(set(found))


def _format(loader: str, image: pyvips.Image) -> str:
    fmt = LOADERS[loader]
    if fmt == "heif":  # AVIF stays AVIF; HEVC has no encoder here, so HEIC becomes JPEG
        compression = image.get("heif-compression") if image.get_typeof("heif-compression") else ""
        return "avif" if compression == "av1" else "jpeg"
    return fmt


def _save(image: pyvips.Image, path: Path, fmt: str) -> None:
    """Save with no metadata but the colour profile (``keep="icc"``), at high quality."""
    if fmt == "jpeg":
        if image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        image.jpegsave(str(path), Q=95, keep="icc", optimize_coding=True)
    elif fmt == "png":
        image.pngsave(str(path), keep="icc", compression=6)
    elif fmt == "webp":
        image.webpsave(str(path), Q=95, keep="icc", effort=2)
    elif fmt == "gif":
        image.gifsave(str(path), keep="none")
    elif fmt == "tiff":
        image.tiffsave(str(path), keep="icc", compression="deflate")
    elif fmt == "avif":
        image.heifsave(str(path), Q=90, compression="av1", effort=0, keep="icc")
    else:
        raise ProcessingError(f"no copy without metadata can be made of {fmt} images")


def _pillow_tiff(src: str, limits: dict[str, int]) -> pyvips.Image | None:
    """A TIFF libvips cannot decode, through the previews' Pillow fallback (within the
    same limits): its first page, upright and without its tags; None if that fails too."""
    picture = _pillow_if_it_fits(src, limits)
    if picture is None:
        return None
    edge = max(picture.width, picture.height)
    return _pillow_decoded(picture, (edge, edge))


def strip_metadata(src: str, out_dir: str, max_pixels: int, max_frames: int) -> dict[str, Any]:
    """A copy of the image without personal metadata, turned as its EXIF orientation says
    (that tag goes too), in the same format where this server can write it.

    Returns what was found (``removed``) and the copy (``output``), or no output when the
    metadata holds nothing to remove.
    """
    header = _open_header(src)
    _check_limits(header, max_pixels=max_pixels, max_frames=max_frames)
    removed = personal_metadata(header)
    if not removed:
        return {"removed": [], "output": None}
    loader = header.get("vips-loader")
    fmt = _format(loader, header)
    pages = header.get_n_pages()
    path = Path(out_dir) / f"stripped.{fmt}"
    try:
        if pages > 1:  # every frame, as they are (an orientation turns single pictures)
            image = pyvips.Image.new_from_file(src, n=-1, access="sequential", fail_on="error")
        else:
            image = pyvips.Image.new_from_file(src, fail_on="error").autorot()
        _save(image, path, fmt)
    except pyvips.Error as exc:
        message = _vips_message(exc)
        limits = {"max_pixels": max_pixels, "max_frames": max_frames}
        fallback = _pillow_tiff(src, limits) if fmt == "tiff" else None
        try:
            if fallback is None:
                raise ProcessingError(f"no copy without metadata could be made: {message}")
            _save(fallback, path, fmt)
        except pyvips.Error:
            raise ProcessingError(f"no copy without metadata could be made: {message}") from None
        pages = 1
    copy = pyvips.Image.new_from_file(str(path))
    left = [item for item in personal_metadata(copy) if item != "tiff:tags"]
    if left:  # a writer kept something it should not have: never hand that out
        raise ProcessingError(f"the copy still carries metadata ({', '.join(left)})")
    return {
        "removed": removed,
        "output": {
            "name": "stripped",
            "path": str(path),
            "content_type": CONTENT_TYPES[fmt],
            "width": copy.width,
            "height": copy.get_page_height() if pages > 1 else copy.height,
        },
    }
