"""The scale profile: many small files and many records, as fast as the server allows.

Concurrent calls of the asyncio SDK (``--concurrency`` at a time), as three accounts of
its own (so its counts never mix with the demo's). Records go in batches (``--batch``, up
to 100 in one ``POST /api/v1/<model>/batch``: the same op and checks as one create, one
transaction). Contents come from the fake-value functions codegen writes per model
(``seeder/_generated/``), each record's from a seed of its own, linking records and files
its owner made before it. Records are made in order per owner and model, so a second run
counts what each owner has and makes only the rest: running it again adds nothing, and an
interrupted run resumes. ``reset`` first deletes every live record of the scale accounts
(tombstones, as for any user) and moves their files to the trash, through the API.
"""

from __future__ import annotations

import asyncio
import io
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import blake3
from PIL import Image

from mstack_client import AsyncClient
from mstack_client.cid import file_cid
from seeder._generated import FAKES
from seeder.accounts import SCALE_ACCOUNTS, Account, ensure_accounts
from seeder.demo import MODELS, Report, Summary
from seeder.lorem import Lorem

__all__ = ["BATCH", "SHARES", "plan_counts", "run_scale", "small_png"]

BATCH = 100  # records a request, the server's limit (mcore.records.schemas.BATCH_LIMIT)

# how the records divide between the models, in the order they are made
SHARES = {"image_file": 25, "artist": 10, "still_image": 55, "image_release": 10}


