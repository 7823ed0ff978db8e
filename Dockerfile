# syntax=docker/dockerfile:1
# Vigil: the watcher daemon. Build:  docker build -t vigil --build-arg VIGIL_BUILD_COMMIT=$(git rev-parse HEAD) .
# Run:    docker compose up   (see docker-compose.yml and docs/operations.md)

# ---- dependencies: installed from the lockfile, without dev tools ----------------------------------
FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: sources run through tsx, as from a clone; no build step ------------------------------
FROM node:22-slim AS runtime
ENV NODE_ENV=production
# glibc's allocator with two arenas instead of up to 8 per core: in two 2,000-epoch soaks the daemon's
# memory outside V8 sat 12 MiB lower and grew about half as fast (docs/operations.md "Memory settings").
ENV MALLOC_ARENA_MAX=2
# Vigil's user, with a fixed uid/gid (see USER below).
RUN groupadd --gid 10001 vigil \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vigil
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json package-lock.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root src ./src
COPY --chown=root:root circuits ./circuits
COPY --chown=root:root config ./config
ARG VIGIL_BUILD_COMMIT=""
ENV VIGIL_BUILD_COMMIT=${VIGIL_BUILD_COMMIT}
LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.revision="${VIGIL_BUILD_COMMIT}"
# The code is owned by root and read-only to the process. Vigil runs as its own unprivileged user, created
# above with a fixed uid/gid: 10001, not the 1000 of the base image's node user and of most first host
# logins. Mounted secret files must belong to it (docker-compose.yml, docs/operations.md). Nothing in the
# image is writable by it, so the root file system may be read-only, with a tmpfs on /tmp (tsx's cache).
USER 10001:10001
EXPOSE 9464
# /healthz is 200 only when every component is healthy. Node, not curl: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.VIGIL_HTTP_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/vigil.js"]
CMD ["watch"]
