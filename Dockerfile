# syntax=docker/dockerfile:1
# One image for every role: ROLE=web (REST + Socket.IO), ROLE=worker (jobs), ROLE=all.
#   docker build -t banking-hub .
#   docker run -p 3000:3000 banking-hub        # embedded SQLite + demo data, like `npm start`

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: native modules, the Vue client, then drop the dev dependencies -------------
FROM ${NODE_IMAGE} AS build
# better-sqlite3 and argon2 compile from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:client
# The server runs TypeScript through tsx at run time: tsx is in "dependencies", so the
# prune keeps it (with knex, pg, better-sqlite3, argon2 ...) and drops eslint, vitest, tsc.
RUN npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only to the app user: the process cannot rewrite its own code.
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/server.ts /app/config.ts /app/log.ts /app/session-bus.ts ./
COPY --from=build /app/shared ./shared
COPY --from=build /app/bank ./bank
COPY --from=build /app/db ./db
COPY --from=build /app/rest ./rest
COPY --from=build /app/hub ./hub
COPY --from=build /app/jobs ./jobs
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
# node itself is PID 1 (not npx/npm), so SIGTERM reaches server.ts's graceful shutdown.
CMD ["node", "--import", "tsx", "server.ts"]
