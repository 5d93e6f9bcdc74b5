"""The HTTP API: Litestar app factory, routes, and the server's command line."""
