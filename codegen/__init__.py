"""Code generation: specs in, tables, schemas, ops and routes out (``python -m codegen``)."""
