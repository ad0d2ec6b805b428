# i-PI for the compose examples: Debian 12's Python and i-PI from its Python package, pinned to the
# version the inputs in deploy/ipi were checked with. Entry point `i-pi`; i-pi-remdsort and the
# other i-PI tools are on PATH too.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-numpy \
 && rm -rf /var/lib/apt/lists/*
# numpy from Debian (system site packages), i-PI itself from its package.
RUN python3 -m venv --system-site-packages /opt/ipi \
 && /opt/ipi/bin/pip install --no-cache-dir ipi==3.3.0 \
 && /opt/ipi/bin/python -c "import ipi; assert ipi.__version__ == '3.3.0', ipi.__version__"
ENV PATH=/opt/ipi/bin:$PATH
# The same uid as chorus's image: chorus must be allowed to connect to i-PI's UNIX socket.
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/ipi ipi \
 && install -d -o ipi -g ipi /run/ipi
USER ipi
WORKDIR /run/ipi
ENTRYPOINT ["i-pi"]
