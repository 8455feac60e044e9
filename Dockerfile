# hplj-bot: `docker build -t hplj-bot .` (README: "Run it with Docker Compose").
# Stage 1 builds a virtualenv from the generated lock file (requirements.txt, `make lock`);
# stage 2 is a slim runtime with that virtualenv only, run by an unprivileged user.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/hplj
WORKDIR /src
COPY requirements.txt ./
# Everything but the last line (`.`, hplj itself): this layer is reused while the lock is unchanged.
RUN grep -v '^\.$' requirements.txt > /tmp/pins.txt && /opt/hplj/bin/pip install -r /tmp/pins.txt
COPY . .
RUN /opt/hplj/bin/pip install --no-deps . && /opt/hplj/bin/pip check

FROM python:3.11-slim
ENV PATH=/opt/hplj/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=3978
RUN useradd --system --uid 10001 --home-dir /home/hplj --create-home hplj
COPY --from=build /opt/hplj /opt/hplj
USER hplj
WORKDIR /home/hplj
EXPOSE 3978
# Only the web process answers HTTP: compose turns this check off for the worker and the migration.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + (os.environ.get('PORT') or '3978') + '/healthz', timeout=4)"]
ENTRYPOINT ["hplj"]
CMD ["serve"]
