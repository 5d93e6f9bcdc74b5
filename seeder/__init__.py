"""Deterministic demo data for mstack, made through the SDK over HTTP like any client
(``mstack seed``): accounts of every role, media made on the spot, and records."""
