"""The client's transfers over loopback HTTP against curl moving the same bytes, same run.

    .venv/bin/python -m bench.transfer [--size-mib 1024] [--runs 3] [--small 200]

- upload: `mstack upload FILE` (hashes the file, then streams it with `?cid=`) against
  `curl -X POST -T FILE` (streams it, no hash) into the same `mstack serve`.
- download: `mstack download ID -o OUT` (re-hashes as it writes, fsyncs, renames) against
  `curl -o OUT URL`, then `b3sum OUT` and `sync` (the same guarantees, one after another).
- many small files: `mstack upload -j 4 DIR` against `-j 1` (what parallel uploads buy).

Targets: upload >= 0.8x of curl's throughput; download >= 0.8x of curl + b3sum + sync.
Parallel uploads are reported without a target: on 2 cores shared with the server, what
they buy depends on the server more than on the client. The page cache is warm throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench._harness import ROOT, mstack_server, require, sign_in, verdict, workdir

MIB = 2**20
MSTACK = str(ROOT / ".venv" / "bin" / "mstack")


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        f.write(b"\xff\xd8\xff")  # passes type detection as a JPEG; the rest is random
        left = size - 3
        while left:
            chunk = os.urandom(min(left, 16 * MIB))
            f.write(chunk)
            left -= len(chunk)


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=200, help="number of 256 KiB files")
    args = parser.parse_args()
    require("curl", "b3sum", "sync")
    work = workdir("transfer")
    src = work / "big.jpg"
    make_file(src, args.size_mib * MIB)
    small = work / "small"
    small.mkdir()
    for i in range(args.small):
        make_file(small / f"{i:04}.jpg", 256 * 1024)
    size = src.stat().st_size
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config")}
    up: dict[str, list[float]] = {"mstack": [], "curl": []}
    down: dict[str, list[float]] = {"mstack": [], "curl": []}
    many: dict[int, list[float]] = {1: [], 4: []}
    try:
        # no worker: the random "JPEG" would only fail to decode beside the measurement
        with mstack_server(work / "data", MSTACK_JOBS__EMBEDDED_WORKER="false") as server:
            env["MSTACK_URL"] = server.url
            token = sign_in(server)
            env["MSTACK_API_KEY"] = token  # the CLI sends it as a bearer token, as curl does
            auth = f"Authorization: Bearer {token}"
            for _ in range(args.runs):
                took, _ = run(
                    ["curl", "-sf", "-H", auth, "-o", "/dev/null", "-X", "POST", "-T", str(src),
                     f"{server.url}/api/v1/files?filename=c.jpg"],
                    env,
                )  # fmt: skip
                up["curl"].append(took)
                took, out = run([MSTACK, "upload", "--again", "--json", str(src)], env)
                up["mstack"].append(took)
                file_id = json.loads(out)[0]["file"]["id"]
                url = f"{server.url}/api/v1/files/{file_id}/content"

                target = work / "down.jpg"
                target.unlink(missing_ok=True)
                took, _ = run(["curl", "-sf", "-H", auth, "-o", str(target), url], env)
                took += run(["b3sum", str(target)], env)[0]
                took += run(["sync"], env)[0]
                down["curl"].append(took)
                target.unlink()
                took, _ = run([MSTACK, "download", file_id, "-o", str(target)], env)
                down["mstack"].append(took)
                target.unlink()

                for parallel in (1, 4):
                    took, _ = run(
                        [MSTACK, "upload", "--again", "-j", str(parallel), str(small)], env
                    )
                    many[parallel].append(took)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def rate(times: list[float], nbytes: int) -> float:
        return nbytes / statistics.median(times) / MIB

    rows = [
        ("upload", rate(up["mstack"], size), rate(up["curl"], size), 0.8, "MiB/s"),
        ("download", rate(down["mstack"], size), rate(down["curl"], size), 0.8, "MiB/s"),
    ]
    parallel = (args.small / statistics.median(many[4]), args.small / statistics.median(many[1]))
    print(f"{args.size_mib} MiB file, median of {args.runs} runs, 2 cores, loopback")
    for name, ours, base, target, unit in rows:
        ratio = ours / base
        print(
            f"{name:34} {ours:9.1f} vs {base:9.1f} {unit:7} = {ratio:.2f}x"
            f" (target {target}x: {verdict(ratio, target)})"
        )
    print(
        f"{f'{args.small} x 256 KiB, -j 4 vs -j 1':34} {parallel[0]:9.1f} vs {parallel[1]:9.1f}"
        f" files/s = {parallel[0] / parallel[1]:.2f}x (no target)"
    )


if __name__ == "__main__":
    main()
