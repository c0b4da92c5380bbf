# CourseLens application image: web (gunicorn), Celery worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext: compilemessages at build time (psycopg[binary] brings its own libpq).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/courselens courselens

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: exactly the locked versions and hashes.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

COPY . .
RUN pip install --no-deps . \
    && COURSELENS_DEV=1 COURSELENS_VAR_DIR=/tmp/build-var python manage.py compilemessages --ignore=.venv \
    && mkdir -p /app/var /app/staticfiles \
    && chown -R courselens:courselens /app/var /app/staticfiles

USER courselens
EXPOSE 8000
CMD ["gunicorn", "courselens.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
