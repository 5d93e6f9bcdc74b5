"""Background jobs: job rows, the queue and its leases, the worker, the job ops, and the
handler that processes a file (``process``) with the steps of ``mcore.media``."""
