# mstack server image. Not built by CI (no Docker engine there): keep in step with README.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MSTACK_MODE=production \
    MSTACK_DATA_DIR=/data \
    MSTACK_HOST=0.0.0.0 \
    MSTACK_PORT=8000

RUN useradd --create-home --uid 10001 mstack \
    && mkdir /data && chown mstack:mstack /data

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY client ./client
COPY mcore ./mcore
COPY mart ./mart
COPY msocial ./msocial
COPY codegen ./codegen
COPY api ./api
# `mstack seed` is a server command (it refuses in production mode, as this image runs)
COPY seeder ./seeder
# The same pinned install as the README (server and client, which defines `mstack`), in one
# call, without the development extras.
RUN pip install --no-cache-dir -c constraints.txt ./client .

USER mstack
VOLUME ["/data"]
EXPOSE 8000
# Production mode refuses the development signing keys: pass MSTACK_TOKEN_KEYS and
# MSTACK_LINK_KEYS (see the README) when starting the container.
CMD ["mstack", "serve"]
