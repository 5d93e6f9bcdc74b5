"""The social domain: profiles, groups of profiles, posts with widgets, pages, forums
with branches and threads, follows, reactions and feeds, and messaging (conversations
between accounts, with live delivery on the events socket).

The models are declared once in ``specs.py``; ``python -m codegen`` writes
``_generated/``. Importing the package registers the hand-written hooks in ``hooks.py``.
"""

from msocial import hooks as hooks
