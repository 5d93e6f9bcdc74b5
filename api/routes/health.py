from __future__ import annotations

from litestar import get


@get("/health", summary="Liveness", tags=["system"])
async def health() -> dict[str, str]:
    return {"status": "ok"}
