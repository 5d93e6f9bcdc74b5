"""``mstack upload``, ``fetch``, ``download``, ``ls``, ``rm`` and ``link``."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from mstack_client._generated.sdk.client import Client
from mstack_client._transfer import collect_files
from mstack_client.cid import hash_path
from mstack_client.cli._context import (
    describe,
    error_dict,
    human_size,
    json_option,
    more_hint,
    print_table,
    state,
)
from mstack_client.cli._refs import FILE_ID, FILE_REF, FOLDER_ID
from mstack_client.errors import JobFailed, MstackError
from mstack_client.models import FileInfo, Job, UploadResult


def _progress(console: Any) -> Progress:
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class ByteSize(click.ParamType):
    """A size in bytes: ``64M``, ``1G``, ``512K`` (binary units), a plain number, or ``off``."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
        if text == "OFF":
            return None
        number, unit = text.rstrip("KMGT"), text[len(text.rstrip("KMGT")) :]
        if not number.isdigit() or unit not in SIZE_UNITS:
            self.fail(f"{value!r} is not a size (such as 64M, 1G or off)", param, ctx)
        return int(number) * SIZE_UNITS[unit]


def file_json(file: FileInfo) -> dict[str, Any]:
    """A file as ``--json`` prints it: the server's record."""
    return file.raw or {"id": file.id, "cid": file.cid, "filename": file.filename}


def each_file(ids: tuple[str, ...], act: Callable[[Client, str], FileInfo], done_as: str) -> None:
    """Do ``act`` to each file, say what was ``done_as`` and what failed (exit 1 if any
    did): one failure does not stop the others."""
    st = state()
    done: list[FileInfo] = []
    failed: list[tuple[str, MstackError]] = []
    with st.client() as client:
        for file_id in ids:
            try:
                done.append(act(client, file_id))
            except MstackError as exc:
                failed.append((file_id, exc))

    def human() -> None:
        for f in done:
            click.echo(f"{done_as} {f.id} {f.filename}")
        for file_id, exc in failed:
            click.echo(f"error: {file_id}: {describe(exc)}", err=True)

    st.emit(
        {
            done_as: [file_json(f) for f in done],
            "failed": [{"id": i, **error_dict(e)} for i, e in failed],
        },
        human,
    )
    if failed:
        sys.exit(1)


def _short(name: str, width: int = 40) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]


