"""Moving bytes: what both clients share for uploads and checked, resumable downloads.

Uploads never hold a file in memory: a path is hashed first (its CID goes in ``?cid=``
so the server refuses bytes that do not match it), then streamed in chunks while being
hashed again, so a file that changes in between is named plainly.

Downloads are hashed as they arrive. To a path they go into a partial file next to the
target (``.<name>.<cid tail>.mstack-part``) that is renamed into place only once its
bytes hash to the CID; a mismatch removes it, an interruption keeps it for the next call
to resume with ``Range``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import blake3

from mstack_client.cid import cid_from_digest, hash_path
from mstack_client.config import config_dir
from mstack_client.errors import IntegrityError, MstackError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

CHUNK = 1024 * 1024
PART_SUFFIX = ".mstack-part"

Progress = Callable[[int, int | None], None]
"""Called with (bytes done, total bytes or None) as a transfer moves."""

ManyProgress = Callable[[Path, int, int | None], None]
"""Called with (file, bytes done, file size) as each file of ``upload_many`` moves."""

Source = str | os.PathLike[str] | IO[bytes]


def guess_type(name: str) -> str:
    """A declared type for the upload; the server detects the real one from the bytes."""
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass
class Prepared:
    """An upload ready to send: its name, size and CID when known, and how to read it."""

    filename: str
    size: int | None
    cid: str | None
    content_type: str
    path: Path | None = None
    stream: IO[bytes] | None = None
    start: int = 0


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, OSError, ValueError):
        return False


def prepare(
    source: Source, *, filename: str | None, cid: str | None, content_type: str | None
) -> Prepared:
    """Hash a path or a seekable stream (blocking: run it in a thread from async code)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise MstackError(f"{path}: not a file")
        actual, size = hash_path(path)
        if cid is not None and cid != actual:
            raise IntegrityError(
                f"{path} hashes to {actual}, not the expected {cid}", expected=cid, actual=actual
            )
        name = filename or path.name
        return Prepared(name, size, actual, content_type or guess_type(name), path=path)
    name = filename or Path(str(getattr(source, "name", "") or "upload")).name or "upload"
    if _seekable(source):
        start = source.tell()
        hasher = blake3.blake3()
        size = 0
        while chunk := source.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
        source.seek(start)
        actual = cid_from_digest(hasher.digest())
        if cid is not None and cid != actual:
            raise IntegrityError(
                f"the stream hashes to {actual}, not the expected {cid}",
                expected=cid,
                actual=actual,
            )
        return Prepared(
            name, size, actual, content_type or guess_type(name), stream=source, start=start
        )
    return Prepared(name, None, cid, content_type or guess_type(name), stream=source)


class Reader:
    """Reads a prepared upload in chunks, counting, and hashing streams as they go.

    A path was hashed just before and goes out with ``?cid=``: the server re-hashes what
    arrives and refuses a mismatch, so it is not hashed twice here (only after a refusal,
    to say whether the file changed in between).
    """

    def __init__(self, prepared: Prepared, progress: Progress | None) -> None:
        self.prepared = prepared
        self.progress = progress
        self.inline = prepared.path is None
        self.hasher = blake3.blake3()
        self.sent = 0
        self._file: IO[bytes] | None = None

    def open(self) -> None:
        p = self.prepared
        if p.path is not None:
            self._file = p.path.open("rb")
        else:
            assert p.stream is not None
            if p.size is not None:
                p.stream.seek(p.start)
            self._file = p.stream
        self.hasher = blake3.blake3()
        self.sent = 0
        if self.progress:
            self.progress(0, p.size)

    def read(self) -> bytes:
        """The next chunk, or b"" at the end (checked against the size hashed before)."""
        assert self._file is not None
        size = self.prepared.size
        want = CHUNK if size is None else min(CHUNK, size - self.sent)
        chunk = self._file.read(want) if want > 0 else b""
        if not chunk and size is not None and self.sent < size:
            raise self._changed()
        if chunk:
            if self.inline:
                self.hasher.update(chunk)
            self.sent += len(chunk)
            if self.progress:
                self.progress(self.sent, size)
        elif size is not None and self.prepared.path is not None and self._file.read(1):
            raise self._changed()
        return chunk

    def close(self) -> None:
        if self._file is not None and self.prepared.path is not None:
            self._file.close()
        self._file = None

    @property
    def cid(self) -> str:
        """The CID of the bytes sent (for a path: the one the server checked them against)."""
        if not self.inline and self.prepared.cid is not None:
            return self.prepared.cid
        return cid_from_digest(self.hasher.digest())

    def changed(self) -> bool:
        """True when the bytes sent are not the bytes hashed before sending (blocking)."""
        p = self.prepared
        if p.cid is None:
            return False
        if self.inline:
            return self.cid != p.cid
        assert p.path is not None
        try:
            return hash_path(p.path)[0] != p.cid
        except OSError:
            return True

    def _changed(self) -> MstackError:
        return MstackError(
            f"{self.prepared.path or self.prepared.filename} changed while it was being uploaded"
        )


