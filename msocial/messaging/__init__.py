"""Messaging (seed 004): conversations, messages, read markers and blocks.

- ``models``: the tables; ``schemas``: what the routes take and give;
- ``conversations``: private and group conversations and their members;
- ``messages``: send, edit, delete, history, search and read markers;
- ``blocks``: who hears nothing from whom.

Live delivery is the events log's (``mcore.events.publish``): one row per member who is to
hear, in the transaction of the change, so a reconnecting socket replays what it missed.
"""
