# Front-end assets come from the npm registry (lock file), served by the app via whitenoise.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=assets /build/node_modules ./node_modules
# collectstatic and compilemessages need settings but no database or secrets.
RUN DEBUG=true python manage.py compilemessages --ignore 'node_modules/*' \
 && DEBUG=false SECRET_KEY=build-only-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput
RUN useradd --create-home --uid 1000 khuyenhoc && mkdir -p /data/media && chown khuyenhoc /data/media
USER khuyenhoc
EXPOSE 8000
CMD ["gunicorn", "khuyenhoc.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
