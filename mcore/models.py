"""Every table mcore declares, imported in one place for Alembic."""

from mcore.events import Event
from mcore.files.models import File
from mcore.jobs.derivatives import Derivative
from mcore.jobs.models import Job
from mcore.refs import BlobRef

__all__ = ["BlobRef", "Derivative", "Event", "File", "Job"]
