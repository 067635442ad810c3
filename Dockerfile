# glmock in a container: a static binary on an empty base image, run as a non-root user.
#
#   docker build -t glmock . && docker run -p 8080:8080 glmock
#   docker run -p 8080:8080 -v "$PWD/scenarios:/scenarios:ro" glmock    # your scenarios
#
# README.md, "Run it in a container / in CI", has the details and the measurements.

# ---- build ------------------------------------------------------------------------------
FROM rust:1-bookworm AS build
WORKDIR /build

# 1. The dependencies alone, against placeholder sources: this layer is rebuilt only when
#    Cargo.toml or Cargo.lock change, so a change under src/ recompiles glmock and nothing
#    else. The binary is linked statically (glibc's crt-static), so it needs no libraries
#    at run time; the target is named so that build scripts and proc macros stay dynamic.
COPY Cargo.toml Cargo.lock ./
#    Every target Cargo.toml names must exist for the manifest to parse: the test and the
#    example get placeholders too (they stay; only the binary is built).
RUN set -eu; \
    mkdir -p src tests/it examples; \
    echo 'fn main() {}' > src/main.rs; \
    : > src/lib.rs; \
    : > tests/it/main.rs; \
    echo 'fn main() {}' > examples/bare_hyper.rs; \
    target="$(rustc -vV | sed -n 's/^host: //p')"; \
    echo "$target" > /build/target-triple; \
    RUSTFLAGS="-C target-feature=+crt-static" \
        cargo build --release --locked --target "$target"; \
    rm -rf src "target/$target/release/.fingerprint/glmock-"* \
        "target/$target/release/deps/glmock-"* "target/$target/release/deps/libglmock-"*

# 2. glmock itself. The binary embeds fixtures/default.yaml and schemas/*.json.
COPY src src
COPY schemas schemas
COPY fixtures/default.yaml fixtures/default.yaml
RUN set -eu; \
    target="$(cat /build/target-triple)"; \
    RUSTFLAGS="-C target-feature=+crt-static" \
        cargo build --release --locked --target "$target"; \
    install -D -m 0755 "target/$target/release/glmock" /out/usr/local/bin/glmock; \
    /out/usr/local/bin/glmock --version; \
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt; \
    mkdir -p /out/bin; \
    ln -s /usr/local/bin/glmock /out/bin/sh

# ---- run --------------------------------------------------------------------------------
FROM scratch
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/glmock/glmock
LABEL org.opencontainers.image.title="glmock" \
      org.opencontainers.image.description="Offline, stateful, contract-checked stand-in for GitLab's CI Jobs and Pipelines REST API (v4)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
# The binary; CA certificates (for `glmock record` / `verify` against a GitLab over
# HTTPS); and /bin/sh, a link to glmock that runs only `sh -c "glmock healthcheck"`, for
# `--health-cmd` (Docker runs that with /bin/sh -c; there is no real shell here).
COPY --from=build /out/ /
# The distroless `nonroot` user; there is no /etc/passwd, numeric ids work without one.
USER 65532:65532
# Listen on every interface; load every *.yaml / *.yml mounted at /scenarios (in name
# order), else the embedded default scenario. GLMOCK_SCENARIO (files or directories) takes
# precedence over /scenarios; GLMOCK_SCENARIO_YAML (a scenario as text) is merged after the
# files; GLMOCK_BASE_URL sets the host in web_url fields and Link headers.
ENV GLMOCK_LISTEN=0.0.0.0:8080 \
    GLMOCK_SCENARIO_DIR=/scenarios \
    PATH=/usr/local/bin:/bin
EXPOSE 8080
# The binary asks itself: GET /-/glmock/health on GLMOCK_LISTEN (0.0.0.0 -> 127.0.0.1).
HEALTHCHECK --interval=2s --timeout=2s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/glmock", "healthcheck"]
# glmock is PID 1: it handles SIGTERM itself (drains in-flight requests, exits 0).
ENTRYPOINT ["/usr/local/bin/glmock"]
CMD ["serve"]
