"""Events: what happened, for whom, in the order it committed.

- ``log``: the events table, whose increasing id is the sequence number a client resumes
  from, and ``publish``, which writes a row in the transaction of the change it reports.
  Its names are re-exported here: ``from mcore.events import EventType, publish``.
- ``wakeup``: signals between processes ("look again"), in-process or over Redis; jobs
  use them too.
- ``hub``: one reader of the table per server process, fanning new rows out to sockets.

Inside, imports run ``wakeup`` <- ``log`` <- ``hub``.
"""

from mcore.events.log import (
    EVENT_SCOPES,
    Event,
    EventType,
    events_after,
    first_event_id,
    last_event_id,
    may_hear,
    message,
    prune_events,
    publish,
)

__all__ = [
    "EVENT_SCOPES",
    "Event",
    "EventType",
    "events_after",
    "first_event_id",
    "last_event_id",
    "may_hear",
    "message",
    "prune_events",
    "publish",
]
