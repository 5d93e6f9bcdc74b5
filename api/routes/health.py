from __future__ import annotations

from litestar import get

from api.openapi import doc


@get("/health", summary="Liveness", tags=["system"], opt=doc("health"))
async def health() -> dict[str, str]:
    """`{"status": "ok"}` while the process answers; it checks nothing else."""
    return {"status": "ok"}
