"""mstack core: everything the domains and the API build on. Nothing in here imports from
the other mstack packages, and inside it imports run one way, down the rooms of
``MCORE_LAYERS`` in ``tests/test_layers.py`` (the exact order; roughly, lowest first):

- foundations: ``settings``, ``clock``, ``errors``, ``ids``, ``cid``, ``db``, ``pagination``
- ``access``: who is calling and what roles allow; ``access.objects``: the same on rows
- ``storage`` (blob stores), ``refs`` (every use of a blob), ``events`` (the event log,
  its hub, wake-up signals)
- ``files``, ``records``, ``auth``: tables and their ops
- ``media``: processing a file (decoders, sandbox, steps, on-the-fly images)
- ``jobs``: the queue, the worker and the handler that runs media's steps for a file
- ``uploads``: the upload op, and ingest of files already on this machine
- ``maintenance`` (gc, verify, backup), ``models`` (every table), ``migrate``, ``migrations``
"""
