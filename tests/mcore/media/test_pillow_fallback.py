"""TIFFs libvips cannot decode get previews through Pillow, inside the same limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from PIL import Image

from mcore.media import image
from mcore.media.errors import OverLimit, ProcessingError
from mcore.media.sandbox import Sandbox
from tests import media

LIMITS = {"max_pixels": 500_000_000, "max_frames": 1000}
RED, GREEN = (200, 30, 40), (0, 200, 0)


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _pixel(path: str, x: int, y: int) -> list[float]:
    loaded = pyvips.Image.new_from_buffer(Path(path).read_bytes(), "")
    return list(loaded.getpoint(x, y))


@pytest.mark.parametrize("compression", ["zstd", "lzma"])
def test_multipage_rgb_tiff_libvips_cannot_decode(tmp_path: Path, compression: str) -> None:
    """libvips reads the header but not the strips (its libtiff lacks the codec): without
    the fallback the previews came out black."""
    src = _write(tmp_path, "pages.tif", media.tiff_pages([RED, GREEN], compression=compression))
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    (warning,) = made["warnings"]
    assert "libvips could not decode" in warning
    assert compression.upper() in warning
    assert "made with Pillow" in warning
    sizes = {o["name"]: (o["width"], o["height"]) for o in made["outputs"]}
    assert sizes == {"preview-1024": (640, 480), "preview-256": (256, 192)}
    large = next(o for o in made["outputs"] if o["name"] == "preview-1024")
    assert _pixel(large["path"], 400, 300) == pytest.approx(RED, abs=4)  # the first page
    assert _pixel(large["path"], 5, 5) == pytest.approx((255, 255, 255), abs=4)
    info = made["info"]
    assert (info["width"], info["height"], info["frames"]) == (640, 480, 2)
    assert (info["format"], info["color_space"]) == ("tiff", "srgb")
    assert info["placeholder"]


def test_tiff_libvips_refuses_outright(tmp_path: Path) -> None:
    """12-bit samples: libvips will not even read the header; Pillow scales them to 8 bits."""
    src = _write(tmp_path, "scan.tif", media.tiff_12bit(300, 200, 3000, pages=3))
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    (warning,) = made["warnings"]
    assert "not a whole number of bytes" in warning
    assert "made with Pillow" in warning
    sizes = {o["name"]: (o["width"], o["height"]) for o in made["outputs"]}
    assert sizes == {"preview-1024": (300, 200), "preview-256": (256, 171)}
    grey = round(3000 * 255 / 4095)
    large = next(o for o in made["outputs"] if o["name"] == "preview-1024")
    assert _pixel(large["path"], 10, 10) == pytest.approx([grey] * 3, abs=3)
    info = made["info"]
    assert (info["width"], info["height"], info["frames"], info["bands"]) == (300, 200, 3, 1)
    assert info["color_space"] == "grey16"


def test_fallback_checks_the_pixel_limit_before_decoding(tmp_path: Path) -> None:
    """The header claims 60000x60000 pixels over one row of data: refused from the header
    (decoding it would first fail as cut short)."""
    src = _write(tmp_path, "claims.tif", media.tiff_12bit(60_000, 60_000, 7, rows=1))
    with pytest.raises(OverLimit, match="at most 500 MP"):
        image.make_previews(src, str(tmp_path), [256], 80, **LIMITS)
    src = _write(tmp_path, "just.tif", media.tiff_12bit(2000, 1000, 7, rows=1))
    with pytest.raises(OverLimit, match=r"2000x1000 pixels \(2 MP\).*at most 1 MP"):
        image.make_previews(src, str(tmp_path), [256], 80, max_pixels=1_000_000, max_frames=10)


def test_fallback_checks_the_frame_limit(tmp_path: Path) -> None:
    src = _write(tmp_path, "pages.tif", media.tiff_12bit(8, 8, 7, pages=12))
    with pytest.raises(OverLimit, match="12 frames; this server processes at most 10"):
        image.make_previews(src, str(tmp_path), [256], 80, max_pixels=10**6, max_frames=10)


async def test_fallback_stays_within_the_sandbox_memory_limit(tmp_path: Path) -> None:
    """9000x9000 16-bit samples (162 MB decoded whole) are more than a 256 MiB child may
    spend on Pillow: refused before decoding, although under the pixel limit."""
    src = _write(tmp_path, "big.tif", media.tiff_12bit(9000, 9000, 7, rows=1))
    box = Sandbox(memory_limit=256 * 1024 * 1024, time_limit=30)
    try:
        args = {"src": src, "out_dir": str(tmp_path), "sizes": [256], "quality": 80}
        with pytest.raises(ProcessingError, match="needs more memory than the sandbox") as caught:
            await box.run(
                "image.previews",
                {**args, "max_pixels": 10**9, "max_frames": 10},
                result_path=tmp_path / "result.json",
            )
        assert caught.value.permanent
        # the same file inside its rows, small enough, goes through Pillow in the sandbox
        small = _write(tmp_path, "small.tif", media.tiff_12bit(90, 90, 4095))
        made = await box.run(
            "image.previews",
            {**args, "src": small, "max_pixels": 10**9, "max_frames": 10},
            result_path=tmp_path / "result.json",
        )
        assert "made with Pillow" in made["warnings"][0]
        assert _pixel(made["outputs"][0]["path"], 45, 45) == pytest.approx([255] * 3, abs=2)
        # a ZSTD TIFF too large for Pillow here, whose header libvips reads: libvips shows
        # what it can, and the warning names why
        wide = _write(tmp_path, "wide.tif", media.tiff_pages([RED], size=(6000, 6000)))
        made = await box.run(
            "image.previews",
            {**args, "src": wide, "max_pixels": 10**9, "max_frames": 10},
            result_path=tmp_path / "result.json",
        )
        (warning,) = made["warnings"]
        assert "damaged or cut short" in warning
        assert "ZSTD compression support is not configured" in warning
    finally:
        await box.close()


def test_garbled_tiff_is_reported_damaged(tmp_path: Path) -> None:
    """libtiff's errors on a garbled strip now fail libvips' first decode (before, the
    previews were made silently from what it guessed); Pillow cannot read it either, so
    libvips shows what it could read, with the warning that it is damaged."""
    data = bytearray(media.tiff_pages([RED, GREEN], compression="tiff_lzw"))
    at = len(data) // 4  # inside the first page's strips (Pillow writes its IFDs after)
    data[at : at + 200] = bytes(range(200))
    src = _write(tmp_path, "garbled.tif", bytes(data))
    made = image.make_previews(src, str(tmp_path), [256], 80, **LIMITS)
    assert len(made["warnings"]) == 1
    assert "damaged or cut short" in made["warnings"][0]
    assert "Pillow" not in made["warnings"][0]


def test_plain_tiff_stays_with_libvips(tmp_path: Path) -> None:
    src = _write(tmp_path, "plain.tif", media.tiff_pages([RED, GREEN], compression="tiff_lzw"))
    made = image.make_previews(src, str(tmp_path), [256], 80, **LIMITS)
    assert made["warnings"] == []
    assert _pixel(made["outputs"][0]["path"], 200, 150) == pytest.approx(RED, abs=4)


def test_other_formats_never_reach_pillow(tmp_path: Path) -> None:
    """A PNG bomb, a GIF and a JPEG libvips refuses are not handed to Pillow."""
    for name, data, message in [
        ("bomb.png", media.png_bomb(), "100000x100000"),
        ("cut.png", media.png(64, 64)[:40], "not an image|could not be decoded"),
    ]:
        src = _write(tmp_path, name, data)
        with pytest.raises(ProcessingError, match=message) as caught:
            image.make_previews(src, str(tmp_path), [256], 80, **LIMITS)
        assert "Pillow" not in caught.value.message


@pytest.mark.parametrize(
    ("fit", "box", "expected"),
    [
        ("contain", (100, 100), (100, 75)),
        ("cover", (100, 100), (100, 100)),
        ("fill", (50, 100), (50, 100)),
        ("contain", (None, 60), (80, 60)),
        ("contain", (4000, 4000), (640, 480)),  # never enlarged
    ],
)
def test_transform_of_a_tiff_libvips_cannot_decode(
    tmp_path: Path, fit: str, box: tuple[int | None, int | None], expected: tuple[int, int]
) -> None:
    src = _write(tmp_path, "pages.tif", media.tiff_pages([RED, GREEN]))
    out = tmp_path / "out.png"
    made = image.transform(src, str(out), box[0], box[1], fit, "png", 100, **LIMITS)
    assert (made["width"], made["height"]) == expected
    centre = _pixel(str(out), expected[0] // 2, expected[1] // 2)
    assert centre == pytest.approx(RED, abs=4)  # not black


def test_transform_of_a_tiff_libvips_refuses(tmp_path: Path) -> None:
    src = _write(tmp_path, "scan.tif", media.tiff_12bit(300, 200, 4095))
    out = tmp_path / "out.jpg"
    made = image.transform(src, str(out), 150, None, "contain", "jpeg", 90, **LIMITS)
    assert (made["width"], made["height"]) == (150, 100)
    assert _pixel(str(out), 75, 50) == pytest.approx([255], abs=3)  # a grey JPEG
    with pytest.raises(OverLimit):
        image.transform(src, str(out), 150, None, "contain", "jpeg", 90, 1000, 10)


def test_pillow_bomb_limit_is_set_for_the_open_only(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    src = _write(tmp_path, "claims.tif", media.tiff_12bit(60_000, 60_000, 7, rows=1))
    with pytest.raises(OverLimit, match="more than 2,000 pixels"):
        image.make_previews(src, str(tmp_path), [256], 80, max_pixels=1000, max_frames=10)
    assert before == Image.MAX_IMAGE_PIXELS
