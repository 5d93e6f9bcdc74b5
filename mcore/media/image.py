"""Image processing with libvips. These functions run inside sandbox children only.

Previews are made from one decode: the source is shrunk once (with shrink-on-load where
the format allows) to the largest preview size, auto-rotated by its EXIF orientation, and
the smaller previews and the placeholder are made from that. Previews carry no metadata
(no GPS leaks). Limits are checked on the header, before any pixel is decoded.
"""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from warnings import catch_warnings, simplefilter

import pyvips

from mcore.files.imageparams import FITS
from mcore.media import thumbhash
from mcore.media.errors import OverLimit, ProcessingError, pixels

# libvips loaders we accept (by the "vips-loader" header field); others are refused.
LOADERS = {
    "jpegload": "jpeg",
    "jpegload_source": "jpeg",
    "pngload": "png",
    "pngload_source": "png",
    "webpload": "webp",
    "webpload_source": "webp",
    "gifload": "gif",
    "gifload_source": "gif",
    "tiffload": "tiff",
    "tiffload_source": "tiff",
    "heifload": "heif",
    "heifload_source": "heif",
}
SAVERS = {"webp": ".webp", "jpeg": ".jpg", "png": ".png", "avif": ".avif"}
CONTENT_TYPES = {
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "avif": "image/avif",
}


def _open_header(src: str) -> pyvips.Image:
    try:
        image = pyvips.Image.new_from_file(src, access="sequential")
    except pyvips.Error as exc:
        raise ProcessingError(f"not an image this server can read: {_vips_message(exc)}") from None
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else ""
    if loader not in LOADERS:
        raise ProcessingError(f"images of this kind ({loader or 'unknown'}) are not processed")
    return image


def _vips_message(exc: pyvips.Error) -> str:
    text = f"{exc.message} {exc.detail}".strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(dict.fromkeys(lines[:3]))[:300]  # libtiff repeats itself


def _check_limits(image: pyvips.Image, *, max_pixels: int, max_frames: int) -> tuple[int, int]:
    pages = image.get_n_pages()
    height = image.get_page_height() if pages > 1 else image.height
    width = image.width
    if width * height > max_pixels:
        raise OverLimit(
            f"the image is {width}x{height} pixels ({pixels(width * height)}); this server"
            f" processes at most {pixels(max_pixels)}. The original is kept."
        )
    if pages > max_frames:
        raise OverLimit(
            f"the image has {pages} frames; this server processes at most {max_frames}."
            " The original is kept."
        )
    return width, height


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    if image.interpretation not in ("srgb", "b-w") or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _get(image: pyvips.Image, field: str) -> Any:
    return image.get(field) if image.get_typeof(field) else None


def _rational(value: Any) -> float | None:
    try:
        if isinstance(value, tuple):
            return float(Fraction(int(value[0]), int(value[1])))
        return float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    result = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode(errors="replace")
    if isinstance(ref, str) and ref.strip().upper() in ("S", "W"):
        result = -result
    if not math.isfinite(result) or abs(result) > 180:
        return None
    return round(result, 7)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:200] or None


