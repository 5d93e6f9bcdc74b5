"""Hand-written routes; generated ones live in ``api/_generated``."""
