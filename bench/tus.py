"""A resumable (tus) upload of a 1 GiB file against curl's plain upload (a raw body to
`POST /api/v1/files`) to a fresh `mstack serve`, the same way, in the same run.

    .venv/bin/python -m bench.tus [--size-mib 1024] [--runs 5]

The tus clients: curl itself (`POST /api/v1/uploads` with `Upload-Length`, then one
`PATCH` of the whole file: the server's two paths compared with the same client), the
SDK (`Client.upload`, which hashes the file first and sends it over tus above its
threshold, as `mstack upload` does), and tuspy (the tus project's Python client, in
64 MiB PATCHes it reads into memory). Target: tus >= 0.9x of the plain upload.
"""

from __future__ import annotations

import argparse
import base64
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench._harness import mstack_server, require, sign_in, timed, verdict, workdir
from bench.ingest import make_file

MIB = 2**20
TUS = {"Tus-Resumable": "1.0.0"}
TUSPY = r"""
import sys
from tusclient import client
from tusclient.uploader import Uploader
url, token, path = sys.argv[1:4]
tus = client.TusClient(url, headers={"Authorization": f"Bearer {token}"})
uploader = Uploader(path, client=tus, chunk_size=64 * 1024 * 1024, metadata={"filename": "big.jpg"})
uploader.upload()
assert uploader.request.response_headers.get("upload-cid"), uploader.request.response_headers
"""


def curl_plain(url: str, token: str, src: Path) -> float:
    auth = f"Authorization: Bearer {token}"
    target = f"{url}/api/v1/files?filename=big.jpg"
    return timed(["curl", "-sf", "-H", auth, "-X", "POST", "-T", str(src), target])


def curl_tus(url: str, token: str, src: Path) -> float:
    """The creation request and the one PATCH, timed together."""
    start = time.perf_counter()
    name = base64.b64encode(b"big.jpg").decode()
    headers = {
        **TUS,
        "Authorization": f"Bearer {token}",
        "Upload-Length": str(src.stat().st_size),
        "Upload-Metadata": f"filename {name}",
    }
    created = httpx.post(f"{url}/api/v1/uploads", headers=headers)
    created.raise_for_status()
    location = url + created.headers["location"]
    patch = [
        *("-H", f"Authorization: Bearer {token}", "-H", "Tus-Resumable: 1.0.0"),
        *("-H", "Upload-Offset: 0", "-H", "Content-Type: application/offset+octet-stream"),
    ]
    out = subprocess.run(
        [
            "curl",
            "-sf",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "-X",
            "PATCH",
            "-T",
            str(src),
            *patch,
            location,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    took = time.perf_counter() - start
    if "upload-cid:" not in out.lower():
        raise RuntimeError(f"the PATCH did not finish the upload:\n{out}")
    return took


def sdk(url: str, token: str, src: Path) -> float:
    from mstack_client import Client

    with Client(url, tokens=None, api_key=token, use_env=False, tus_threshold=MIB) as client:
        start = time.perf_counter()
        client.upload(src)
        return time.perf_counter() - start


def tuspy(url: str, token: str, src: Path) -> float:
    return timed([sys.executable, "-c", TUSPY, f"{url}/api/v1/uploads", token, str(src)])


CLIENTS = {"plain": curl_plain, "curl-tus": curl_tus, "sdk": sdk, "tuspy": tuspy}
LABELS = {
    "plain": "curl, plain POST /api/v1/files",
    "curl-tus": "curl, tus (POST + one PATCH)",
    "sdk": "SDK Client.upload over tus (hash first, then one PATCH)",
    "tuspy": "tuspy, 64 MiB PATCHes",
}


def once(name: str, src: Path, work: Path) -> float:
    data = work / f"data-{name}"
    shutil.rmtree(data, ignore_errors=True)
    with mstack_server(data, MSTACK_JOBS__EMBEDDED_WORKER="false") as server:
        token = sign_in(server)
        took = CLIENTS[name](server.url, token, src)
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    require("curl", "sync")
    work = workdir("tus")
    src = work / "big.jpg"
    size = args.size_mib * MIB
    results: dict[str, list[float]] = {name: [] for name in CLIENTS}
    try:
        make_file(src, size)
        for _ in range(args.runs):  # interleaved, so drift hits every side alike
            for name in CLIENTS:
                results[name].append(once(name, src, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    plain = statistics.median(results["plain"])
    print(f"upload of {args.size_mib} MiB to a fresh server, median of {args.runs} runs")
    print(f"  {LABELS['plain']}: {plain:.2f} s ({size / plain / MIB:,.0f} MiB/s)")
    for name in ("curl-tus", "sdk", "tuspy"):
        took = statistics.median(results[name])
        ratio = plain / took
        paired = sorted(p / t for p, t in zip(results["plain"], results[name], strict=True))
        line = f"  {LABELS[name]}: {took:.2f} s ({size / took / MIB:,.0f} MiB/s) -> {ratio:.2f}x"
        line += f" [runs {paired[0]:.2f}x-{paired[-1]:.2f}x]"
        if name == "curl-tus":
            line += f" (target 0.9x: {verdict(ratio, 0.9)})"
        print(line)


if __name__ == "__main__":
    main()
