"""The sandbox's fork server: imports the decoders once, then forks one child per task.

Run as ``python -m mcore.media._zygote`` by ``mcore.media.sandbox``. It reads one JSON
request per line on stdin and answers on stdout with the child's pid and, later, its exit
status. Each child runs in its own process group with an address-space limit, a CPU
limit, no core dumps, and dies with the fork server; it writes its result as JSON to the
file the request names. When stdin closes (the worker went away) every child is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import sys
import traceback
from typing import Any

from mcore.media.errors import ProcessingError

PR_SET_PDEATHSIG = 1


def _tasks() -> dict[str, Any]:
    from mcore.media import document, image, ocr, strip

    return {
        "image.previews": image.make_previews,
        "image.strip": strip.strip_metadata,
        "image.transform": image.transform,
        "pdf.render": document.render_pdf,
        "ocr.recognize": ocr.recognize,
    }


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:3])[:500]


def _write_result(path: str, payload: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(payload, f)
    os.rename(tmp, path)


def _child(request: dict[str, Any], tasks: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:
            os._exit(3)
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(2, 1)  # stray prints go to the log, never into the protocol
        memory = int(request["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(request["cpu"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            result = tasks[request["task"]](**request["args"])
            payload: dict[str, Any] = {"ok": result}
        except ProcessingError as exc:
            payload = {"error": exc.message, "permanent": exc.permanent}
        except MemoryError:
            payload = {
                "error": "the decoder ran out of memory (limit"
                f" {memory // (1024 * 1024)} MiB); the file may be malformed or too complex",
                "permanent": False,
            }
        except Exception as exc:
            detail = _first_line(str(exc)) or type(exc).__name__
            if "out of memory" in detail or "failed to allocate" in detail:
                payload = {"error": f"the decoder ran out of memory: {detail}", "permanent": False}
            else:
                payload = {"error": f"could not decode the file: {detail}", "permanent": True}
                traceback.print_exc(limit=3)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        payload["stats"] = {
            "peak_rss": usage.ru_maxrss * 1024,
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
        }
        _write_result(request["result"], payload)
    except BaseException:
        traceback.print_exc()
        code = 4
    finally:
        sys.stderr.flush()
        os._exit(code)


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    tasks = _tasks()
    import pyvips

    pyvips.block_untrusted_set(True)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, Any] = {}
    stdin = sys.stdin.buffer
    buffer = b""
    try:
        while True:
            ready, _, _ = select.select([stdin.fileno(), wake_r], [], [])
            if wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                request_id = children.pop(pid, None)
                if request_id is not None:
                    _send({"id": request_id, "exit": os.waitstatus_to_exitcode(status)})
            if stdin.fileno() in ready:
                data = os.read(stdin.fileno(), 65536)
                if not data:
                    return
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    request = json.loads(line)
                    pid = os.fork()
                    if pid == 0:
                        _child(request, tasks)
                    with contextlib.suppress(OSError):
                        os.setpgid(pid, pid)  # also done by the child; whoever comes first
                    children[pid] = request["id"]
                    _send({"id": request["id"], "pid": pid})
    finally:
        for pid in children:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