class Excludes:
    """Gitignore-style patterns over paths relative to the folder being walked.

    ``*`` and ``?`` stay within one name, ``**`` spans folders (``**/cache``, ``logs/**``,
    ``a/**/b``), a trailing ``/`` matches folders only (``build/``), a pattern with a ``/``
    at its start or in its middle is anchored to the folder, one without matches a name at
    any depth (``*.tmp``), and ``!`` re-includes what an earlier pattern excluded. As in
    git, nothing inside an excluded folder can be re-included.
    """

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.rules: list[tuple[re.Pattern[str], bool, bool]] = []
        for raw in patterns:
            pattern = raw.strip()
            if not pattern or pattern.startswith("#"):
                continue
            negate = pattern.startswith("!")
            pattern = pattern.removeprefix("!")
            dir_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            if not pattern:
                continue
            if "/" not in pattern:
                pattern = "**/" + pattern
            self.rules.append((re.compile(_glob_regex(pattern.lstrip("/"))), negate, dir_only))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def excluded(self, relative: str, *, is_dir: bool) -> bool:
        """Whether a path (``a/b.txt``, relative to the folder walked) is left out."""
        result = False
        for regex, negate, dir_only in self.rules:
            if (is_dir or not dir_only) and regex.fullmatch(relative):
                result = not negate
        return result


def _glob_regex(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif pattern[i] == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


Skipped = Callable[[Path, str], None]
"""Called with (path, why) for what a folder walk leaves out that a person may have meant."""


def collect_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    hidden: bool = False,
    follow_symlinks: bool = False,
    exclude: Iterable[str] = (),
    skipped: Skipped | None = None,
) -> list[Path]:
    """The files named, with folders walked recursively, in a stable order, without duplicates.

    In a folder: names starting with ``.`` are left out unless ``hidden`` (``.git/``,
    ``.DS_Store``), and so is what matches an ``exclude`` pattern (gitignore-style, see
    ``Excludes``). A symbolic link is followed only to a file inside the folder walked,
    unless ``follow_symlinks``; even then each real folder is walked once, so a link loop
    ends. Our own partial downloads are always left out. Paths named directly are taken
    as they are.
    """
    rules = Excludes(exclude)
    found: dict[Path, None] = {}
    for given in paths:
        path = Path(given)
        if path.is_dir():
            _walk(path, rules, hidden, follow_symlinks, skipped, found)
        elif path.exists():
            found.setdefault(path, None)
        else:
            raise MstackError(f"{path}: no such file or folder")
    return list(found)


