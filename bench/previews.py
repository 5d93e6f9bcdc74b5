"""Benchmark: mstack's media processing against the bare tools, measured in the same run.

    .venv/bin/python -m bench.previews [--runs N] [--keep DIR]

1. Previews of a 6000x4000 JPEG against ``vipsthumbnail`` to the same size (target: within
   1.1x, child-process start included), in WebP and (as ``/image`` makes it) in AVIF.
   ``vipsthumbnail`` comes from Debian's ``libvips-tools`` (benchmark only:
   ``apt-get install libvips-tools``).
2. A poster frame of a 30 s 1080p H.264 clip against the bare ``ffmpeg -ss T -i clip``
   (target: within 1.2x).
3. Time and peak memory of the previews of a 20000x20000 PNG (target: under 200 MB peak).

Each figure is the median of ``--runs`` runs after one warm-up. mstack's side runs in its
sandbox (a fork server that has imported libvips; each task is a fresh child with the
memory limit), exactly as the worker runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyvips

from mcore.media import video
from mcore.media.sandbox import Sandbox
from mcore.media.tools import find_tool

GiB = 1024**3


async def compare(
    ours: Callable[[], Awaitable[object]], bare: Callable[[], object], runs: int
) -> tuple[float, float]:
    """Median times of ``ours`` and ``bare``, run alternately so both see the same machine
    (other processes, page cache, clock speed); one warm-up each first."""
    await ours()
    await asyncio.to_thread(bare)
    ours_times, bare_times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        await asyncio.to_thread(bare)
        bare_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        await ours()
        ours_times.append(time.perf_counter() - started)
    return statistics.median(ours_times), statistics.median(bare_times)


def make_jpeg(path: Path) -> None:
    """A 6000x4000 photo-like JPEG: smooth gradients plus fine grain (about 6 MB)."""
    x = pyvips.Image.xyz(6000, 4000)
    base = (x[0] / 24 + x[1] / 16).cast("uchar")
    grain = pyvips.Image.gaussnoise(6000, 4000, mean=0, sigma=12)
    image = (base + grain).cast("uchar")
    image = image.bandjoin([(255 - image).cast("uchar"), (x[1] / 16).cast("uchar")])
    image.copy(interpretation="srgb").jpegsave(str(path), Q=90)


def make_png(path: Path) -> None:
    x = pyvips.Image.xyz(20000, 20000)
    image = (x[0] / 80 + x[1] / 80).cast("uchar")
    image.bandjoin([image, (x[1] / 80).cast("uchar")]).copy(interpretation="srgb").pngsave(
        str(path), compression=3
    )


def make_clip(ffmpeg: str, path: Path) -> None:
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=30:duration=30",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-g",
            "60",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )


def ratio_line(name: str, ours: float, base: float, target: float) -> str:
    ratio = ours / base
    verdict = "ok" if ratio <= target else "OVER TARGET"
    return (
        f"{name:<44} mstack {ours * 1000:7.0f} ms   baseline {base * 1000:7.0f} ms"
        f"   ratio {ratio:5.2f} (target <= {target}) {verdict}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the generated media in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="mstack-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    out = work / "out"
    out.mkdir(exist_ok=True)
    tools = work / "tools"
    ffmpeg = find_tool("ffmpeg", None, tools)
    ffprobe = find_tool("ffprobe", None, tools)
    vipsthumbnail = shutil.which("vipsthumbnail")
    sandbox = Sandbox(memory_limit=1 * GiB, time_limit=600)
    lines = [
        f"libvips (pyvips) {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)};"
        f" ffmpeg {ffmpeg}"
    ]
    try:
        jpeg = work / "photo-6000x4000.jpg"
        if not jpeg.exists():
            make_jpeg(jpeg)
        lines.append(f"JPEG {jpeg.stat().st_size / 1e6:.1f} MB")

        async def one_preview(fmt: str = "webp") -> object:
            return await sandbox.run(
                "image.transform",
                {
                    "src": str(jpeg),
                    "out": str(out / f"t.{fmt}"),
                    "width": 1024,
                    "height": 1024,
                    "fit": "contain",
                    "fmt": fmt,
                    "quality": 80,
                    "max_pixels": 10**9,
                    "max_frames": 1000,
                },
                result_path=out / "r.json",
            )

        async def previews() -> object:
            return await sandbox.run(
                "image.previews",
                {
                    "src": str(jpeg),
                    "out_dir": str(out),
                    "sizes": [256, 1024],
                    "quality": 80,
                    "max_pixels": 10**9,
                    "max_frames": 1000,
                },
                result_path=out / "r.json",
            )

        if vipsthumbnail is None:
            lines.append(
                "vipsthumbnail: NOT INSTALLED (apt-get install libvips-tools);"
                " the JPEG comparison is skipped"
            )
        else:
            version = subprocess.run(
                [vipsthumbnail, "--vips-version"], capture_output=True, text=True
            ).stdout.strip()
            lines.append(f"vipsthumbnail {version}")

            def bare(size: int, fmt: str = "webp[Q=80,strip]") -> None:
                target = f"{out}/v{size}.{fmt}"
                subprocess.run(
                    [vipsthumbnail, str(jpeg), "-s", f"{size}x{size}", "-o", target],
                    check=True,
                    # not the C-level environment: pyvips-binary sets VIPSHOME=/target in it,
                    # and Debian's libvips then finds no HEIF module to save AVIF with
                    env=dict(os.environ),
                )

            ours_one, base_one = await compare(one_preview, lambda: bare(1024), args.runs)
            lines.append(ratio_line("JPEG -> one 1024 px WebP", ours_one, base_one, 1.1))
            ours_two, base_two = await compare(previews, lambda: (bare(1024), bare(256)), args.runs)
            lines.append(
                ratio_line("JPEG -> 1024 + 256 px WebP (+ placeholder)", ours_two, base_two, 1.1)
            )
            # /image?format=avif: the AV1 encoder at its fastest effort, as mstack runs it
            avif = "avif[Q=80,compression=av1,effort=0,strip]"
            ours_avif, base_avif = await compare(
                lambda: one_preview("avif"), lambda: bare(1024, avif), args.runs
            )
            lines.append(ratio_line("JPEG -> one 1024 px AVIF", ours_avif, base_avif, 1.1))
            label = "AVIF time / WebP time (mstack, for reference)"
            lines.append(f"{label:<44} {ours_avif / ours_one:5.2f}")

        clip = work / "clip-30s-1080p.mp4"
        if not clip.exists():
            make_clip(ffmpeg, clip)
        at = video.poster_time(30.0)

        def bare_poster() -> None:
            subprocess.run(
                [
                    ffmpeg,
                    "-v",
                    "error",
                    "-y",
                    "-ss",
                    str(at),
                    "-i",
                    str(clip),
                    "-frames:v",
                    "1",
                    str(out / "bare-poster.png"),
                ],
                check=True,
            )

        async def our_poster() -> None:
            await video.poster(
                clip,
                out / "poster.png",
                ffmpeg_path=ffmpeg,
                at=at,
                edge=1024,
                size=(1920, 1080),
                time_limit=600,
                memory_limit=4 * GiB,
            )

        async def poster_and_previews() -> None:
            await our_poster()
            await sandbox.run(
                "image.previews",
                {
                    "src": str(out / "poster.png"),
                    "out_dir": str(out),
                    "sizes": [256, 1024],
                    "quality": 80,
                    "max_pixels": 10**9,
                    "max_frames": 1000,
                },
                result_path=out / "r.json",
            )

        ours_poster, base_poster = await compare(our_poster, bare_poster, args.runs)
        lines.append(ratio_line("poster frame (30 s 1080p H.264)", ours_poster, base_poster, 1.2))
        ours_all, base_all = await compare(poster_and_previews, bare_poster, args.runs)
        lines.append(ratio_line("poster frame + its previews", ours_all, base_all, 1.2))
        started = time.perf_counter()
        await video.probe(clip, ffprobe=ffprobe, time_limit=60, memory_limit=4 * GiB)
        probe_time = time.perf_counter() - started
        label = "ffprobe JSON of the clip (for reference)"
        lines.append(f"{label:<44} {probe_time * 1000:7.0f} ms")

        png = work / "huge-20000x20000.png"
        if not png.exists():
            make_png(png)
        stats: dict[str, float] = {}
        started = time.perf_counter()
        await sandbox.run(
            "image.previews",
            {
                "src": str(png),
                "out_dir": str(out),
                "sizes": [256, 1024],
                "quality": 80,
                "max_pixels": 10**9,
                "max_frames": 1000,
            },
            result_path=out / "r.json",
            stats=stats,
        )
        elapsed = time.perf_counter() - started
        peak = stats["peak_rss"] / 1e6
        verdict = "ok" if peak < 200 else "OVER TARGET"
        lines.append(
            f"{'20000x20000 PNG -> previews':<44} {elapsed:7.2f} s   peak {peak:5.0f} MB"
            f" (target < 200 MB) {verdict}"
        )
    finally:
        await sandbox.close()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    lines.append(f"(benchmark process itself: {ours_rss:.0f} MB peak)")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
