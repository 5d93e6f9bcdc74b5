"""Files: one row per upload, pointing at a blob by CID, and the files derived from it.

Lower modules (tables, names, type detection, staging, ingest, derivatives) sit below the
access rules (``mcore.access.objects``); ``ops`` and ``zips`` sit above them.
"""
