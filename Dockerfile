# syntax=docker/dockerfile:1
#
# Lifeboat: one image for `lifeboat start`, `lifeboat bot`, `lifeboat worker` and the CLI.
# Node.js 24 runs the TypeScript sources directly (type stripping), so there is no build step.
#
#   docker build -t lifeboat .
#   docker run --rm -it -v "$PWD/lifeboat.yaml:/app/lifeboat.yaml:ro" lifeboat lifeboat console --as alice
FROM node:24-bookworm-slim

# The programs backups, restores and hand restores run: pg_dump/pg_restore/psql, zstd, age, tar,
# redis-cli, and redis-server (a private one loads Redis snapshots to count and restore their
# keys; it never runs as a service here). Debian bookworm's postgresql-client is PostgreSQL 15,
# and pg_dump refuses servers of a newer major version: to back up PostgreSQL 16 or later, add the
# PGDG apt repository (apt.postgresql.org) and install postgresql-client-NN of the newest server
# instead.
# tini runs as PID 1: it forwards SIGTERM to Node (graceful shutdown) and reaps child processes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends \
    age \
    ca-certificates \
    postgresql-client \
    redis-server \
    redis-tools \
    tar \
    tini \
    zstd \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so editing the sources does not reinstall them. Dev dependencies (among
# them the `node` package that puts Node 24 on npm's PATH) are left out: the image has Node 24.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY bin/ ./bin/
COPY src/ ./src/
COPY commands/ ./commands/
COPY runbooks/ ./runbooks/
COPY lifeboat.example.yaml lifeboat.yaml ./

# `lifeboat …` on the PATH, for `docker compose exec bot lifeboat backup list`. The local store
# (./.lifeboat, relative to the config file) must be writable by the unprivileged user; a named
# volume mounted there starts with this ownership.
RUN printf '#!/bin/sh\nexec node /app/bin/lifeboat.js "$@"\n' > /usr/local/bin/lifeboat \
  && chmod 755 /usr/local/bin/lifeboat \
  && mkdir -p /app/.lifeboat/backups \
  && chown -R node:node /app/.lifeboat

USER node

# /healthz, /readyz, /metrics and the Slack and Discord endpoints (LIFEBOAT_HTTP_PORT).
# Inside a container the server must listen on every interface to be reachable at all.
ENV LIFEBOAT_HTTP_HOST=0.0.0.0
EXPOSE 8080

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "bin/lifeboat.js", "start"]
