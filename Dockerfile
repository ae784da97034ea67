# The Oxion container image: `oxion` built in a Rust stage, run as a non-root user on a slim
# Debian that adds only CA certificates (for https notification endpoints and remote @contexts).
#
#   docker build -t oxion .
#   docker run -p 1026:1026 -v oxion-data:/data oxion
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts below: they keep the
# crates download and the target directory between builds, so a code change rebuilds only the
# crates that changed. Both stages are Debian 12, so the binary finds the same glibc it was
# linked against.

# The newest stable Rust 1.x; the workspace needs 1.85 or later (`rust-version`).
ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The target directory is a cache mount, not part of the layer: the binary is copied out of it
# in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p broker --bin oxion \
    && install -D -m 0755 target/release/oxion /out/oxion

FROM ${RUNTIME_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid and gid, so a bind-mounted data directory can be given to it:
# `chown 10001:10001 ./data`.
RUN groupadd --gid 10001 oxion \
    && useradd --uid 10001 --gid oxion --no-create-home --home-dir /data \
        --shell /usr/sbin/nologin oxion \
    && mkdir /data \
    && chown oxion:oxion /data
COPY --from=build /out/oxion /usr/local/bin/oxion

# The embedded store lives in /data; with OXION_STORE=mongodb nothing is written there.
VOLUME /data
# NO_COLOR: plain log lines in `docker logs` (the text format colours them otherwise).
ENV OXION_DATA_DIR=/data \
    OXION_HOST=0.0.0.0 \
    OXION_PORT=1026 \
    NO_COLOR=1
EXPOSE 1026
USER oxion

# The slim image has no curl: bash's /dev/tcp speaks just enough HTTP to ask `/health`, which
# answers 200 only while the store answers (503 when it is unavailable).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${OXION_PORT:-1026} && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]

ENTRYPOINT ["/usr/local/bin/oxion"]
