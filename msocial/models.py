"""Every table msocial declares, imported in one place for Alembic (the ``mstack.models``
entry point names this module, so mcore's migration environment finds them without
importing msocial by name): the generated record projections and the hand-written
tables beside them."""

from msocial._generated.models import *  # noqa: F403 (every generated table)
from msocial.messaging.models import AccountBlock, Conversation, ConversationMember, Message
from msocial.social import Follow, Reaction, ReactionCount

__all__ = [
    "AccountBlock",
    "Conversation",
    "ConversationMember",
    "Follow",
    "Message",
    "Reaction",
    "ReactionCount",
]
