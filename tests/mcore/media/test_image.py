"""The image processor on generated images (real libvips, called directly)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from mcore.media import image, thumbhash
from mcore.media.errors import OverLimit, ProcessingError
from tests import media

LIMITS = {"max_pixels": 500_000_000, "max_frames": 1000}


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_previews_from_one_decode_sizes_and_placeholder(tmp_path: Path) -> None:
    src = _write(tmp_path, "a.jpg", media.jpeg(2000, 1000, (200, 60, 30)))
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    sizes = {o["name"]: (o["width"], o["height"]) for o in made["outputs"]}
    assert sizes == {"preview-1024": (1024, 512), "preview-256": (256, 128)}
    for output in made["outputs"]:
        loaded = pyvips.Image.new_from_file(output["path"])
        assert loaded.get("vips-loader") == "webpload"
        assert (loaded.width, loaded.height) == (output["width"], output["height"])
    info = made["info"]
    assert info["width"] == 2000
    assert info["height"] == 1000
    assert info["format"] == "jpeg"
    assert info["color_space"] == "srgb"
    assert info["frames"] == 1
    assert made["warnings"] == []
    hash_ = __import__("base64").b64decode(info["placeholder"])
    assert len(hash_) <= 25
    assert thumbhash.aspect_ratio(hash_) == pytest.approx(2.0, rel=0.3)
    r, g, b, a = thumbhash.average_rgba(hash_)
    # mostly (200, 60, 30) with a white corner: the average is reddish
    assert r > g
    assert r > b
    assert a == 1.0


def test_small_image_is_not_upscaled(tmp_path: Path) -> None:
    src = _write(tmp_path, "s.png", media.png(100, 50))
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    assert {(o["width"], o["height"]) for o in made["outputs"]} == {(100, 50)}
    assert made["info"]["format"] == "png"


def test_exif_orientation_is_applied_and_metadata_stripped(tmp_path: Path) -> None:
    data = media.jpeg(640, 480, orientation=6, gps=(52.52, -13.4), camera="Canon EOS R5")
    src = _write(tmp_path, "turned.jpg", data)
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    info = made["info"]
    assert (info["width"], info["height"]) == (640, 480)
    assert (info["display_width"], info["display_height"]) == (480, 640)
    large = next(o for o in made["outputs"] if o["name"] == "preview-1024")
    assert (large["width"], large["height"]) == (480, 640)  # turned upright
    preview = pyvips.Image.new_from_file(large["path"])
    fields = preview.get_fields()
    assert not any(f.startswith(("exif", "xmp", "iptc")) for f in fields), fields
    assert b"Canon" not in Path(large["path"]).read_bytes()
    # the white corner (top-left in the stored pixels) is top-right once turned 90° clockwise
    top_right = preview.crop(preview.width - 20, 5, 10, 10).avg()
    top_left = preview.crop(5, 5, 10, 10).avg()
    assert top_right > 240 > top_left
    assert made["capture"]["camera_model"] == "Canon EOS R5"
    assert made["capture"]["taken_at"] == "2024-05-06T07:08:09"
    assert made["gps"] == {
        "latitude": pytest.approx(52.52, abs=1e-4),
        "longitude": pytest.approx(-13.4, abs=1e-4),
    }


def test_png_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    src = _write(tmp_path, "bomb.png", media.png_bomb())
    with pytest.raises(OverLimit, match=r"100000x100000 pixels \(10,000 MP\)"):
        image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)


def test_gif_with_too_many_frames_is_refused(tmp_path: Path) -> None:
    src = _write(tmp_path, "many.gif", media.gif_frames(1500))
    with pytest.raises(OverLimit, match="1500 frames"):
        image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)


def test_gif_first_frame_within_limits(tmp_path: Path) -> None:
    src = _write(tmp_path, "few.gif", media.gif_frames(20, size=16))
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    assert made["info"]["frames"] == 20
    assert made["info"]["format"] == "gif"
    assert {(o["width"], o["height"]) for o in made["outputs"]} == {(16, 16)}


def test_truncated_jpeg_degrades_with_a_warning(tmp_path: Path) -> None:
    data = media.jpeg(800, 600)
    src = _write(tmp_path, "cut.jpg", data[: len(data) // 2])
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    assert made["warnings"]
    assert "damaged or cut short" in made["warnings"][0]
    assert len(made["outputs"]) == 2


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.jpg", b"", "not an image"),
        ("noise.jpg", b"\xff\xd8\xff" + bytes(range(256)) * 4, "could not be decoded|not an image"),
        (
            "page.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "not processed|not an image",
        ),
    ],
)
def test_unreadable_or_unwanted_input(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    src = _write(tmp_path, name, data)
    with pytest.raises(ProcessingError, match=message):
        image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)


def test_transform_fits(tmp_path: Path) -> None:
    src = _write(tmp_path, "a.jpg", media.jpeg(400, 200))
    cases = {
        ("contain", 100, 100): (100, 50),
        ("cover", 100, 100): (100, 100),
        ("fill", 100, 100): (100, 100),
        ("contain", 100, None): (100, 50),
        ("contain", None, 40): (80, 40),
        ("contain", 4000, 4000): (400, 200),  # never upscaled
    }
    for n, ((fit, w, h), expected) in enumerate(cases.items()):
        out = tmp_path / f"out-{n}.png"
        made = image.transform(src, str(out), w, h, fit, "png", 100, **LIMITS)
        assert (made["width"], made["height"]) == expected, (fit, w, h)
        loaded = pyvips.Image.new_from_file(str(out))
        assert (loaded.width, loaded.height) == expected
    out = tmp_path / "out.jpg"
    made = image.transform(src, str(out), 50, None, "contain", "jpeg", 70, **LIMITS)
    assert made["content_type"] == "image/jpeg"
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"


def test_thumbhash_alpha_and_portrait() -> None:
    width, height = 10, 20
    rgba = bytes([0, 0, 255, 128] * width * height)
    hash_ = thumbhash.encode(width, height, rgba)
    r, g, b, a = thumbhash.average_rgba(hash_)
    assert b > 0.9
    assert r < 0.1
    assert g < 0.1
    assert a == pytest.approx(0.5, abs=0.1)
    assert thumbhash.aspect_ratio(hash_) == pytest.approx(0.5, rel=0.3)
    with pytest.raises(ValueError):
        thumbhash.encode(101, 1, bytes(404))


@pytest.mark.parametrize(
    ("suffix", "options", "fmt"),
    [(".webp", {}, "webp"), (".tif", {}, "tiff"), (".avif", {"compression": "av1"}, "heif")],
)
def test_other_formats_libvips_reads(
    tmp_path: Path, suffix: str, options: dict[str, str], fmt: str
) -> None:
    source = pyvips.Image.black(640, 480, bands=3).linear([1, 1, 1], [10, 200, 30]).cast("uchar")
    src = _write(tmp_path, f"in{suffix}", bytes(source.write_to_buffer(suffix, **options)))
    made = image.make_previews(src, str(tmp_path), [256, 1024], 80, **LIMITS)
    assert made["info"]["format"] == fmt
    assert {(o["width"], o["height"]) for o in made["outputs"]} == {(640, 480), (256, 192)}


def test_small_pixel_limit_is_printed_in_pixels_not_as_zero_megapixels(tmp_path: Path) -> None:
    src = _write(tmp_path, "p.png", media.png(320, 200))
    with pytest.raises(OverLimit) as refused:
        image.make_previews(src, str(tmp_path), [256], 80, max_pixels=40_000, max_frames=10)
    assert "(64,000 pixels)" in refused.value.message
    assert "at most 40,000 pixels" in refused.value.message
    assert "0 MP" not in refused.value.message


def test_megapixel_limit_keeps_its_fraction(tmp_path: Path) -> None:
    src = _write(tmp_path, "p.png", media.png(1000, 1001))
    with pytest.raises(OverLimit) as refused:
        image.make_previews(src, str(tmp_path), [256], 80, max_pixels=1_000_000, max_frames=10)
    assert "(1.001 MP)" in refused.value.message
    assert "at most 1 MP" in refused.value.message
