# chorus in a container: `docker build -t chorus .` then, e.g.,
#   docker run --rm -v /tmp:/tmp -e CHORUS_CONNECT=unix:chorus chorus
# serves the shipped water committee to an i-PI listening on /tmp/ipi_chorus. Every setting of
# `chorus serve` comes from an environment variable (CHORUS_MODEL, CHORUS_CONNECT, CHORUS_CLIENTS,
# ...; `docker run --rm chorus serve --help` lists them) or from flags after the image name.
# deploy/README.md walks through compose and cluster runs.

# Build stage: the same package list (deploy/install-deps.sh) and CMake preset as the README.
FROM debian:bookworm-slim AS build
WORKDIR /src/chorus
COPY deploy/install-deps.sh deploy/install-deps.sh
RUN bash deploy/install-deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
# The release preset is the portable build (no -march=native): the image runs on any x86-64 host.
RUN cmake --preset release \
 && cmake --build --preset release -j "$(nproc)" --target chorus \
 && build/release/chorus version

# Runtime stage: the shared libraries of the same script's runtime set, the binary and the models.
FROM debian:bookworm-slim AS runtime
COPY deploy/install-deps.sh /usr/local/share/chorus/install-deps.sh
RUN bash /usr/local/share/chorus/install-deps.sh runtime && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/chorus/build/release/chorus /usr/local/bin/chorus
COPY models/pretrained /opt/chorus/models
# uid 10001 is also the i-PI image's user (deploy/compose/ipi.Dockerfile): a UNIX socket on a
# shared volume can only be connected to by a user allowed to write to it.
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/chorus chorus \
 && install -d -o chorus -g chorus /run/chorus /data
USER chorus
WORKDIR /data

# The settings of the default `serve` command. CHORUS_CONNECT is where i-PI listens: unix:NAME is
# /tmp/ipi_NAME (share /tmp, or the volume holding it, with i-PI), tcp:HOST:PORT over a network.
ENV CHORUS_MODEL=/opt/chorus/models/water-committee.json \
    CHORUS_SPECIES=O,H,H \
    CHORUS_CONNECT=unix:chorus \
    CHORUS_CLIENTS=1 \
    CHORUS_EXTRAS=full \
    CHORUS_CONTROL=unix:/run/chorus/control.sock
ENTRYPOINT ["chorus"]
CMD ["serve"]
