"""Log records as one JSON object a line (``log_format: json``), each with the request id
of the request it belongs to, or of the request that queued the job it belongs to.

The request id comes from the client's ``X-Request-ID`` when it is short and plain, or is
made here; the server returns it as ``X-Request-ID`` and stores it in the jobs the request
queues, so one id follows an upload from its request through its processing. Nothing
here logs a header, a body or a query string: what a message says is what the code that
logs it chose, and the code never logs secrets (a test reads a whole run's logs for them).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id: ContextVar[str | None] = ContextVar("mstack_request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("mstack_job_id", default=None)

_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def accept_request_id(given: str | None) -> str:
    """The client's id when it is plain and short, else a new one (never echo arbitrary
    text into logs and headers)."""
    if given and _PLAIN_ID.fullmatch(given):
        return given
    return secrets.token_hex(8)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the ids in context."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        jid = getattr(record, "job_id", None) or job_id.get()
        if jid:
            entry["job_id"] = jid
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class DropQuery(logging.Filter):
    """uvicorn's access lines without query strings: a signed link's signature, a cursor
    or a search term is no business of a log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def uvicorn_log_config(level: str, fmt: str) -> dict[str, Any]:
    """uvicorn's own loggers (errors, and access lines when on) in the chosen format."""
    formatter: dict[str, Any] = (
        {"()": "mcore.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(levelname)s - %(asctime)s - %(name)s - %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"no_query": {"()": "mcore.logs.DropQuery"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
                "filters": ["no_query"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["default"], "level": level.upper(), "propagate": False},
        },
    }


def configure(level: str, fmt: str) -> None:
    """The root logger of a process that is not the API server (``mstack worker``)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s - %(asctime)s - %(name)s - %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
