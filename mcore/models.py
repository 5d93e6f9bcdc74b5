"""Every table mcore declares, imported in one place for Alembic."""

from mcore.auth.models import ApiKey, AuthSession, RefreshToken, User
from mcore.events.log import Event
from mcore.files.derivatives import Derivative
from mcore.files.models import File
from mcore.folders.models import Folder
from mcore.jobs.models import Job
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.refs import BlobRef
from mcore.runtime import RuntimeSetting
from mcore.sharing.models import Group, GroupMember, Share
from mcore.uploads.models import Upload

__all__ = [
    "ApiKey",
    "AuthSession",
    "BlobRef",
    "Block",
    "Derivative",
    "Event",
    "File",
    "Folder",
    "Group",
    "GroupMember",
    "Job",
    "Record",
    "RecordTerm",
    "RecordVersion",
    "RefreshToken",
    "RuntimeSetting",
    "Share",
    "Upload",
    "User",
]
