"""The copy of an image others download: its pixels as shown, none of its personal
metadata (real libvips and Pillow on images the tests make)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from PIL import Image

from mcore.media.strip import strip_metadata
from tests import media

LIMITS = {"max_pixels": 100_000_000, "max_frames": 100}


def test_a_photo_loses_its_gps_and_camera_and_is_turned_upright(tmp_path: Path) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(media.jpeg(120, 80, orientation=6, gps=(48.8566, 2.3522), camera="Canon R5"))
    result = strip_metadata(str(src), str(tmp_path), **LIMITS)
    assert "exif:GPSLatitude" in result["removed"]
    assert "exif:Model" in result["removed"]
    output = result["output"]
    assert (output["content_type"], output["width"], output["height"]) == ("image/jpeg", 80, 120)
    copy = Path(output["path"]).read_bytes()
    assert b"Canon" not in copy
    assert dict(Image.open(Path(output["path"])).getexif()) == {}
    assert not pyvips.Image.new_from_buffer(copy, "").get_typeof("exif-data")


def test_an_image_with_nothing_personal_needs_no_copy(tmp_path: Path) -> None:
    src = tmp_path / "plain.png"
    src.write_bytes(media.png(40, 30))  # libvips writes a bare EXIF block: size and such
    assert strip_metadata(str(src), str(tmp_path), **LIMITS) == {"removed": [], "output": None}


def test_a_tiff_libvips_cannot_decode_is_copied_through_pillow(tmp_path: Path) -> None:
    src = tmp_path / "scan.tif"
    src.write_bytes(media.tiff_pages([(200, 30, 40), (0, 200, 0)], size=(64, 48)))
    result = strip_metadata(str(src), str(tmp_path), **LIMITS)
    assert result["removed"] == ["tiff:tags"]  # a TIFF's own tags are never trusted
    copy = pyvips.Image.new_from_file(result["output"]["path"])
    assert (copy.width, copy.height) == (64, 48)
    assert copy.getpoint(10, 10) == pytest.approx([200, 30, 40], abs=4)
