# One image per function: docker build --build-arg FUNCTION=task-due -t todo/task-due .
# FUNCTION is a binary of the workspace: api, mcp, task-created, task-changed,
# task-completed, task-due, list-members, cron-tick (or local, the all-in-one host).
# The result is distroless (no shell, no package manager), runs as non-root, and
# holds one static-ish binary: TLS is rustls, so only libc and libgcc are needed.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
ARG FUNCTION
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    test -n "${FUNCTION}" || { echo "set --build-arg FUNCTION=<binary>" >&2; exit 1; } \
 && cargo build --release --locked --bin "${FUNCTION}" \
 && cp "target/release/${FUNCTION}" /function

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /function /function
USER 65532:65532
# A container is reached over its network, not its loopback. Event functions
# then refuse to start without APP_API_TOKEN (or ALLOW_OPEN_EVENT_ROUTES=true).
ENV HOST=0.0.0.0
EXPOSE 8080
# checkov:skip=CKV_DOCKER_2:Kubernetes probes /healthz and /readyz; the image has no shell or client to run a HEALTHCHECK with.
ENTRYPOINT ["/function"]
