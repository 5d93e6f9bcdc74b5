"""HTML responses: one Jinja2 environment over ``templates/`` (autoescaped, strict), and
the security headers every page carries.

The Content-Security-Policy allows scripts, styles, images and connections from this
origin only, and no inline script or style at all: text a user typed that slipped past
escaping still could not run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.datastructures import Cookie

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PATH = "/static"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show private data and carry CSRF tokens
}


def _static_versions() -> dict[str, str]:
    """Each static file's name and a digest of its bytes, so its address changes with it
    (and browsers may keep it a long time)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted(STATIC.iterdir())
        if path.is_file()
    }


_VERSIONS = _static_versions()


def static_url(name: str) -> str:
    """The address of a file in ``static/`` (only names that are there)."""
    return f"{STATIC_PATH}/{name}?v={_VERSIONS[name]}"


def _when(value: Any) -> str:
    """A time as people read it, in UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _size(value: int) -> str:
    if value == 1:
        return "1 byte"
    amount = float(value)
    for unit in ("bytes", "KB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{int(amount)} {unit}" if unit == "bytes" else f"{amount:.1f} {unit}"
        amount /= 1000
    raise AssertionError("unreachable")


_BROWSERS = (
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx", "Python"),
    ("mstack", "mstack"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS", "macOS"),
    ("Linux", "Linux"),
)


def _device(user_agent: str | None) -> str:
    """``Chrome on Linux`` for a browser's long User-Agent."""
    if not user_agent:
        return "Unknown client"
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]


def _kind(filename: str, content_type: str) -> str:
    """A short label for a file without a preview: its extension, else its type."""
    stem, dot, extension = filename.rpartition(".")
    if dot and stem and 0 < len(extension) <= 5 and extension.isalnum():
        return extension
    return content_type.partition("/")[0] or "file"


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package: no stat of each per page
)
ENV.globals["static_url"] = static_url
ENV.filters["when"] = _when
ENV.filters["size"] = _size
ENV.filters["device"] = _device
ENV.globals["file_kind"] = _kind
ENV.globals["record_nav"] = []  # (address, heading) of each model's list: api.web.page_router


def render(name: str, context: dict[str, Any]) -> str:
    return ENV.get_template(name).render(context)


def page(
    request: Request[Any, Any, Any],
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    cookies: Iterable[Cookie] = (),
) -> Response[str]:
    """A page from template ``name``, with the security headers."""
    body = render(name, {"path": request.url.path, **context})
    return Response(
        body,
        status_code=status,
        media_type="text/html",
        headers=dict(PAGE_HEADERS),
        cookies=list(cookies),
    )
