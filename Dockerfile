# Gyre server image. Two stages: the first installs every dependency and compiles src/ to dist/, then drops the
# dev dependencies; the second holds only package.json, the production node_modules, dist/ and bin/, and runs as
# the unprivileged `node` user with `node bin/gyre.js` as PID 1 (no npm or shell in between, so SIGTERM reaches
# Gyre: it closes every client with 3001 and exits within shutdown.timeout).
#
#   docker build -t gyre .
#   docker run --init -p 8000:8000 -v "$PWD/config.json:/etc/gyre/config.json:ro" gyre -c /etc/gyre/config.json
#
# Configure with a mounted file (-c), CENTRIFUGO_* / GYRE_* environment variables or flags after the image name.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY src ./src
COPY loadtest/src ./loadtest/src
COPY scripts/build-admin-ui.mjs ./scripts/
# The admin web UI (dist/admin-ui) is bundled with esbuild, a dev dependency, so before the prune.
RUN npx tsc -p tsconfig.build.json && node scripts/build-admin-ui.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    GYRE_HEALTH_ENABLED=true
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root bin ./bin
USER node
EXPOSE 8000
# /health is on the main port unless http_server.internal_port is set (then change the URL or drop this check).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/gyre.js"]
