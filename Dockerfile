# syntax=docker/dockerfile:1
# whatsapp-backend: one image, three roles (ROLE=api | worker | all) and three commands, given by
# scripts/docker-entrypoint.sh: no arguments = the server, `migrate` = apply migrations and exit,
# `simulator` = the Twilio simulator (development only). Anything else runs as given.
#
# Node 24 LTS (Debian 13 "trixie", slim). Node 20, which the test machines still run, reached end
# of life on 2026-04-30 and gets no security fixes; Node 24 is supported until 2028-04-30 and is
# the smallest step up from what the suite runs on (package.json asks for Node >= 20.19). Node 26
# is the newer LTS; move to it once the tests run on it. Both stages use the same image, so the
# native add-ons installed in `build` match the runtime's Node ABI.
# Renew the pin (exact version and variant) with each Node 24 security release.

# --- build: every dependency, compile TypeScript, then drop the dev dependencies -------------
FROM node:24.21.0-trixie-slim AS build
# No install-time telemetry (@scarf/scarf) or update checks in the build.
ENV SCARF_ANALYTICS=false \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and dist/ only, run by the image's `node` user ------------
FROM node:24.21.0-trixie-slim AS runtime
# tini as PID 1: it reaps zombies and passes SIGTERM on, so the app's graceful shutdown runs.
# Debian's package, not pinned to a revision: the base image pins the Debian release, and a
# stable release only ever ships security fixes to it (an old revision vanishes from the mirror).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# V8 collects its old generation before it passes 160 MB instead of growing toward its default
# limit: under the benchmark's load an api process peaked at ~290 MB RSS without it, ~167 MB
# with it, at the same throughput (bench/README.md). Kubernetes sets the same value.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-old-space-size=160
WORKDIR /app
# Owned by root and read-only for `node`: the process cannot rewrite its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --chmod=0755 scripts/docker-entrypoint.sh ./scripts/docker-entrypoint.sh
USER node
# PORT's default; every role (the worker too) serves /api/v1/health/* and /metrics on it.
EXPOSE 5000
# No curl in slim images: Node's fetch. Liveness only (the process answers): readiness depends
# on PostgreSQL and is for the orchestrator's traffic decisions, not for restarts.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5000)+'/api/v1/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "/app/scripts/docker-entrypoint.sh"]
# No arguments: the server. The base image's CMD ["node"] must not leak through.
CMD []
