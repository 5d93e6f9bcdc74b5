"""A tiny remote HTTP server on 127.0.0.1 for fetch tests: each path answers what a test
set for it, and every request's headers are kept to look at afterwards."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """What one path answers: a status, headers, and the body in chunks (each sent after
    ``delay`` seconds); ``length`` False sends no Content-Length (the body runs to the
    connection's end)."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] = ()
    delay: float = 0.0
    length: bool = True


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class RemoteServer:
    """``with RemoteServer() as remote: remote.routes["/a"] = Reply(...)``; ``remote.url("/a")``."""

    def __init__(self, context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Reply] = {}
        self.seen: list[Seen] = []
        self.sni: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                reply = server.routes.get(self.path.split("?", 1)[0]) or Reply(
                    404, chunks=[b"not here"]
                )
                chunks = list(reply.chunks)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.length:
                    self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    for chunk in chunks:
                        if reply.delay:
                            time.sleep(reply.delay)
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self.httpd = server_class((host, 0), Handler)
        self.host = host
        self.httpd.daemon_threads = True
        if context is not None:
            context.sni_callback = lambda sock, name, ctx: self.sni.append(name)  # type: ignore[assignment,misc]
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = int(self.httpd.server_address[1])
        self.scheme = "https" if context is not None else "http"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{self.scheme}://{name}:{self.port}{path}"

    def __enter__(self) -> RemoteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@contextlib.contextmanager
def remote_server(
    context: ssl.SSLContext | None = None, host: str = "127.0.0.1"
) -> Iterator[RemoteServer]:
    with RemoteServer(context, host) as server:
        yield server
