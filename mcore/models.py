"""Every table mcore declares, imported in one place for Alembic."""

from mcore.auth.models import ApiKey, AuthSession, RefreshToken, User
from mcore.files.models import File
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.refs import BlobRef

__all__ = [
    "ApiKey",
    "AuthSession",
    "BlobRef",
    "Block",
    "File",
    "Record",
    "RecordTerm",
    "RecordVersion",
    "RefreshToken",
    "User",
]
