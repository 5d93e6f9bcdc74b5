"""Code generation: specs in; tables, schemas, ops, routes, the client's typed classes and
command groups out; and the synchronous client written from the asyncio one
(``python -m codegen``)."""
