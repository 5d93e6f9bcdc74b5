"""The obstore client the settings describe. Credentials come from the standard AWS
variables (obstore reads them) or from an AWS-style credentials file; neither is logged,
and neither is kept in the settings object."""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Any

from obstore.store import S3Store

from mcore.errors import Invalid
from mcore.settings import StorageSettings


def read_credentials_file(path: Path, profile: str = "default") -> dict[str, str]:
    """``aws_access_key_id``, ``aws_secret_access_key`` (and ``aws_session_token``) from
    an AWS shared-credentials file's profile."""
    parser = configparser.ConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except OSError as exc:
        raise Invalid(
            f"storage.s3_credentials_file {path} cannot be read: {exc.strerror}",
            field="storage.s3_credentials_file",
        ) from exc
    except configparser.Error as exc:
        raise Invalid(
            f"storage.s3_credentials_file {path} is not an AWS credentials file",
            field="storage.s3_credentials_file",
        ) from exc
    if not parser.has_section(profile):
        raise Invalid(
            f"storage.s3_credentials_file {path} has no [{profile}] section",
            field="storage.s3_credentials_file",
        )
    section = parser[profile]
    out = {}
    for name, key in (
        ("aws_access_key_id", "access_key_id"),
        ("aws_secret_access_key", "secret_access_key"),
        ("aws_session_token", "token"),
    ):
        if section.get(name):
            out[key] = section[name].strip()
    if "access_key_id" not in out or "secret_access_key" not in out:
        raise Invalid(
            f"storage.s3_credentials_file {path} [{profile}] needs aws_access_key_id and"
            " aws_secret_access_key",
            field="storage.s3_credentials_file",
        )
    return out


def s3_client(storage: StorageSettings) -> S3Store:
    """An obstore S3 client for the configured bucket, with retries and backoff."""
    assert storage.s3_bucket is not None  # checked by the settings
    config: dict[str, Any] = {"region": storage.s3_region}
    if storage.s3_endpoint:
        config["endpoint"] = storage.s3_endpoint
    has_env = bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))
    if storage.s3_credentials_file is not None and not has_env:
        config.update(read_credentials_file(storage.s3_credentials_file))
    client_options: dict[str, Any] = {"connect_timeout": "10s", "timeout": "300s"}
    if storage.s3_endpoint and storage.s3_endpoint.startswith("http://"):
        client_options["allow_http"] = True
    retry = storage.s3_retry_timeout
    return S3Store(
        storage.s3_bucket,
        prefix=storage.s3_prefix.strip("/") or None,
        config=config,  # type: ignore[arg-type]
        client_options=client_options,  # type: ignore[arg-type]
        retry_config={
            "max_retries": storage.s3_max_retries,
            "retry_timeout": retry,
            "backoff": {"init_backoff": retry / 600, "max_backoff": retry / 4, "base": 2},
        },
    )
