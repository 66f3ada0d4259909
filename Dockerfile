# syntax=docker/dockerfile:1
#
# LogWisp container image: `docker build -t logwisp .`, then see docker-compose.yml.
# The binary is `deno task compile`: its read permission is baked in (/var/log and
# /etc/logwisp), so mount logs under /var/log and the configuration at
# /etc/logwisp/logwisp.toml. NATS (README "Scaling out with NATS") needs nothing more: put
# credential and CA files under /etc/logwisp and set host_name in [streams.publish] (the
# binary has no --allow-sys=hostname, and a container's host name is its id anyway);
# deploy/nats/docker-compose.yml runs a fleet.

# ---- build: one self-contained executable ----------------------------------------------
FROM denoland/deno:2.9.6 AS build
WORKDIR /app

# Dependencies first, checked against deno.lock (--frozen fails the build when the lock is
# out of date instead of rewriting it): this layer is reused until deno.json or deno.lock
# change.
COPY deno.json deno.lock ./
RUN deno install --frozen

# The whole module graph of the entry point against the lock, then the compile task, which
# downloads Deno's runtime (denort) for this platform and bakes the permissions in, and the
# V8 flags that finish a backtracking regular expression in linear time
# (--enable-experimental-regexp-engine-on-excessive-backtracks: README "Filters").
COPY src/ ./src/
RUN deno install --frozen --entrypoint src/main.ts \
 && deno task compile \
 && ./dist/logwisp --version

# ---- runtime: glibc (denort needs it), no shell tools beyond Debian's base -------------
FROM debian:bookworm-slim

RUN useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin logwisp

COPY --from=build --chmod=0755 /app/dist/logwisp /usr/local/bin/logwisp
# The default configuration, so the image starts as built; mount your own over it.
COPY --chmod=0644 config.example.toml /etc/logwisp/logwisp.toml

# `docker exec <container> logwisp --check` finds the file without --config; relative
# target paths resolve under /var/log, inside the baked read permission.
ENV LOGWISP_CONFIG_DIR=/etc/logwisp
WORKDIR /var/log
USER logwisp

EXPOSE 8080 8443 9090

# No curl in the image: bash's /dev/tcp sends a raw HTTP/1.0 request to /readyz, which
# every HTTP server and the router serve, and wants " 200 " in the status line: 503 while
# the files are first scanned and during shutdown. Point it elsewhere with
# `--env HEALTHCHECK_PORT=... --env HEALTHCHECK_PATH=...` (the router's or the [metrics]
# listener's port, say). It speaks plain HTTP: with TLS on that server, point it at a
# plain listener or turn it off (--no-healthcheck).
ENV HEALTHCHECK_PORT=8080 HEALTHCHECK_PATH=/readyz
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/${HEALTHCHECK_PORT}\" && printf 'GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' \"${HEALTHCHECK_PATH}\" >&3 && IFS= read -r -t 4 line <&3 && [[ $line == *' 200 '* ]]"]

# SIGTERM (docker stop): LogWisp tells its clients, closes its listeners and exits 0 within
# 5 s. SIGHUP is logged and ignored: configuration reload is not supported, restart instead.
STOPSIGNAL SIGTERM
CMD ["logwisp", "--config", "/etc/logwisp/logwisp.toml"]
