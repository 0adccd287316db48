# ParsaLink API server image (docs/operations.md). Two stages: the builder resolves and installs
# the dependencies into a virtualenv; the final image copies only that virtualenv and the source,
# so no compiler, pip cache or build files reach it.

FROM python:3.12-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml ./
COPY parsalink ./parsalink
COPY accounts ./accounts
COPY activity ./activity
COPY apikeys ./apikeys
COPY contacts ./contacts
# Install the project's dependencies (versions bounded in pyproject.toml), then drop the project
# itself: the final image runs the source from /app.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install . \
    && /opt/venv/bin/pip uninstall --yes parsalink

FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin parsalink
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY manage.py gunicorn.conf.py ./
COPY docker ./docker
COPY parsalink ./parsalink
COPY accounts ./accounts
COPY activity ./activity
COPY apikeys ./apikeys
COPY contacts ./contacts
# Static files (admin, API docs) are collected at build time and served by WhiteNoise; the
# throwaway secret (random: weak ones are refused) exists only for this one command and is not
# kept in the image.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    python manage.py collectstatic --no-input -v 0
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