def plan_counts(records: int) -> dict[str, int]:
    """How many records of each model make ``records`` in all (at least one each)."""
    counts = {m: max(1, records * share // 100) for m, share in SHARES.items()}
    counts["still_image"] += records - sum(counts.values())
    return counts


def small_png(seed: int, index: int) -> bytes:
    """An 8x8 PNG whose pixels come from the seed and index: different for each index."""
    pixels = b"".join(
        blake3.blake3(f"scale {seed} {index} {row}".encode()).digest()[:24] for row in range(8)
    )
    image = Image.frombytes("RGB", (8, 8), pixels)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=zlib.Z_DEFAULT_COMPRESSION)
    return out.getvalue()


def _share(total: int, owners: int, k: int) -> int:
    """The part of ``total`` the ``k``-th of ``owners`` makes."""
    return total // owners + (1 if k < total % owners else 0)


async def _pool(
    concurrency: int,
    jobs: Sequence[Callable[[], Awaitable[None]]],
    report: Report,
    label: str,
    every: int,
    sizes: Sequence[int] | None = None,
) -> None:
    """Run ``jobs``, ``concurrency`` at a time, reporting every ``every`` jobs done how many
    things (``sizes``: of each job, one each by default) are made."""
    queue = iter(range(len(jobs)))
    total = sum(sizes) if sizes is not None else len(jobs)
    finished = done = 0

    async def worker() -> None:
        nonlocal finished, done
        for k in queue:
            await jobs[k]()
            finished += 1
            done += sizes[k] if sizes is not None else 1
            if finished % every == 0 or finished == len(jobs):
                report(f"{label} {done}/{total}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _ids(calls: Any) -> AsyncIterator[str]:
    cursor = None
    while True:
        page = await calls.page(mine=True, limit=200, cursor=cursor)
        for item in page.items:
            yield item.id
        if page.next is None:
            return
        cursor = page.next


class _Owner:
    """One scale account: its client, and what it has of each model."""

    def __init__(self, account: Account, client: AsyncClient) -> None:
        self.account = account
        self.client = client
        self.ids: dict[str, list[str]] = {m: [] for m in MODELS}
        self.files: list[str] = []
        self.file_ids: list[str] = []

    async def load(self) -> None:
        for model, attr in MODELS.items():
            self.ids[model] = [i async for i in _ids(getattr(self.client, attr))]
        self.files, self.file_ids = [], []
        async for f in self.client.iter_files(mine=True):
            self.files.append(f.cid)
            self.file_ids.append(f.id)

    def reset_jobs(self, summary: Summary) -> list[Callable[[], Awaitable[None]]]:
        """Deletes of every live record (the models in reverse order: what links first),
        then the files to the trash."""
        jobs = []
        for model in reversed(MODELS):
            calls = getattr(self.client, MODELS[model])
            jobs += [_deleter(calls.delete, i, summary, model) for i in self.ids[model]]
        jobs += [_deleter(self.client.delete_file, i, summary, "file") for i in self.file_ids]
        return jobs


async def run_scale(
    server: str,
    *,
    seed: int = 0,
    records: int = 1_000_000,
    files: int | None = None,
    concurrency: int = 4,
    batch: int = BATCH,
    reset: bool = False,
    report: Report = lambda _: None,
) -> Summary:
    """Seed the scale profile: ``records`` records across the models and ``files`` small
    images (``records // 100``, at most 10,000, by default), ``batch`` records a request;
    with ``reset``, first remove what the scale accounts have."""
    if not 1 <= batch <= BATCH:
        raise ValueError(f"a batch holds 1 to {BATCH} records")
    started = time.monotonic()
    if records < 4 * len(SCALE_ACCOUNTS):
        raise ValueError(f"the scale profile needs at least {4 * len(SCALE_ACCOUNTS)} records")
    files = files if files is not None else max(len(SCALE_ACCOUNTS), min(10_000, records // 100))
    report("accounts: making the scale accounts (mstack admin demo-accounts)")
    await asyncio.to_thread(ensure_accounts, SCALE_ACCOUNTS)
    summary = Summary(server=server, profile="scale", seed=seed, accounts=list(SCALE_ACCOUNTS))
    owners: list[_Owner] = []
    try:
        for account in SCALE_ACCOUNTS:
            client = AsyncClient(server, use_env=False)
            owners.append(_Owner(account, client))
            await client.login(username=account.username, password=account.password)
        await asyncio.gather(*(o.load() for o in owners))
        if reset:
            removals = [job for o in owners for job in o.reset_jobs(summary)]
            await _pool(concurrency, removals, report, "reset", 500)
            await asyncio.gather(*(o.load() for o in owners))

        # files: the k-th owner's i-th file is file k + i * owners of the seed
        uploads = []
        for k, owner in enumerate(owners):
            have = set(owner.files)
            for i in range(len(owner.files), _share(files, len(owners), k)):
                uploads.append(_upload(owner, seed, k + i * len(owners), summary, have))
        await _pool(concurrency, uploads, report, "files", 100)
        summary.files["image"] = sum(len(o.files) for o in owners)

        # records, model by model (links point at what was made before)
        counts = plan_counts(records)
        made_at = time.monotonic()
        for model in MODELS:
            jobs, sizes = [], []
            for k, owner in enumerate(owners):
                wanted = _share(counts[model], len(owners), k)
                for start in range(len(owner.ids[model]), wanted, batch):
                    indices = range(start, min(start + batch, wanted))
                    jobs.append(_maker(owner, model, seed, indices, summary))
                    sizes.append(len(indices))
            await _pool(concurrency, jobs, report, f"records-{model}", 20, sizes)
            summary.records[model] = sum(len(o.ids[model]) for o in owners)
        elapsed = time.monotonic() - made_at
        added = sum(summary.records_added.values())
        summary.rate = added / elapsed if added and elapsed > 0 else 0.0
    finally:
        for owner in owners:
            await owner.client.aclose()
    summary.seconds = time.monotonic() - started
    return summary


def _upload(
    owner: _Owner, seed: int, index: int, summary: Summary, have: set[str]
) -> Callable[[], Awaitable[None]]:
    async def upload() -> None:
        data = small_png(seed, index)
        cid = file_cid(data)
        if cid not in have:  # (an interrupted run may have made a later one)
            await owner.client.upload(
                io.BytesIO(data), filename=f"scale-{index:07d}.png", content_type="image/png"
            )
            summary.files_added += 1
            owner.files.append(cid)

    return upload


def _maker(
    owner: _Owner, model: str, seed: int, indices: range, summary: Summary
) -> Callable[[], Awaitable[None]]:
    async def make() -> None:
        items = []
        for index in indices:
            lorem = Lorem(
                f"scale {seed} {owner.account.username} {model} {index}",
                records=owner.ids,
                files=owner.files,
            )
            body = FAKES["mart"][model](lorem)
            items.append({**body, "visibility": "public" if index % 2 == 0 else "private"})
        calls = getattr(owner.client, MODELS[model])
        made = await calls.create_many(items)
        owner.ids[model] += [record.id for record in made]
        summary.records_added[model] += len(made)
        summary.versions_added += len(made)

    return make


def _deleter(
    delete: Callable[[str], Awaitable[object]], ident: str, summary: Summary, what: str
) -> Callable[[], Awaitable[None]]:
    async def remove() -> None:
        await delete(ident)
        summary.removed[what] += 1

    return remove