class _UploadBars:
    """A bar per file while it moves and one for the whole upload (called from worker threads)."""

    def __init__(self, progress: Progress, files: list[Path]) -> None:
        self.progress = progress
        self.sizes = {}
        for path in files:
            try:
                self.sizes[path] = path.stat().st_size
            except OSError:
                self.sizes[path] = 0
        self.overall = progress.add_task("total", total=sum(self.sizes.values()))
        self.tasks: dict[Path, TaskID] = {}
        self.done: dict[Path, int] = {}
        self.lock = threading.Lock()

    def update(self, path: Path, done: int, total: int | None) -> None:
        with self.lock:
            task = self.tasks.get(path)
            if task is None:
                task = self.tasks[path] = self.progress.add_task(_short(path.name), total=total)
            step = done - self.done.get(path, 0)
            self.done[path] = done
            self.progress.update(task, completed=done, total=total)
            self.progress.advance(self.overall, step)
            if total is not None and done >= total:
                self.progress.remove_task(self.tasks.pop(path))

    def finish(self, result: UploadResult) -> None:
        with self.lock:
            task = self.tasks.pop(result.source, None)
            if task is not None:
                self.progress.remove_task(task)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-j",
    "--parallel",
    default=4,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Files uploaded at once.",
)
@click.option(
    "--skip-existing/--again",
    default=True,
    show_default=True,
    help="Skip files whose bytes you already have on the server (checked by CID; with"
    " --folder, in that folder).",
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="PATTERN",
    help="Leave out what matches, gitignore-style (*.tmp, build/, **/cache); repeatable.",
)
@click.option("--hidden", is_flag=True, help="Include hidden files and folders (.git/, .env).")
@click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Follow symbolic links out of the folder and to folders (each folder walked once).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="List what would be sent, with sizes and what is already on the server; send nothing.",
)
@click.option(
    "--resumable-from",
    "resumable_from",
    default="64M",
    show_default=True,
    type=ByteSize(),
    help="Files at least this large go over tus and resume where they stopped (after"
    " Ctrl-C, a dropped connection or a server restart) when the command is run again;"
    " 'off': never.",
)
@click.option(
    "--folder",
    "folder_id",
    metavar="ID",
    type=FOLDER_ID,
    help="Upload into this folder (default: your own space's root); every file goes"
    " straight into it.",
)
@json_option
def upload(
    paths: tuple[Path, ...],
    parallel: int,
    skip_existing: bool,
    excludes: tuple[str, ...],
    hidden: bool,
    follow_symlinks: bool,
    dry_run: bool,
    resumable_from: int | None,
    folder_id: str | None,
) -> None:
    """Upload files and folders (walked recursively), several at a time.

    In folders, hidden files and folders and what --exclude matches are left out, and a
    symbolic link is followed only to a file inside the folder. Each file is hashed first
    and the server keeps it only if the bytes it receives have that CID. Large files
    (--resumable-from) are sent resumably: interrupted, the same command continues them
    from where the server has them. Prints a summary with the CIDs; exits 1 if any file
    failed.
    """
    st = state()

    def note(path: Path, why: str) -> None:
        click.echo(f"left out: {path}: {why}", err=True)

    files = collect_files(
        paths,
        hidden=hidden,
        follow_symlinks=follow_symlinks,
        exclude=excludes,
        skipped=None if st.json else note,
    )
    if folder_id is not None:
        with st.client() as client:
            client.folders.get(folder_id)  # a wrong folder is one error, not one per file
    if dry_run:
        _dry_run(files, parallel, skip_existing, folder_id)
        return
    with st.client() as client, _progress(st.err) as progress:
        client.tus_threshold = resumable_from
        bars = _UploadBars(progress, files)
        results = client.upload_many(
            files,
            parallel=parallel,
            skip_existing=skip_existing,
            progress=bars.update,
            folder=folder_id,
        )
        for result in results:
            bars.finish(result)
    failed = [r for r in results if r.error is not None]

    def human() -> None:
        rows = [
            ["skipped" if r.skipped else "uploaded", r.file.cid, r.file.id, str(r.source)]
            for r in results
            if r.file is not None
        ]
        if rows:
            print_table(["STATUS", "CID", "ID", "FILE"], rows)
        for r in results:
            if r.error is not None:
                click.echo(f"failed: {r.source}: {describe(r.error)}", err=True)
        counts = (
            f"{sum(1 for r in results if r.ok and not r.skipped)} uploaded,"
            f" {sum(1 for r in results if r.skipped)} already there, {len(failed)} failed"
        )
        click.echo(counts, err=True)

    st.emit(
        [
            {
                "path": str(r.source),
                "status": "failed" if r.error else ("skipped" if r.skipped else "uploaded"),
                "file": file_json(r.file) if r.file else None,
                "error": error_dict(r.error) if r.error else None,
            }
            for r in results
        ],
        human,
    )
    if failed:
        sys.exit(1)


def _dry_run(
    files: list[Path], parallel: int, skip_existing: bool, folder_id: str | None = None
) -> None:
    """What ``upload`` would send: each file hashed here and looked up by CID on the server."""
    st = state()
    with st.client() as client:

        def check(path: Path) -> dict[str, Any]:
            try:
                cid, size = hash_path(path)
            except OSError as exc:
                return {"path": str(path), "status": "failed", "error": error_dict(exc)}
            there = client.find_file(cid, folder_id=folder_id) is not None
            status = "skip" if there and skip_existing else "send"
            return {
                "path": str(path),
                "status": status,
                "cid": cid,
                "size": size,
                "on_server": there,
            }

        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="mstack-dry") as pool:
            rows = list(pool.map(check, files))
    ok = [r for r in rows if r["status"] != "failed"]
    send = [r for r in ok if r["status"] == "send"]
    there = sum(1 for r in ok if r["on_server"])

    def human() -> None:
        table = [[r["status"], human_size(r["size"]), r["cid"], r["path"]] for r in ok]
        if table:
            print_table(["STATUS", "SIZE", "CID", "FILE"], table, right=frozenset({"SIZE"}))
        for r in rows:
            if r["status"] == "failed":
                click.echo(f"failed: {r['path']}: {r['error']['detail']}", err=True)
        click.echo(
            f"dry run: {len(ok)} files, {human_size(sum(r['size'] for r in ok))};"
            f" {there} already on the server; would send {len(send)}"
            f" ({human_size(sum(r['size'] for r in send))})",
            err=True,
        )

    st.emit(
        {
            "files": rows,
            "count": len(ok),
            "bytes": sum(r["size"] for r in ok),
            "on_server": there,
            "to_send": len(send),
            "bytes_to_send": sum(r["size"] for r in send),
        },
        human,
    )
    if len(ok) != len(rows):
        sys.exit(1)


STDOUT_BUFFER = 64 * 1024 * 1024
"""``download -o -`` holds at most this many bytes in memory to verify them before writing."""


