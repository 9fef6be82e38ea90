# syntax=docker/dockerfile:1
# One image for every role: ROLE=web (REST + Socket.IO), ROLE=worker (jobs), ROLE=all.
#   docker build -t banking-hub .
#   docker run -p 3000:3000 banking-hub        # embedded SQLite + demo data, like `npm start`

# Pinned to an exact Node release (the pipeline may pin the digest too: node:…@sha256:…).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: native modules, the server compiled to dist/, the Vue client, then prune ---
FROM ${NODE_IMAGE} AS build
# better-sqlite3 and argon2 compile from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsc writes dist/ (JavaScript + source maps); vite writes client/dist.
RUN npm run build
# Only runtime dependencies go to the image: no tsx, tsc, eslint or vitest.
RUN npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only to the app user: the process cannot rewrite its own code.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/client/dist ./client/dist
# The embedded defaults (sqlite:./data/bank.sqlite, MAIL_DIR=./data/mail) write here;
# on Kubernetes the database is PostgreSQL and MAIL_DIR points into the /tmp emptyDir.
RUN mkdir -p /app/data && chown 1000:1000 /app/data
# The image's "node" user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3000
# No curl in the slim image: Node's own fetch asks /healthz (alive, no dependencies).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is PID 1 (not npm), so SIGTERM reaches server.ts's graceful shutdown.
# The migration step of the manifests runs `node dist/db/migrate-cli.js` from this image.
CMD ["node", "--enable-source-maps", "dist/server.js"]
