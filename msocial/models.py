"""Every table msocial declares, imported in one place for Alembic (the ``mstack.models``
entry point names this module, so mcore's migration environment finds them without
importing msocial by name)."""

from msocial.messaging.models import AccountBlock, Conversation, ConversationMember, Message

__all__ = ["AccountBlock", "Conversation", "ConversationMember", "Message"]