class _Buffer(io.BytesIO):
    """Holds a download for standard output until it is verified; refuses to grow past a limit."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.limit:
            raise _too_large(self.limit)
        return super().write(data)


def _too_large(limit: int) -> MstackError:
    return MstackError(
        f"the file is larger than {human_size(limit)}, more than -o - holds in memory to"
        " verify it before writing; nothing was written. Download it to a file, raise"
        " --buffer-limit, or add --unverified to stream it as it arrives"
    )


@click.command()
@click.argument("ref", metavar="ID_OR_CID", type=FILE_REF)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, allow_dash=True),
    help="A file, a folder, or - for standard output (default: the file's name, here).",
)
@click.option("-f", "--force", is_flag=True, help="Replace an existing file.")
@click.option(
    "--buffer-limit",
    default=STDOUT_BUFFER // (1024 * 1024),
    show_default=True,
    type=click.IntRange(min=1),
    metavar="MIB",
    help="With -o -: the largest file held in memory until verified, in MiB.",
)
@click.option(
    "--unverified",
    is_flag=True,
    help="With -o -: write bytes as they arrive, before they are verified (exit 1 if they"
    " do not match; discard the output then).",
)
@json_option
def download(
    ref: str, output: Path | None, force: bool, buffer_limit: int, unverified: bool
) -> None:
    """Download a file by id (or bytes by CID), checking every byte against the CID.

    Nothing is kept if the bytes do not match. An interrupted download resumes when you
    run the same command again. To standard output (-o -) a file is held in memory until
    its bytes match the CID, and only then written; files larger than --buffer-limit are
    refused unless --unverified, which writes bytes as they arrive (and exits 1 after the
    last one if they did not match).
    """
    st = state()
    limit = buffer_limit * 1024 * 1024
    to_stdout = output is not None and str(output) == "-"
    with st.client() as client, _progress(st.err) as progress:
        task = progress.add_task(_short(ref), total=None)

        def report(done: int, total: int | None) -> None:
            if to_stdout and not unverified and total is not None and total > limit:
                raise _too_large(limit)
            progress.update(task, completed=done, total=total)

        if to_stdout:
            if unverified:
                client.download(ref, sys.stdout.buffer, progress=report)
                sys.stdout.buffer.flush()
                return
            buffer = _Buffer(limit)
            client.download(ref, buffer, progress=report)  # raises unless the bytes match
            sys.stdout.buffer.write(buffer.getbuffer())
            sys.stdout.buffer.flush()
            return
        target = output if output is not None else Path.cwd()
        try:
            result = client.download(ref, target, progress=report, overwrite=force)
        except FileExistsError as exc:
            raise MstackError(f"{exc.args[0]} (use --force to replace it)") from None
        except KeyboardInterrupt:
            click.echo("\ninterrupted: run the same command again to resume", err=True)
            sys.exit(130)
    st.emit(
        {
            "path": str(result.path),
            "cid": result.cid,
            "size": result.size,
            "resumed_from": result.resumed_from,
        },
        lambda: click.echo(
            f"saved {result.path} ({human_size(result.size)}, {result.cid}; verified)"
            + (f", resumed at byte {result.resumed_from}" if result.resumed_from else "")
        ),
    )


@click.command("ls")
@click.option(
    "-n",
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 200),
    help="Files per page.",
)
@click.option("--cursor", help="Continue from this cursor (printed after a page).")
@click.option("-a", "--all", "every", is_flag=True, help="List every page.")
@click.option("--mine", is_flag=True, help="Only your own files (not public ones of others).")
@click.option("--trashed", is_flag=True, help="List the trash instead.")
@json_option
def ls(limit: int, cursor: str | None, every: bool, mine: bool, trashed: bool) -> None:
    """List files, newest first."""
    st = state()
    with st.client() as client:
        if every:
            files = list(
                client.iter_files(mine=mine or None, trashed=trashed or None, page_size=200)
            )
            next_cursor = None
        else:
            page = client.list_files(
                cursor=cursor, limit=limit, mine=mine or None, trashed=trashed or None
            )
            files, next_cursor = page.items, page.next

    def human() -> None:
        rows = [
            [
                f.id,
                f.cid,
                human_size(f.size),
                f.content_type,
                f.status,
                f.created_at.strftime("%Y-%m-%d %H:%M"),
                f.filename,
            ]
            for f in files
        ]
        if files:
            headers = ["ID", "CID", "SIZE", "TYPE", "STATUS", "CREATED", "NAME"]
            print_table(headers, rows, right=frozenset({"SIZE"}))
        else:
            click.echo("no files", err=True)
        if next_cursor:
            more_hint(next_cursor)

    st.emit({"items": [file_json(f) for f in files], "next": next_cursor}, human)


@click.command()
@click.argument("ids", nargs=-1, required=True, metavar="ID...", type=FILE_ID)
@json_option
def rm(ids: tuple[str, ...]) -> None:
    """Move files to the trash (they can be restored for the server's retention time)."""
    each_file(ids, lambda client, file_id: client.delete_file(file_id), "trashed")


@click.command()
@click.argument("ref", metavar="ID_OR_CID", type=FILE_REF)
@click.option(
    "--expires",
    type=click.IntRange(min=1),
    metavar="SECONDS",
    help="How long the link works (default: the server's).",
)
@click.option("--width", type=click.IntRange(min=1), help="A link to the image this wide.")
@click.option("--height", type=click.IntRange(min=1), help="A link to the image this high.")
@click.option("--fit", type=click.Choice(["contain", "cover", "fill"]), help="How it fits.")
@click.option(
    "--format",
    "image_format",
    type=click.Choice(["webp", "jpeg", "png", "avif"]),
    help="The image's format (webp by default).",
)
@click.option("--quality", type=click.IntRange(1, 100), help="Its quality, 1-100.")
@json_option
def link(
    ref: str,
    expires: int | None,
    width: int | None,
    height: int | None,
    fit: str | None,
    image_format: str | None,
    quality: int | None,
) -> None:
    """Make a signed link to a file that works without signing in, until it expires.

    With --width or --height, the link is to the image resized and converted (the
    server's /image), for a web page to embed; --fit, --format and --quality go with them.
    """
    st = state()
    transform = {"fit": fit, "format": image_format, "quality": quality}
    with st.client() as client:
        if width is None and height is None:
            if any(v is not None for v in transform.values()):
                raise click.UsageError("--fit, --format and --quality need --width or --height")
            signed = client.create_link(ref, expires_in=expires)
        else:
            signed = client.image_link(
                ref,
                width=width,
                height=height,
                fit=fit,
                format=image_format,
                quality=quality,
                expires_in=expires,
            )
    st.emit(
        {"url": signed.url, "expires_at": signed.expires_at},
        lambda: click.echo(signed.url),
    )


@click.command()
@click.argument("url")
@click.option("--name", "filename", metavar="NAME", help="The file's name (default: the server's).")
@click.option(
    "--cid", metavar="CID", help="The CID the bytes must have; otherwise nothing is kept."
)
@click.option("--wait", is_flag=True, help="Wait for the download, with a progress bar.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --wait, give up waiting after this long (exit 1; the job goes on).",
)
@click.option(
    "--folder",
    "folder_id",
    metavar="ID",
    type=FOLDER_ID,
    help="Put the file into this folder (default: your own space's root).",
)
@json_option
def fetch(
    url: str,
    filename: str | None,
    cid: str | None,
    wait: bool,
    timeout: float | None,
    folder_id: str | None,
) -> None:
    """Have the server download URL into a new file of yours, as a job.

    URL is an http:// or https:// link that works without signing in: for a cloud drive,
    its direct-download form (see the README). Prints the job; with --wait, the file once
    it is in (exit 1 if the fetch failed).
    """
    st = state()
    with st.client() as client:
        job = client.fetch(url, filename=filename, cid=cid, folder=folder_id)
        if not wait:
            st.emit(job.raw, lambda: click.echo(f"queued job {job.id}: mstack jobs watch {job.id}"))
            return
        with Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            console=st.err,
            transient=True,
            disable=not st.err.is_terminal,
        ) as progress:
            task = progress.add_task(f"fetching {job.id}", total=100)

            def report(seen: Job) -> None:
                progress.update(task, completed=seen.progress)

            try:
                job = client.wait_for_job(job.id, timeout=timeout, progress=report)
            except JobFailed as exc:
                failed = exc.job
                st.emit(
                    {"job": failed.raw, "file": None},
                    lambda: click.echo(f"error: fetch failed: {failed.error}", err=True),
                )
                sys.exit(1)
            except TimeoutError as exc:
                raise click.ClickException(
                    f"{exc}; it goes on: mstack jobs watch {job.id}"
                ) from None
        file = client.get_file(str(job.result["file_id"]))

    def human() -> None:
        print_table(
            ["CID", "ID", "SIZE", "NAME"],
            [[file.cid, file.id, human_size(file.size), file.filename]],
        )

    st.emit({"job": job.raw, "file": file_json(file)}, human)


COMMANDS = [upload, fetch, download, ls, rm, link]
