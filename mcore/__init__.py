"""mstack core: settings, database, CIDs, blob storage, ingest, access rules.

Nothing in here imports from the other mstack packages.
"""
