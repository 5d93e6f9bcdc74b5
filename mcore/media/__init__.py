"""Media processing: what each kind of file gets (``profiles``), the steps that make its
previews (``steps``), the decoders (``image``, ``document``, ``video``, ``thumbhash``),
the sandbox they run in (``sandbox``, ``_zygote``), on-the-fly images (``imagecache``)
and why processing failed (``errors``).

Nothing here knows about jobs: ``mcore.jobs`` runs these steps for a queued file. Kept
free of imports, so the sandbox's fork server imports only the decoders it needs.
"""
