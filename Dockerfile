# syntax=docker/dockerfile:1
# vpn-exporter container image.
#   docker build -t vpn-exporter:0.1.0 --build-arg REVISION=$(git rev-parse --short HEAD) .
#   docker run -p 9234:9234 -v $PWD/modules.yaml:/etc/vpn-exporter/modules.yaml:ro vpn-exporter:0.1.0

# --- build: esbuild, the exporter as one file and the browser script; full (dev) dependencies --
FROM node:22-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.client.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# --- runtime deps: production dependencies only, no install scripts ---------
FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime -------------------------------------------------------------------
FROM node:22-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="vpn-exporter" \
      org.opencontainers.image.description="Multi-target Prometheus exporter for VPN gateways: strongSwan (VICI, stroke), OpenVPN and Palo Alto PAN-OS" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="deploy/README.md"
ENV NODE_ENV=production \
    VPN_EXPORTER_REVISION=${REVISION}
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# dist/: the launcher vpn-exporter.mjs, the bundle server.cjs with its V8 code cache (built by this
# same node:22-slim, as the cache requires), client/ui.js; node_modules still serves ssh2, outside the bundle.
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY modules.yaml /etc/vpn-exporter/modules.yaml
# The image's own `node` user (uid 1000); numeric so Kubernetes can check runAsNonRoot.
USER 1000:1000
EXPOSE 9234
# Assumes the default listen port; change it here too if --web.listen-address changes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9234/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/vpn-exporter.mjs"]
CMD ["--config.file=/etc/vpn-exporter/modules.yaml"]
