"""The demo profile, made through the SDK over HTTP as each demo account.

Idempotent: each account's uploads are found again by their CID and its records by their
key (an image file's file, an artist's full name, a work's or release's title), so a
second run adds nothing; a record made by an interrupted run gets the edits it lacks.
``reset`` first deletes what the plan would make, through the API (files go to the trash,
records get tombstones), then seeds again.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mstack_client import Client
from mstack_client.cid import file_cid
from mstack_client.errors import ApiError
from mstack_client.models import FileInfo
from seeder.accounts import DEMO_ACCOUNTS, Account, ensure_accounts
from seeder.plan import OWNERS, DemoPlan, FilePlan, RecordPlan, demo_plan

__all__ = ["MODELS", "Summary", "run_demo", "sign_in"]

Report = Callable[[str], None]

# model -> the SDK attribute of its calls, in the order records can be made
MODELS = {
    "image_file": "image_files",
    "artist": "artists",
    "still_image": "still_images",
    "image_release": "image_releases",
}


@dataclass
class Summary:
    """What a run did: ``mstack seed`` prints it, ``--json`` as one object."""

    server: str
    profile: str
    seed: int
    accounts: list[Account]
    files: Counter[str] = field(default_factory=Counter)  # by kind
    files_added: int = 0
    file_states: Counter[str] = field(default_factory=Counter)  # processing, by final state
    refused: list[str] = field(default_factory=list)  # "name: why"
    records: Counter[str] = field(default_factory=Counter)  # by model
    records_added: Counter[str] = field(default_factory=Counter)
    versions_added: int = 0
    removed: Counter[str] = field(default_factory=Counter)  # by --reset: files and models
    seconds: float = 0.0
    rate: float = 0.0  # records made a second (the scale profile)

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "profile": self.profile,
            "seed": self.seed,
            "accounts": [
                {"username": a.username, "email": a.email, "role": a.role, "password": a.password}
                for a in self.accounts
            ],
            "files": dict(sorted(self.files.items())),
            "files_added": self.files_added,
            "file_states": dict(sorted(self.file_states.items())),
            "refused": self.refused,
            "records": {m: self.records[m] for m in MODELS},
            "records_added": {m: self.records_added[m] for m in MODELS},
            "versions_added": self.versions_added,
            "removed": dict(sorted(self.removed.items())),
            "seconds": round(self.seconds, 2),
            "records_per_second": round(self.rate, 1),
        }


def sign_in(server: str, account: Account) -> Client:
    """A client signed in as ``account``; it never reads or writes ``mstack login``'s
    stored session."""
    client = Client(server, use_env=False)
    try:
        client.login(username=account.username, password=account.password)
    except BaseException:
        client.close()
        raise
    return client


class _Seeder:
    def __init__(
        self, plan: DemoPlan, clients: dict[str, Client], summary: Summary, report: Report
    ) -> None:
        self.plan = plan
        self.clients = clients
        self.summary = summary
        self.report = report
        self.file_cids: dict[str, str] = {}  # medium name -> CID
        self.ids: dict[tuple[str, str], str] = {}  # (model, key) -> record id
        self.jobs: list[tuple[Client, str]] = []

    # -- finding what is there -------------------------------------------------------

    def existing(self, owner: str, model: str) -> dict[str, Any]:
        """The owner's records of ``model`` by their plan key."""
        calls = getattr(self.clients[owner], MODELS[model])
        found: dict[str, Any] = {}
        for record in calls.list(mine=True):
            found.setdefault(_key(model, record), record)
        return found

    def owned_file(self, owner: str, cid: str) -> FileInfo | None:
        return self.clients[owner].find_file(cid)

    # -- reset ---------------------------------------------------------------------

    def reset(self) -> None:
        keys = {(r.owner, r.model, r.key) for r in self.plan.records}
        for model in reversed(MODELS):
            for owner in OWNERS:
                calls = getattr(self.clients[owner], MODELS[model])
                for key, record in self.existing(owner, model).items():
                    if (owner, model, key) in keys:
                        calls.delete(record.id)
                        self.summary.removed[model] += 1
            self.report(f"reset: removed {self.summary.removed[model]} {model} records")
        for f in self.plan.files:
            cid = _file_cid(f)
            while (found := self.owned_file(f.owner, cid)) is not None:
                self.clients[f.owner].delete_file(found.id)
                self.summary.removed["file"] += 1
        self.report(f"reset: moved {self.summary.removed['file']} files to the trash")

    # -- files ---------------------------------------------------------------------

    def upload(self, f: FilePlan) -> None:
        client = self.clients[f.owner]
        m = f.medium
        cid = _file_cid(f)
        info = self.owned_file(f.owner, cid)
        if info is None:
            try:
                info = client.upload(
                    io.BytesIO(m.data), filename=m.name, content_type=m.content_type
                )
            except ApiError as exc:  # a refused kind: what the demo shows
                self.summary.refused.append(f"{m.name}: {exc}")
                self.summary.files[m.kind] += 1
                return
            self.summary.files_added += 1
            if info.job_id:
                self.jobs.append((client, info.job_id))
        want = "public" if f.public else "private"
        if info.visibility != want:
            info = client.update_file(info.id, visibility=want)
        self.file_cids[m.name] = info.cid
        self.summary.files[m.kind] += 1

    # -- records -------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, tuple):
            kind, key = value
            return self.file_cids[key] if kind == "file" else self.ids[(kind, key)]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def make(self, r: RecordPlan, existing: dict[str, Any]) -> None:
        calls = getattr(self.clients[r.owner], MODELS[r.model])
        visibility = "public" if r.public else "private"
        record = existing.get(r.key)
        if record is None:
            record = calls.create(**self.resolve(r.content), visibility=visibility)
            self.summary.records_added[r.model] += 1
            self.summary.versions_added += 1
        elif record.visibility != visibility:
            record = calls.update(record, visibility=visibility)
        for edit in r.edits[record.n - 1 :]:  # an interrupted run's record gets the rest
            before = record.cid
            record = calls.update(record, **self.resolve(edit))
            self.summary.versions_added += record.cid != before
        self.ids[(r.model, r.key)] = record.id
        self.summary.records[r.model] += 1

    def seed(self) -> None:
        for n, f in enumerate(self.plan.files, start=1):
            self.upload(f)
            self.report(f"files {n}/{len(self.plan.files)}: {f.medium.name}")
        cache: dict[tuple[str, str], dict[str, Any]] = {}
        total = len(self.plan.records)
        for n, r in enumerate(self.plan.records, start=1):
            if (r.owner, r.model) not in cache:
                cache[(r.owner, r.model)] = self.existing(r.owner, r.model)
            self.make(r, cache[(r.owner, r.model)])
            self.report(f"records {n}/{total}: {r.model} {r.key}")

    def wait(self, timeout: float) -> None:
        """Wait for the processing of this run's uploads; count each job's final state."""
        deadline = time.monotonic() + timeout
        for n, (client, job_id) in enumerate(self.jobs, start=1):
            left = max(0.1, deadline - time.monotonic())
            try:
                job = client.wait_for_job(job_id, timeout=left, raise_on_failure=False)
                self.summary.file_states[job.state] += 1
            except TimeoutError:
                self.summary.file_states["unfinished"] += 1
            self.report(f"processing {n}/{len(self.jobs)}")


