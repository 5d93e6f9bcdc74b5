"""The art domain: artists, image files, still images and image releases.

Declared once in ``specs.py``; ``python -m codegen`` writes ``_generated/``. Importing the
package registers the hand-written hooks in ``hooks.py``.
"""

from mart import hooks as hooks
