# Browser libraries from their npm packages (frontend/package-lock.json), see frontend/README.md.
FROM node:20-slim AS frontend
WORKDIR /app/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/vendor.mjs ./
RUN node vendor.mjs

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DEBUG=false
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
# Exact versions with hashes, compiled from requirements.txt's Runtime section by `make lock`:
# no test or development tools in the image (portal/tests/test_runtime_lock.py).
COPY requirements-runtime.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements-runtime.lock
COPY . .
COPY --from=frontend /app/static/vendor static/vendor
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.db python manage.py collectstatic --noinput
RUN useradd --system --home /app switchyard && chown -R switchyard /app
USER switchyard
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", "--timeout", "30", "--access-logfile", "-"]
