"""Every table of the social domain, for Alembic (the ``mstack.models`` entry point): the
generated record projections and the hand-written tables beside them."""

from msocial._generated.models import *  # noqa: F403 (every generated table)
from msocial.social import Follow, Reaction, ReactionCount

__all__ = ["Follow", "Reaction", "ReactionCount"]
