"""Limit messages print values in units that show them (never "at most 0")."""

from __future__ import annotations

import pytest

from mcore.media import video
from mcore.media.errors import OverLimit, duration, pixels


def test_short_video_limit_is_printed_in_seconds() -> None:
    info = {"duration": 6.0, "width": 64, "height": 64}
    with pytest.raises(OverLimit) as refused:
        video.check_limits(info, max_duration=5, max_pixels=10_000_000)
    assert "the video lasts 6 s; this server processes at most 5 s." in refused.value.message


def test_long_video_limit_is_printed_in_hours_and_minutes() -> None:
    info = {"duration": 5424.0, "width": 64, "height": 64}
    with pytest.raises(OverLimit) as refused:
        video.check_limits(info, max_duration=5400, max_pixels=10_000_000)
    assert "lasts 1 h 30 min 24 s; this server processes at most 1 h 30 min." in (
        refused.value.message
    )


def test_small_frame_limit_is_printed_in_pixels() -> None:
    info = {"duration": 1.0, "width": 320, "height": 240}
    with pytest.raises(OverLimit) as refused:
        video.check_limits(info, max_duration=60, max_pixels=50_000)
    assert "320x240 (76,800 pixels a frame)" in refused.value.message
    assert "frames of at most 50,000 pixels" in refused.value.message


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (1, "1 pixel"),
        (40_000, "40,000 pixels"),
        (250_000, "0.25 MP"),
        (268_435_456, "268.4 MP"),
        (10_000_000_000, "10,000 MP"),
    ],
)
def test_pixels(count: int, text: str) -> None:
    assert pixels(count) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.05, "0.05 s"),
        (6, "6 s"),
        (59.5, "59.5 s"),
        (60, "1 min"),
        (3600, "1 h"),
        (3661, "1 h 1 min 1 s"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text
