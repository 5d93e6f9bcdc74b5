"""What a failing S3 request means to the caller: the store is down (503) or full (507).

obstore retries transient failures itself (``retry_config``); what reaches here has used
its retries. The message names the store, never its credentials."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from obstore.exceptions import BaseError, NotFoundError

from mcore import metrics
from mcore.errors import InsufficientStorage, Unavailable

log = logging.getLogger("mcore.storage.s3")

P = ParamSpec("P")
T = TypeVar("T")

# what S3-compatible services say when they are out of room or over a quota
_FULL_MARKERS = ("StorageFull", "InsufficientStorage", "QuotaExceeded", "XMinioStorageFull")


def translate(exc: BaseError) -> Exception:
    """The domain error for an obstore error (NotFoundError is left to the caller)."""
    text = str(exc)
    if any(marker in text for marker in _FULL_MARKERS):
        log.error("the S3 blob store is full: %s", first_line(text))
        return InsufficientStorage(
            "the blob store has no room left to store this; nothing was kept. Tell the"
            " server's administrator, and try again later"
        )
    log.error("the S3 blob store failed: %s", first_line(text))
    return Unavailable(
        "the blob store is not answering; nothing was changed. Try again shortly",
        retry_after=5,
    )


def first_line(exc: BaseException | str) -> str:
    text = str(exc)
    return text.strip().splitlines()[0][:300] if text.strip() else "(no message)"


def guarded(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Turn obstore's errors (other than not-found) into the domain's 503/507 errors."""

    timer = metrics.blob_store_latency.labels(fn.__name__)

    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        except (NotFoundError, FileNotFoundError):
            raise
        except BaseError as exc:
            raise translate(exc) from exc
        finally:
            timer.observe(time.perf_counter() - started)

    return wrapper


def guarded_iter(
    fn: Callable[P, AsyncIterator[T]],
) -> Callable[P, AsyncIterator[T]]:
    @wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        try:
            async for item in fn(*args, **kwargs):
                yield item
        except (NotFoundError, FileNotFoundError):
            raise
        except BaseError as exc:
            raise translate(exc) from exc

    return wrapper


__all__ = ["first_line", "guarded", "guarded_iter", "translate"]
