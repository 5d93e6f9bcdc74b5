"""Versionable records: canonical encoding, blocks, version chains, and the shared ops that
generated models delegate to."""
