"""Video: ffprobe's JSON, a poster frame, an optional web rendition.

Command lines are built with ffmpeg-python and run as asyncio subprocesses through
``mcore.media.sandbox.run_tool`` (time limit, memory limit, kill). ffmpeg reports progress
on ``-progress pipe:1``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg

from mcore.media import errors
from mcore.media.errors import OverLimit, ProcessingError
from mcore.media.sandbox import run_tool

RENDITION_HEIGHT = 720


def _stderr(data: bytes) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return "; ".join(lines[-3:])[:400]


def _rate(text: Any) -> float | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return round(float(value), 3) if value > 0 else None


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


async def probe(src: Path, *, ffprobe: str, time_limit: float, memory_limit: int) -> dict[str, Any]:
    """ffprobe's view of a file: format and streams, as JSON."""
    argv = [
        ffprobe,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(src),
    ]
    result = await run_tool(argv, time_limit=time_limit, memory_limit=memory_limit, name="ffprobe")
    if result.returncode != 0:
        raise ProcessingError(
            f"not a video or audio file ffprobe can read: {_stderr(result.stderr)}"
        )
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise ProcessingError("ffprobe gave an answer that is not JSON") from None
    return data


def summarize(probed: dict[str, Any]) -> dict[str, Any]:
    """Duration, codecs, dimensions and frame rate from ffprobe's JSON."""
    fmt = probed.get("format") or {}
    streams = probed.get("streams") or []
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = _number(fmt.get("duration"))
    if duration is None and video is not None:
        duration = _number(video.get("duration"))
    info: dict[str, Any] = {
        "container": fmt.get("format_name"),
        "duration": round(duration, 3) if duration is not None else None,
        "bit_rate": int(fmt["bit_rate"]) if str(fmt.get("bit_rate", "")).isdigit() else None,
        "has_video": video is not None,
        "has_audio": audio is not None,
    }
    if video is not None:
        info.update(
            video_codec=video.get("codec_name"),
            width=video.get("width"),
            height=video.get("height"),
            frame_rate=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
            pixel_format=video.get("pix_fmt"),
            rotation=_rotation(video),
        )
    if audio is not None:
        info.update(
            audio_codec=audio.get("codec_name"),
            sample_rate=int(audio["sample_rate"])
            if str(audio.get("sample_rate", "")).isdigit()
            else None,
            channels=audio.get("channels"),
        )
    return info


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            try:
                return int(side["rotation"]) % 360
            except (TypeError, ValueError):
                return 0
    return 0


def check_limits(info: dict[str, Any], *, max_duration: float, max_pixels: int) -> None:
    """Refuse a video over the configured duration or frame size, before decoding it."""
    duration = info.get("duration")
    if duration is not None and duration > max_duration:
        raise OverLimit(
            f"the video lasts {errors.duration(duration)}; this server processes at most"
            f" {errors.duration(max_duration)}. The original is kept."
        )
    width, height = info.get("width") or 0, info.get("height") or 0
    if width * height > max_pixels:
        raise OverLimit(
            f"the video is {width}x{height} ({errors.pixels(width * height)} a frame); this"
            f" server processes frames of at most {errors.pixels(max_pixels)}. The original"
            " is kept."
        )


# Global options go first: ffmpeg ignores options after the last output file.
GLOBAL_ARGS = ["-nostdin", "-y", "-v", "error", "-progress", "pipe:1", "-nostats"]


def _command(ffmpeg_path: str, out_stream: Any) -> list[str]:
    return [ffmpeg_path, *GLOBAL_ARGS, *(str(a) for a in out_stream.get_args())]


def poster_time(duration: float | None) -> float:
    """Where the poster frame is taken: a tenth in, at most 5 s (past fade-ins)."""
    if not duration:
        return 0.0
    return round(min(duration * 0.1, 5.0), 3)


def poster_command(
    ffmpeg_path: str, src: Path, out: Path, at: float, edge: int, size: tuple[int, int] = (0, 0)
) -> list[str]:
    """One frame at ``at`` seconds (seeking before decoding), shrunk to fit ``edge`` when
    the video (``size``, if known) is larger; never enlarged."""
    stream = ffmpeg.input(str(src), ss=at) if at > 0 else ffmpeg.input(str(src))
    frame = stream.video
    if not all(size) or max(size) > edge:
        frame = frame.filter(
            "scale", edge, edge, force_original_aspect_ratio="decrease", flags="bicubic"
        )
    out_stream = ffmpeg.output(
        frame, str(out), vframes=1, an=None, format="image2", vcodec="png", compression_level=0
    )
    return _command(ffmpeg_path, out_stream)


async def poster(
    src: Path,
    out: Path,
    *,
    ffmpeg_path: str,
    at: float,
    edge: int,
    size: tuple[int, int] = (0, 0),
    time_limit: float,
    memory_limit: int,
) -> None:
    """Write the poster frame as PNG; an error when there is no frame to take."""
    argv = poster_command(ffmpeg_path, src, out, at, edge, size)
    result = await run_tool(argv, time_limit=time_limit, memory_limit=memory_limit, name="ffmpeg")
    if (result.returncode != 0 or not out.exists()) and at > 0:
        # some files cannot seek; the first frame is better than none
        argv = poster_command(ffmpeg_path, src, out, 0.0, edge, size)
        result = await run_tool(
            argv, time_limit=time_limit, memory_limit=memory_limit, name="ffmpeg"
        )
    if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise ProcessingError(f"no frame could be decoded from the video: {_stderr(result.stderr)}")


def rendition_command(
    ffmpeg_path: str, src: Path, out: Path, *, height: int, has_audio: bool
) -> list[str]:
    """H.264/AAC MP4 at ``height`` lines (never upscaled), moov atom first (faststart)."""
    stream = ffmpeg.input(str(src))
    video = stream.video.filter("scale", -2, height)
    streams = [video, stream["a:0"]] if has_audio else [video]
    kwargs: dict[str, Any] = {
        "vcodec": "libx264",
        "preset": "veryfast",
        "crf": 23,
        "pix_fmt": "yuv420p",
        "movflags": "+faststart",
        "format": "mp4",
        "map_metadata": -1,
    }
    if has_audio:
        kwargs.update(acodec="aac", audio_bitrate="128k", ac=2)
    return _command(ffmpeg_path, ffmpeg.output(*streams, str(out), **kwargs))


async def rendition(
    src: Path,
    out: Path,
    *,
    ffmpeg_path: str,
    info: dict[str, Any],
    time_limit: float,
    memory_limit: int,
    on_progress: Callable[[float], Awaitable[None]],
) -> dict[str, Any]:
    """Transcode the web rendition, reporting the share done (0..1) as ffmpeg goes."""
    source_height = int(info.get("height") or RENDITION_HEIGHT)
    height = min(RENDITION_HEIGHT, source_height)
    height -= height % 2
    argv = rendition_command(
        ffmpeg_path, src, out, height=height, has_audio=bool(info.get("has_audio"))
    )
    duration = float(info.get("duration") or 0)

    async def on_line(line: bytes) -> None:
        key, _, value = line.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and duration > 0 and value.isdigit():
            await on_progress(min(1.0, int(value) / 1e6 / duration))

    result = await run_tool(
        argv,
        time_limit=time_limit,
        memory_limit=memory_limit,
        name="ffmpeg",
        on_line=on_line,
    )
    if result.returncode != 0 or not out.exists():
        raise ProcessingError(f"the web rendition could not be made: {_stderr(result.stderr)}")
    return {"height": height}
