# Parley API image. `docker compose up` builds it; the container migrates the database, then starts the server.
FROM node:20-slim

# Prisma's CLI probes OpenSSL while generating; the slim image does not ship it.
RUN apt-get update \
  && apt-get install -y --no-install-recommends openssl ca-certificates \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production

# Runtime dependencies only (tsx runs the TypeScript sources). Dependencies first, so source edits do not invalidate the npm layer. Install scripts are skipped here because the
# postinstall hook (prisma generate) needs the sources; `npm run generate` runs it explicitly below.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

COPY . .
RUN npm run generate \
  && mkdir -p /app/data \
  && chown node:node /app/data

USER node
EXPOSE 4000

# Migrations run before every start: `db:migrate` applies pending Prisma migrations and is a no-op otherwise.
# `exec` hands PID 1 to npm so SIGTERM reaches the server's graceful shutdown.
CMD ["sh", "-c", "npm run db:migrate && exec npm start"]
