"""The processing steps of each profile: what runs in the sandbox or as a tool, and what
it produced (files in the work folder, findings). ``mcore.jobs.process`` runs them for a
job, then stages and records the results."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcore.files.derivatives import Output, Recipe
from mcore.media import video as ffmpeg
from mcore.media.document import find_office_converter
from mcore.media.errors import ProcessingError
from mcore.media.profiles import PREVIEW_QUALITY, PREVIEW_SIZES, PUBLIC_COPY_RECIPE, RENDITION
from mcore.media.sandbox import Sandbox, run_tool
from mcore.media.tools import find_tool
from mcore.settings import Settings


@dataclass
class Context:
    """What a step needs: the settings, the sandbox and a progress callback (0-100)."""

    settings: Settings
    sandbox: Sandbox
    progress: Callable[[int], Awaitable[None]]


@dataclass
class Made:
    """What one recipe produced: outputs staged in the store, and the findings."""

    recipe: Recipe
    produced: list[dict[str, Any]] = field(default_factory=list)  # files in the work folder
    outputs: list[Output] = field(default_factory=list)  # the same, staged in the store
    info: dict[str, Any] = field(default_factory=dict)


def _limits(settings: Settings) -> dict[str, int]:
    return {
        "max_pixels": settings.media.image_max_pixels,
        "max_frames": settings.media.image_max_frames,
    }


async def image(ctx: Context, src: Path, work: Path, made: Made) -> None:
    result = await ctx.sandbox.run(
        "image.previews",
        {
            "src": str(src),
            "out_dir": str(work),
            "sizes": PREVIEW_SIZES,
            "quality": PREVIEW_QUALITY,
            **_limits(ctx.settings),
        },
        result_path=work / "result.json",
    )
    await ctx.progress(80)
    made.info = {
        "media": result["info"],
        "capture": result["capture"],
        "gps": result["gps"],
        "warnings": result["warnings"],
    }
    made.produced.extend(result["outputs"])


async def public_copy(ctx: Context, src: Path, work: Path) -> Made:
    """The copy of an image others download: without its personal metadata, or none when
    it carries nothing to remove (the ``info`` then says so)."""
    made = Made(PUBLIC_COPY_RECIPE)
    out = work / "public-copy"
    out.mkdir()
    result = await ctx.sandbox.run(
        "image.strip",
        {"src": str(src), "out_dir": str(out), **_limits(ctx.settings)},
        result_path=out / "result.json",
    )
    made.info = {"removed": result["removed"]}
    if result["output"] is not None:
        made.produced.append(result["output"])
    return made


async def pdf(ctx: Context, src: Path, work: Path, made: Made) -> None:
    media = ctx.settings.media
    result = await ctx.sandbox.run(
        "pdf.render",
        {
            "src": str(src),
            "out_dir": str(work),
            "sizes": PREVIEW_SIZES,
            "quality": PREVIEW_QUALITY,
            "max_pages": media.document_max_pages,
            "max_text": media.document_max_text,
            "max_pixels": media.image_max_pixels,
        },
        result_path=work / "result.json",
    )
    await ctx.progress(80)
    made.info = {"media": result["info"], "warnings": result["warnings"]}
    made.produced.extend(result["outputs"])


async def office(ctx: Context, src: Path, work: Path, made: Made) -> None:
    soffice = find_office_converter(ctx.settings.media.office_converter)
    if soffice is None:
        made.info = {
            "media": {"format": "office"},
            "skipped": "no preview: LibreOffice is not installed on this server, so office"
            " documents are stored without one",
            "warnings": [],
        }
        return
    out_dir = work / "pdf"
    out_dir.mkdir()
    profile_dir = work / "lo-profile"
    staged_src = work / "document"
    shutil.copyfile(src, staged_src)
    jobs = ctx.settings.jobs
    result = await run_tool(
        [
            soffice,
            f"-env:UserInstallation=file://{profile_dir}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(staged_src),
        ],
        time_limit=jobs.time_limit.total_seconds(),
        memory_limit=jobs.tool_memory_limit,
        name="LibreOffice",
        cwd=work,
        env={"HOME": str(work), "PATH": "/usr/bin:/bin"},
    )
    pdf_path = out_dir / "document.pdf"
    if result.returncode != 0 or not pdf_path.exists():
        raise ProcessingError("LibreOffice could not convert the document to PDF")
    await ctx.progress(50)
    await pdf(ctx, pdf_path, work, made)


async def video(ctx: Context, src: Path, work: Path, made: Made) -> None:
    jobs, media = ctx.settings.jobs, ctx.settings.media
    tool_cache = ctx.settings.data_dir / "tools"
    ffprobe = find_tool("ffprobe", media.ffprobe_path, tool_cache)
    limit = jobs.video_time_limit.total_seconds()
    probed = await ffmpeg.probe(
        src, ffprobe=ffprobe, time_limit=limit, memory_limit=jobs.tool_memory_limit
    )
    info = ffmpeg.summarize(probed)
    if not info["has_video"] and not info["has_audio"]:
        raise ProcessingError("the file has neither a video nor an audio stream")
    ffmpeg.check_limits(
        info,
        max_duration=media.video_max_duration.total_seconds(),
        max_pixels=media.video_max_pixels,
    )
    await ctx.progress(10)
    made.info = {"media": info, "warnings": []}
    if not info["has_video"]:
        made.info["warnings"].append("no video stream, so no poster frame was made")
        return
    ffmpeg_path = find_tool("ffmpeg", media.ffmpeg_path, tool_cache)
    frame = work / "poster.png"
    await ffmpeg.poster(
        src,
        frame,
        ffmpeg_path=ffmpeg_path,
        at=ffmpeg.poster_time(info.get("duration")),
        edge=max(PREVIEW_SIZES),
        size=(int(info.get("width") or 0), int(info.get("height") or 0)),
        time_limit=limit,
        memory_limit=jobs.tool_memory_limit,
    )
    await ctx.progress(20)
    result = await ctx.sandbox.run(
        "image.previews",
        {
            "src": str(frame),
            "out_dir": str(work),
            "sizes": PREVIEW_SIZES,
            "quality": PREVIEW_QUALITY,
            **_limits(ctx.settings),
        },
        result_path=work / "result.json",
    )
    made.info["media"]["placeholder"] = result["info"]["placeholder"]
    made.info["warnings"].extend(result["warnings"])
    made.produced.extend(result["outputs"])
    await ctx.progress(30)


async def rendition(ctx: Context, src: Path, work: Path, info: dict[str, Any]) -> Made:
    jobs, media = ctx.settings.jobs, ctx.settings.media
    made = Made(RENDITION)
    ffmpeg_path = find_tool("ffmpeg", media.ffmpeg_path, ctx.settings.data_dir / "tools")
    out = work / "rendition.mp4"

    async def on_progress(share: float) -> None:
        await ctx.progress(30 + int(share * 65))

    result = await ffmpeg.rendition(
        src,
        out,
        ffmpeg_path=ffmpeg_path,
        info=info,
        time_limit=jobs.video_time_limit.total_seconds(),
        memory_limit=jobs.tool_memory_limit,
        on_progress=on_progress,
    )
    # The size ffmpeg chose (the width follows the aspect ratio and any rotation), read
    # back from the file rather than worked out again here.
    ffprobe = find_tool("ffprobe", media.ffprobe_path, ctx.settings.data_dir / "tools")
    probed = ffmpeg.summarize(
        await ffmpeg.probe(
            out,
            ffprobe=ffprobe,
            time_limit=jobs.video_time_limit.total_seconds(),
            memory_limit=jobs.tool_memory_limit,
        )
    )
    width = probed.get("width")
    height = probed.get("height") or result["height"]
    made.info = {"width": width, "height": height}
    made.produced.append(
        {
            "name": "rendition-720",
            "path": str(out),
            "content_type": "video/mp4",
            "width": width,
            "height": height,
        }
    )
    return made
