# syntax=docker/dockerfile:1
# prescale operator image: TypeScript compiled in a build stage, production dependencies only at
# runtime, running as an unprivileged user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Compiling needs no native TensorFlow.
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS production-deps
WORKDIR /app
# @tensorflow/tfjs-node (optional) downloads libtensorflow at install time and builds its binding
# from source when no prebuilt one matches; when it cannot install, the operator runs its models on
# the WebAssembly backend instead (it logs which, and exports prescale_tfjs_backend).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && (node -e "require('@tensorflow/tfjs-node')" && echo 'TensorFlow.js native backend installed' \
     || echo 'TensorFlow.js native backend unavailable; the wasm backend will be used')

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The web view's page and script, which dist/ui/server.js reads from here.
COPY --from=build /app/src/ui/assets ./src/ui/assets
COPY package.json ./
COPY crds ./crds
# The KEDA external scaler's contract, which dist/publish/keda-scaler.js loads at start.
COPY proto ./proto
# 65532 is the conventional "nonroot" uid; deploy/base/deployment.yaml runs the pod as this user.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["run"]
