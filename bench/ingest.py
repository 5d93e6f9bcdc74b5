"""Ingest of a 1 GiB file: over loopback HTTP (raw body and multipart) and `mstack ingest`,
against `b3sum FILE` + `cp FILE` to a fresh destination + `sync`, on the same disk, same run.

    .venv/bin/python bench/ingest.py [--size-mib 1024] [--runs 3]

Targets: uploads >= 0.5x of the baseline's throughput with server memory growing by under
50 MB during the upload; `mstack ingest` >= 0.9x. curl is the client (it streams the file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import httpx

from bench._harness import (
    ROOT,
    mstack_server,
    require,
    reset_peak,
    rss_kib,
    sign_in,
    timed,
    verdict,
    workdir,
)

MIB = 2**20


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff")  # passes type detection as a JPEG; the rest is random
        left = size - 3
        while left:
            chunk = os.urandom(min(left, 16 * MIB))
            f.write(chunk)
            left -= len(chunk)
    subprocess.run(["sync"], check=True)


def baseline(src: Path, work: Path) -> float:
    dest = work / "baseline-copy"
    dest.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(["b3sum", str(src)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cp", str(src), str(dest)], check=True)
    subprocess.run(["sync"], check=True)
    took = time.perf_counter() - start
    dest.unlink()
    subprocess.run(["sync"], check=True)
    return took


def upload(src: Path, work: Path, form: str) -> tuple[float, float]:
    """Seconds for one upload into a fresh server, and the server's memory growth in MiB."""
    data = work / f"data-{form}"
    shutil.rmtree(data, ignore_errors=True)
    # no worker: this measures ingest alone (the random "JPEG" would only fail to decode)
    with mstack_server(data, MSTACK_JOBS__EMBEDDED_WORKER="false") as server:
        bearer = f"Bearer {sign_in(server)}"
        auth = f"Authorization: {bearer}"
        warm = {"filename": "warm"}
        url = f"{server.url}/api/v1/files"
        httpx.post(url, params=warm, content=b"warm", headers={"Authorization": bearer})
        before, _ = rss_kib(server.pid)
        reset_peak(server.pid)
        if form == "raw":
            cmd = [
                "curl",
                "-sf",
                "-H",
                auth,
                "-X",
                "POST",
                "-T",
                str(src),
                f"{url}?filename=big.jpg",
            ]
        else:
            cmd = ["curl", "-sf", "-H", auth, "-F", f"file=@{src};filename=big.jpg", url]
        took = timed(cmd)
        _, peak = rss_kib(server.pid)
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    return took, (peak - before) / 1024


def cli_ingest(src: Path, work: Path) -> float:
    data = work / "data-cli"
    shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "MSTACK_DATA_DIR": str(data)}
    mstack = str(ROOT / ".venv" / "bin" / "mstack")
    subprocess.run([mstack, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    took = timed([mstack, "ingest", str(src)], env=env, stderr=subprocess.DEVNULL)
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    require("b3sum", "cp", "sync", "curl")
    work = workdir("ingest")
    src = work / "big.jpg"
    size = args.size_mib * MIB
    try:
        make_file(src, size)
        results: dict[str, list[float]] = {"baseline": [], "raw": [], "multipart": [], "cli": []}
        memory: dict[str, list[float]] = {"raw": [], "multipart": []}
        for _ in range(args.runs):  # interleaved, so drift hits every side alike
            results["baseline"].append(baseline(src, work))
            for form in ("raw", "multipart"):
                took, grew = upload(src, work, form)
                results[form].append(took)
                memory[form].append(grew)
            results["cli"].append(cli_ingest(src, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(results["baseline"])
    print(f"ingest of {args.size_mib} MiB, median of {args.runs} runs")
    print(f"  baseline b3sum + cp + sync: {base:.2f} s ({size / base / MIB:,.0f} MiB/s)")
    for name, target in (("raw", 0.5), ("multipart", 0.5), ("cli", 0.9)):
        took = statistics.median(results[name])
        ratio = base / took
        label = {"raw": "HTTP raw body", "multipart": "HTTP multipart", "cli": "mstack ingest"}[
            name
        ]
        line = f"  {label}: {took:.2f} s ({size / took / MIB:,.0f} MiB/s) -> {ratio:.2f}x"
        paired = sorted(b / t for b, t in zip(results["baseline"], results[name], strict=True))
        line += f" [runs {paired[0]:.2f}x-{paired[-1]:.2f}x]"
        line += f" (target {target}x: {verdict(ratio, target)})"
        if name in memory:
            grew = max(memory[name])
            within = "ok" if grew * MIB < 50e6 else "OVER"
            line += f"; server memory +{grew:.1f} MiB (target < 50 MB: {within})"
        print(line)


if __name__ == "__main__":
    main()