def _file_cid(f: FilePlan) -> str:
    return file_cid(f.medium.data)


def _key(model: str, record: Any) -> str:
    """A record's key in the plan, read from the record."""
    if model == "image_file":
        return f"file:{record.file}"
    if model == "artist":
        return str(record.name.full)
    return str(record.title.full)


def run_demo(
    server: str,
    *,
    seed: int = 0,
    reset: bool = False,
    wait: float = 120.0,
    report: Report = lambda _: None,
    accounts: Iterable[Account] = DEMO_ACCOUNTS,
) -> Summary:
    """Seed the demo profile on ``server``; returns what it did."""
    started = time.monotonic()
    accounts = tuple(accounts)
    report("accounts: making the demo accounts (mstack admin demo-accounts)")
    ensure_accounts(accounts)
    plan = demo_plan(seed)
    summary = Summary(server=server, profile="demo", seed=seed, accounts=list(accounts))
    by_name = {a.username: a for a in accounts}
    clients = {owner: sign_in(server, by_name[owner]) for owner in OWNERS}
    try:
        seeder = _Seeder(plan, clients, summary, report)
        if reset:
            seeder.reset()
        seeder.seed()
        seeder.wait(wait)
    finally:
        for client in clients.values():
            client.close()
    summary.seconds = time.monotonic() - started
    return summary