def _capture(exif_data: bytes | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Camera, lens, time taken and GPS from a raw EXIF block (parsed by Pillow)."""
    if not exif_data:
        return {}, None
    from PIL import Image as PILImage

    exif = PILImage.Exif()
    try:
        exif.load(exif_data)
        ifd = exif.get_ifd(0x8769)
        gps_ifd = exif.get_ifd(0x8825)
    except Exception:
        return {"exif_error": "the EXIF block could not be read"}, None
    capture: dict[str, Any] = {}
    for key, value in (
        ("camera_make", _text(exif.get(0x010F))),
        ("camera_model", _text(exif.get(0x0110))),
        ("lens", _text(ifd.get(0xA434))),
        ("taken_at", _taken_at(ifd.get(0x9003) or exif.get(0x0132), ifd.get(0x9011))),
        ("exposure_time", _rational(ifd.get(0x829A))),
        ("f_number", _rational(ifd.get(0x829D))),
        ("iso", ifd.get(0x8827) if isinstance(ifd.get(0x8827), int) else None),
        ("focal_length", _rational(ifd.get(0x920A))),
    ):
        if value is not None:
            capture[key] = value
    gps = None
    lat = _degrees(gps_ifd.get(2), gps_ifd.get(1))
    lon = _degrees(gps_ifd.get(4), gps_ifd.get(3))
    if lat is not None and lon is not None and abs(lat) <= 90:
        gps = {"latitude": lat, "longitude": lon}
        altitude = _rational(gps_ifd.get(6))
        if altitude is not None:
            ref = gps_ifd.get(5)
            below = ref in (1, b"\x01")
            gps["altitude"] = round(-altitude if below else altitude, 2)
    return capture, gps


def _taken_at(value: Any, offset: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        taken = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    iso = taken.isoformat()
    offset_text = _text(offset)
    if offset_text and len(offset_text) == 6 and offset_text[0] in "+-":
        iso += offset_text
    return iso


def _save(image: pyvips.Image, path: Path, fmt: str, quality: int) -> None:
    if fmt == "webp":
        image.webpsave(str(path), Q=quality, keep="none", effort=2)
    elif fmt == "jpeg":
        image.jpegsave(str(path), Q=quality, keep="none", optimize_coding=True)
    elif fmt == "png":
        image.pngsave(str(path), keep="none", compression=6)
    elif fmt == "avif":  # the encoder's fastest effort: bench/README.md has the timings
        image.heifsave(str(path), Q=quality, compression="av1", effort=0, keep="none")
    else:
        raise ProcessingError(f"unknown output format {fmt!r}")


def _placeholder(image: pyvips.Image) -> str:
    small = image.thumbnail_image(32, height=32, size="down")
    small = _to_srgb(small)
    if small.bands == 1:
        small = small.bandjoin([small, small])
    elif small.bands == 2:
        small = small[0].bandjoin([small[0], small[0], small[1]])
    if small.bands == 3:
        small = small.bandjoin(255)
    return thumbhash.encode_base64(small.width, small.height, bytes(small[0:4].write_to_memory()))


# -- the Pillow fallback ------------------------------------------------------------------
#
# Some TIFFs libvips cannot decode (ZSTD or LZMA compression its libtiff was built without,
# sample layouts it refuses) Pillow reads. Pillow decodes a whole image at once, never
# shrinking on load, so it is used for TIFF alone (never PNG, GIF, JPEG or WebP, where a
# bomb would be decoded whole) and only after the size is checked from the header against
# the pixel and frame limits and against the child's memory limit. It runs in the same
# sandbox child; libvips then shrinks what Pillow decoded and writes the previews.

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
PILLOW_MEMORY_SHARE = 3  # the decoded image and its two working copies fit in a third
PILLOW_NO_LIMIT_BUDGET = 1024**3  # the budget when no address-space limit is set


# Pillow's modes by the names libvips gives the same colour spaces on other images.
PILLOW_SPACES = {
    "1": "b-w",
    "L": "b-w",
    "LA": "b-w",
    "I;16": "grey16",
    "I;16B": "grey16",
    "RGB": "srgb",
    "RGBA": "srgb",
    "CMYK": "cmyk",
    "LAB": "lab",
}


def _is_tiff(src: str) -> bool:
    with open(src, "rb") as f:
        return f.read(4) in TIFF_MAGIC


def _memory_budget() -> int:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    limit = PILLOW_NO_LIMIT_BUDGET if soft == resource.RLIM_INFINITY else soft
    return limit // PILLOW_MEMORY_SHARE


def _pillow_bytes_per_pixel(mode: str) -> int:
    from PIL import Image as PILImage

    if PILImage.getmodebands(mode) > 1:
        return 4  # Pillow keeps every multi-band pixel in four bytes
    if mode in ("I", "F"):
        return 4
    return 2 if "16" in mode else 1


def _pillow_to_8bit(picture: Any, bits: int) -> Any:
    """RGB(A) or L at 8 bits a sample, as the previews are made from (``bits``: the
    samples' depth in the file, 12 for most scanners' I;16)."""
    mode = picture.mode
    if mode.startswith("I;16"):
        scale = 255 / (2 ** min(max(bits, 1), 16) - 1)
        return picture.convert("I").point(lambda v: v * scale).convert("L")
    if mode in ("I", "F"):
        low, high = picture.getextrema()
        scale = 255 / (high - low) if high > low else 0
        return picture.convert("F").point(lambda v: v * scale - low * scale).convert("L")
    if mode in ("1", "L"):
        return picture.convert("L")
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in picture.info:
        return picture.convert("RGBA")
    return picture.convert("RGB")


class PillowTooBig(ProcessingError):
    """The TIFF would need more memory decoded whole than the sandbox allows."""


def _pillow_over(size: str, max_pixels: int) -> OverLimit:
    return OverLimit(
        f"the image is {size}; this server processes at most {pixels(max_pixels)}."
        " The original is kept."
    )


def _pillow_open(src: str, *, max_pixels: int, max_frames: int) -> Any:
    """The TIFF opened by Pillow (its header only), its size checked against the limits
    and the memory it would take decoded; None if Pillow cannot read it either."""
    from PIL import Image as PILImage

    before = PILImage.MAX_IMAGE_PIXELS
    PILImage.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bomb check, made on the header
    try:
        with catch_warnings():  # over the limit but not twice: checked below
            simplefilter("ignore", PILImage.DecompressionBombWarning)
            picture = PILImage.open(src, formats=["TIFF"])
    except PILImage.DecompressionBombError:
        raise _pillow_over(f"more than {pixels(2 * max_pixels)}", max_pixels) from None
    except Exception:
        return None
    finally:
        PILImage.MAX_IMAGE_PIXELS = before  # it is only checked by open()
    width, height = picture.size
    if width * height > max_pixels:
        raise _pillow_over(f"{width}x{height} pixels ({pixels(width * height)})", max_pixels)
    frames = int(getattr(picture, "n_frames", 1))
    if frames > max_frames:
        raise OverLimit(
            f"the image has {frames} frames; this server processes at most {max_frames}."
            " The original is kept."
        )
    if width * height * _pillow_bytes_per_pixel(picture.mode) > _memory_budget():
        raise PillowTooBig(
            f"libvips cannot decode this TIFF, and decoding its {width}x{height} pixels whole"
            " with Pillow needs more memory than the sandbox allows. The original is kept."
        )
    return picture


def _pillow_image(picture: Any, box: tuple[int, int]) -> pyvips.Image:
    """Decode the first page with Pillow, turn it upright, shrink it to fit ``box`` (never
    enlarged), and hand it to libvips (8-bit sRGB or grey)."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    picture.seek(0)
    picture.load()
    depth = picture.tag_v2.get(258) or (16,)
    upright = ImageOps.exif_transpose(picture)  # a copy, without the TIFF tags
    small = _pillow_to_8bit(upright, int(depth[0]))
    small.thumbnail(box, PILImage.Resampling.LANCZOS)
    bands = len(small.getbands())
    image = pyvips.Image.new_from_memory(small.tobytes(), small.width, small.height, bands, "uchar")
    return image.copy(interpretation="srgb" if bands >= 3 else "b-w").copy_memory()


def _pillow_decoded(picture: Any, box: tuple[int, int]) -> pyvips.Image | None:
    """What Pillow decodes of the first page; None if it cannot (damaged: libvips then
    shows what it could read)."""
    if picture is None:
        return None
    try:
        return _pillow_image(picture, box)
    except (OSError, ValueError, SyntaxError, EOFError):
        return None


def _pillow_if_it_fits(src: str, limits: dict[str, int]) -> Any:
    """For a TIFF whose header libvips read: Pillow's view of it, or None when Pillow
    cannot read it or it is too large to decode whole (libvips then shows what it can)."""
    try:
        return _pillow_open(src, **limits)
    except PillowTooBig:
        return None


def _pillow_info(picture: Any) -> dict[str, Any]:
    orientation = picture.getexif().get(0x0112) or 1
    if orientation not in range(1, 9):
        orientation = 1
    turned = orientation in (5, 6, 7, 8)
    return {
        "width": picture.width,
        "height": picture.height,
        "display_width": picture.height if turned else picture.width,
        "display_height": picture.width if turned else picture.height,
        "format": "tiff",
        "color_space": PILLOW_SPACES.get(picture.mode, picture.mode.lower()),
        "bands": len(picture.getbands()),
        "has_alpha": "A" in picture.getbands() or "transparency" in picture.info,
        "frames": int(getattr(picture, "n_frames", 1)),
        "orientation": orientation,
    }


def _pillow_exif(picture: Any) -> bytes | None:
    try:
        data: bytes = picture.getexif().tobytes()
    except Exception:
        return None
    return data or None


def _fallback_warning(message: str) -> str:
    return (
        f"libvips could not decode this image ({message}); its previews were made with"
        " Pillow from the first page"
    )


def _thumbnail(src: str, size: int, *, fail_on: str, **kwargs: Any) -> pyvips.Image:
    image = pyvips.Image.thumbnail(src, size, height=size, size="down", fail_on=fail_on, **kwargs)
    return _to_srgb(image).copy_memory()


def make_previews(
    src: str,
    out_dir: str,
    sizes: list[int],
    quality: int,
    max_pixels: int,
    max_frames: int,
) -> dict[str, Any]:
    """Previews (WebP, long edge at each of ``sizes``), a ThumbHash and what the image is."""
    largest = max(sizes)
    limits = {"max_pixels": max_pixels, "max_frames": max_frames}
    try:
        header = _open_header(src)
    except ProcessingError as refused:
        picture = _pillow_open(src, **limits) if _is_tiff(src) else None
        base = _pillow_decoded(picture, (largest, largest))
        if base is None:
            raise
        capture, gps = _capture(_pillow_exif(picture))
        found = _pillow_info(picture)
        warning = _fallback_warning(
            refused.message.removeprefix("not an image this server can read: ")
        )
        return _finish_previews(base, found, capture, gps, [warning], out_dir, sizes, quality)
    width, height = _check_limits(header, **limits)
    loader = header.get("vips-loader")
    warnings: list[str] = []
    # A TIFF whose strips libtiff cannot decode (a compression it was built without) comes
    # out black unless libtiff's errors fail the load; they then send it to Pillow.
    tiff = LOADERS[loader] == "tiff"
    try:
        base = _thumbnail(src, largest, fail_on="error" if tiff else "truncated")
    except pyvips.Error as exc:
        message = _vips_message(exc)
        if "out of memory" in message:
            raise ProcessingError(
                f"decoding this image needs more memory than the sandbox allows ({message})"
            ) from None
        picture = _pillow_if_it_fits(src, limits) if tiff else None
        base = _pillow_decoded(picture, (largest, largest))
        if base is not None:
            warnings.append(_fallback_warning(message))
        else:
            try:
                base = _thumbnail(src, largest, fail_on="none")
            except pyvips.Error:
                raise ProcessingError(f"the image could not be decoded: {message}") from None
            warnings.append(
                f"the image is damaged or cut short ({message}); previews show what could be read"
            )
    orientation = _get(header, "orientation") or 1
    info: dict[str, Any] = {
        "width": width,
        "height": height,
        "display_width": height if orientation in (5, 6, 7, 8) else width,
        "display_height": width if orientation in (5, 6, 7, 8) else height,
        "format": LOADERS[loader],
        "color_space": header.interpretation,
        "bands": header.bands,
        "has_alpha": bool(header.hasalpha()),
        "frames": header.get_n_pages(),
        "orientation": orientation,
    }
    capture, gps = _capture(_get(header, "exif-data"))
    return _finish_previews(base, info, capture, gps, warnings, out_dir, sizes, quality)


def _finish_previews(
    base: pyvips.Image,
    info: dict[str, Any],
    capture: dict[str, Any],
    gps: dict[str, Any] | None,
    warnings: list[str],
    out_dir: str,
    sizes: list[int],
    quality: int,
) -> dict[str, Any]:
    largest = max(sizes)
    outputs = []
    out = Path(out_dir)
    for size in sorted(sizes, reverse=True):
        image = base if size == largest else base.thumbnail_image(size, height=size, size="down")
        path = out / f"preview-{size}.webp"
        _save(image, path, "webp", quality)
        outputs.append(
            {
                "name": f"preview-{size}",
                "path": str(path),
                "content_type": "image/webp",
                "width": image.width,
                "height": image.height,
            }
        )
    info["placeholder"] = _placeholder(base)
    return {
        "info": info,
        "capture": capture,
        "gps": gps,
        "outputs": outputs,
        "warnings": warnings,
    }


def transform(
    src: str,
    out: str,
    width: int | None,
    height: int | None,
    fit: str,
    fmt: str,
    quality: int,
    max_pixels: int,
    max_frames: int,
) -> dict[str, Any]:
    """One resized, converted copy (``/image?w=&h=&fit=&format=&q=``), metadata stripped."""
    if fit not in FITS:
        raise ProcessingError(f"unknown fit {fit!r}")
    box_w = width or 10_000_000
    box_h = height or 10_000_000
    options: dict[str, Any] = {"height": box_h, "size": "down"}
    if fit == "cover" and width and height:
        options["crop"] = "centre"
    elif fit == "fill" and width and height:
        options["size"] = "force"
    limits = {"max_pixels": max_pixels, "max_frames": max_frames}
    try:
        image = _to_srgb(_transformed(src, box_w, options, limits))
        if fmt == "jpeg" and image.hasalpha():
            image = image.flatten(background=[255, 255, 255])
        _save(image, Path(out), fmt, quality)
    except pyvips.Error as exc:
        raise ProcessingError(f"the image could not be decoded: {_vips_message(exc)}") from None
    return {"width": image.width, "height": image.height, "content_type": CONTENT_TYPES[fmt]}


def _pillow_box(size: tuple[int, int], box_w: int, box_h: int) -> tuple[int, int]:
    """How far Pillow may shrink before libvips fits, covers or fills the box: to the
    size at which the image still covers the box (so every fit has the pixels it needs)."""
    width, height = size
    scale = min(1.0, max(box_w / width, box_h / height))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _transformed(
    src: str, box_w: int, options: dict[str, Any], limits: dict[str, int]
) -> pyvips.Image:
    """The source shrunk for ``transform``: by libvips, or through Pillow for a TIFF
    libvips cannot decode (as for previews)."""
    box_h = int(options["height"])
    try:
        header = _open_header(src)
    except ProcessingError:
        picture = _pillow_open(src, **limits) if _is_tiff(src) else None
        decoded = (
            _pillow_decoded(picture, _pillow_box(picture.size, box_w, box_h)) if picture else None
        )
        if decoded is None:
            raise
        return decoded.thumbnail_image(box_w, **options)
    _check_limits(header, **limits)
    if LOADERS[header.get("vips-loader")] != "tiff":
        return pyvips.Image.thumbnail(src, box_w, fail_on="none", **options)
    try:  # decoded here, so libtiff's errors show now rather than as a black image
        return pyvips.Image.thumbnail(src, box_w, fail_on="error", **options).copy_memory()
    except pyvips.Error:
        picture = _pillow_if_it_fits(src, limits)
        decoded = (
            _pillow_decoded(picture, _pillow_box(picture.size, box_w, box_h)) if picture else None
        )
        if decoded is None:
            return pyvips.Image.thumbnail(src, box_w, fail_on="none", **options)
        return decoded.thumbnail_image(box_w, **options)
