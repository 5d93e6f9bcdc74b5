"""Every table mcore declares, imported in one place for Alembic."""

from mcore.files.models import File
from mcore.refs import BlobRef

__all__ = ["BlobRef", "File"]