def _walk(
    root: Path,
    rules: Excludes,
    hidden: bool,
    follow_symlinks: bool,
    skipped: Skipped | None,
    found: dict[Path, None],
) -> None:
    real_root = root.resolve()
    root_stat = root.stat()
    seen = {(root_stat.st_dev, root_stat.st_ino)}

    def note(path: Path, why: str) -> None:
        if skipped:
            skipped(path, why)

    def left_out(relative: str, *, is_dir: bool) -> bool:
        parts = relative.split("/")
        if not hidden and any(part.startswith(".") for part in parts):
            return True
        return rules.excluded(relative, is_dir=is_dir)

    def entries(folder: Path) -> Iterator[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as it:
                listed = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            note(folder, exc.strerror or "cannot be read")
            return iter(())
        return iter(listed)

    # depth first, by name (the order of sorted paths), without recursion
    stack: list[tuple[Iterator[os.DirEntry[str]], Path, str]] = [(entries(root), root, "")]
    while stack:
        it, folder, prefix = stack[-1]
        entry = next(it, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        path = folder / name
        relative = prefix + name
        if name.endswith(PART_SUFFIX) or (name.startswith(".") and not hidden):
            continue
        try:
            link = entry.is_symlink()
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()
        except OSError:
            continue
        if rules.excluded(relative, is_dir=is_dir):
            continue
        if link and not follow_symlinks:
            if is_dir:
                note(path, "a link to a folder (--follow-symlinks to follow it)")
                continue
            if not is_file:
                continue
            target = path.resolve()
            if not target.is_relative_to(real_root):
                note(path, "a link out of the folder (--follow-symlinks to follow it)")
                continue
            if left_out(target.relative_to(real_root).as_posix(), is_dir=False):
                note(path, "a link to a file that is left out")
                continue
        if is_dir:
            try:
                st = path.stat()
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                note(path, "a folder already walked (a link loop)")
                continue
            seen.add(key)
            stack.append((entries(path), path, relative + "/"))
        elif is_file:
            found.setdefault(path, None)
        # anything else (a broken link, a socket, a FIFO) is left out


# ---------------------------------------------------------------------------- downloads


def safe_filename(name: str | None, fallback: str) -> str:
    """A file name from the server that is safe to create in a folder (never a path)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:200] or fallback


def partial_path(target: Path, cid: str) -> Path:
    """Where the partial download of ``cid`` into ``target`` lives (next to it)."""
    name = target.name
    while len(f".{name}.{cid[-12:]}{PART_SUFFIX}".encode()) > 250:
        name = name[:-1]
    return target.with_name(f".{name}.{cid[-12:]}{PART_SUFFIX}")


class Sink:
    """Where downloaded bytes go, hashing them; ``offset`` is how many it has."""

    def __init__(self, cid: str) -> None:
        self.cid = cid
        self.hasher = blake3.blake3()
        self.offset = 0
        self.resumed_from = 0

    def write(self, chunk: bytes) -> None:
        self._write(chunk)
        self.hasher.update(chunk)
        self.offset += len(chunk)

    def _write(self, chunk: bytes) -> None:
        raise NotImplementedError

    @property
    def actual(self) -> str:
        return cid_from_digest(self.hasher.digest())

    def verify(self) -> None:
        actual = self.actual
        if actual != self.cid:
            raise IntegrityError(
                f"the bytes received hash to {actual}, not {self.cid}: the copy on the server"
                " or the connection is damaged; nothing was kept",
                expected=self.cid,
                actual=actual,
            )

    def finish(self) -> None:
        """Verify and make the bytes final; on a mismatch nothing is left behind."""
        self.verify()

    def keep(self) -> None:
        """Stop, keeping what arrived so far for a later resume."""

    def discard(self) -> None:
        """Stop and drop what arrived."""


class StreamSink(Sink):
    """Writes to a caller's stream; a mismatch raises after the bytes were written."""

    def __init__(self, cid: str, stream: IO[bytes]) -> None:
        super().__init__(cid)
        self.stream = stream

    def _write(self, chunk: bytes) -> None:
        self.stream.write(chunk)


class FileSink(Sink):
    """Writes to the partial file next to ``target``; renames it into place when verified."""

    def __init__(self, cid: str, target: Path, *, overwrite: bool) -> None:
        super().__init__(cid)
        self.target = target
        self.path = partial_path(target, cid)
        if target.exists() and not overwrite:
            raise FileExistsError(f"{target} already exists")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        self.file: IO[bytes] = os.fdopen(fd, "r+b")
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.file.close()
                raise MstackError(f"another download into {target} is running") from None
        while chunk := self.file.read(CHUNK):
            self.hasher.update(chunk)
            self.offset += len(chunk)
        self.resumed_from = self.offset

    def _write(self, chunk: bytes) -> None:
        self.file.write(chunk)

    def restart(self) -> None:
        """Throw away the partial bytes and start from zero."""
        self.file.seek(0)
        self.file.truncate()
        self.hasher = blake3.blake3()
        self.offset = self.resumed_from = 0

    def finish(self) -> None:
        try:
            self.verify()
        except IntegrityError:
            self.discard()
            raise
        self.file.flush()
        os.fsync(self.file.fileno())
        os.replace(self.path, self.target)
        self.file.close()
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def keep(self) -> None:
        if not self.file.closed:
            self.file.flush()
            self.file.close()

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def content_range_start(value: str | None) -> int | None:
    """The first byte of ``Content-Range: bytes a-b/n``."""
    if not value or not value.startswith("bytes "):
        return None
    first = value[6:].split("-", 1)[0]
    return int(first) if first.isdigit() else None


def expected_total(headers: Any, status: int, offset: int) -> int | None:
    """The whole size of the blob, from a 200's length or a 206's range."""
    if status == 206:
        total = (headers.get("content-range") or "").rsplit("/", 1)[-1]
        return int(total) if total.isdigit() else None
    length = headers.get("content-length")
    return int(length) if length and length.isdigit() else None


RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


# ---------------------------------------------------------------------- resumable uploads

TUS_THRESHOLD = 64 * 1024 * 1024
"""Files at least this large are uploaded over tus (``/api/v1/uploads``), resumably."""
TUS_HEADERS = {"Tus-Resumable": "1.0.0"}
OFFSET_TYPE = "application/offset+octet-stream"
RESUME_FILE = "uploads.json"


def tus_metadata(prepared: Prepared, folder_id: str | None = None) -> str:
    """``Upload-Metadata``: the file's name, declared type and CID (which the server checks),
    and the folder it goes into."""
    values = {"filename": prepared.filename, "filetype": prepared.content_type}
    if prepared.cid:
        values["cid"] = prepared.cid
    if folder_id:
        values["folder_id"] = folder_id
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


class ResumeState:
    """Where each unfinished resumable upload is: its upload URL, by server and file (its
    real path, size and modification time, so a file changed since is uploaded afresh).

    A small JSON file in the client's config folder (``uploads.json``), changed under a
    lock file, so uploads running at once (threads or processes) do not lose each other's.
    """

    _threads = threading.Lock()

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / RESUME_FILE

    @staticmethod
    def key(server: str, path: Path) -> str:
        st = path.stat()
        return f"{server} {path.resolve()} {st.st_size} {st.st_mtime_ns}"

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._threads:
            lock = self.path.with_name(f".{self.path.name}.lock")
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                data = self._read()
                before = dict(data)
                yield data
                if data != before:
                    tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
                    os.chmod(tmp, 0o600)
                    os.replace(tmp, self.path)
            finally:
                os.close(fd)

    def get(self, key: str) -> str | None:
        return self._read().get(key)

    def set(self, key: str, url: str) -> None:
        with self._locked() as data:
            data[key] = url

    def forget(self, key: str) -> None:
        with self._locked() as data:
            data.pop(key, None)


class ChunkReader:
    """Reads a file from an offset in chunks, reporting progress over the whole file."""

    def __init__(self, path: Path, offset: int, size: int, progress: Progress | None) -> None:
        self.path, self.offset, self.size, self.progress = path, offset, size, progress
        self._file: IO[bytes] | None = None

    def open(self) -> None:
        self._file = self.path.open("rb")
        self._file.seek(self.offset)
        if self.progress:
            self.progress(self.offset, self.size)

    def read(self) -> bytes:
        assert self._file is not None
        chunk = self._file.read(min(CHUNK, self.size - self.offset))
        self.offset += len(chunk)
        if chunk and self.progress:
            self.progress(self.offset, self.size)
        return chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
