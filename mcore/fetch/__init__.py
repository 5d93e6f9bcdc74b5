"""Ingest from a URL: ``POST /api/v1/files/fetch`` queues a job that downloads a remote
file into the same pipeline as an upload (limits, type, dedupe, record, processing job,
events).

- ``addresses``: which addresses a fetch may connect to (no loopback, private, link-local,
  multicast, reserved or cloud-metadata ranges, in any IPv4 or IPv6 form), and the
  ``fetch.allowed_hosts`` allow-list for internal sources.
- ``download``: the URL checks, one resolution per hop pinned by the transport (so DNS
  rebinding cannot switch the address), redirects re-checked one by one, limits on size,
  time and redirects; no credentials or cookies ever sent.
- ``ops``: the op the route calls (checks what can be told up front, queues the job) and
  the job's handler (downloads, then ends in the upload op).
"""
