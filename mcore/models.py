"""Every table mcore declares, imported in one place for Alembic."""

from mcore.files.models import File
from mcore.records.models import Block, Record, RecordTerm, RecordVersion
from mcore.refs import BlobRef

__all__ = ["BlobRef", "Block", "File", "Record", "RecordTerm", "RecordVersion"]
