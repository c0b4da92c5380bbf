"""CourseLens settings: one module, configured only through environment variables.

With nothing set it runs standalone: SQLite under var/, an on-disk Celery broker under var/celery
(a real worker process, no servers), local-memory cache. DATABASE_URL switches to PostgreSQL and
REDIS_URL to Redis for the broker and the cache. Every variable is documented in .env.example.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("COURSELENS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


DEBUG = env_bool("DEBUG", False)
# A development key is only accepted while DEBUG is on; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "django-insecure-dev-only-key" if DEBUG or os.environ.get("COURSELENS_DEV") else ""
)
if not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DEBUG is off (see .env.example).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "reviews",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "courselens.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "courselens.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "courselens.throttling.KnownDeviceMiddleware",
    "courselens.throttling.ReadThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "courselens.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "courselens.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'courselens.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process and the worker share the file without "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "courselens",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Password-reset e-mails: printed to the console in development, sent through SMTP (EMAIL_HOST…) otherwise.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CourseLens <noreply@localhost>")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Security (production values are the defaults; .env.example documents them) ---
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Pages load only their own scripts and styles (ECharts and htmx are vendored under static/vendor).
# Inline style *attributes* are allowed because ECharts renders its tooltips as HTML with style="…";
# inline <script>/<style> elements, eval and any other origin are not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "courselens.throttling.ThrottledBasicAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["courselens.throttling.ActionRateThrottle"],
    "EXCEPTION_HANDLER": "courselens.drf.exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # JSON only: reviews carry objects (dimensions, context) that form encodings cannot express, and the
    # schema then documents one way to send each body.
    "DEFAULT_PARSER_CLASSES": ["courselens.parsers.StrictJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CourseLens API",
    "DESCRIPTION": "Courses, instructors, learner reviews, failure signals and evidence-based rankings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served per visitor: staff-only operations are left out for everyone else (courselens/schema.py).
    "SERVE_PUBLIC": False,
    "DEFAULT_GENERATOR_CLASS": "courselens.schema.VisibleSchemaGenerator",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "courselens.schema.document_what_every_operation_can_answer",
    ],
    # Swagger UI from the installed sidecar package, never from a CDN (and allowed by the CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"/"source"; explicit names keep the enums apart in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ReviewStatusEnum": "reviews.models.Review.Status",
        "ReviewSourceEnum": "reviews.models.Review.Source",
        "CourseLevelEnum": "reviews.models.Course.Level",
        "ReportReasonEnum": "reviews.models.ReviewReport.Reason",
    },
}

# --- Celery ---
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu's default is ./control, relative to whatever directory the process started in.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The worker holds one unacked message at a time and polls between them: 1 s (the default)
        # would cap the embedded worker at one task a second.
        "polling_interval": 0.1,
    }
# No task result is read: a signal run's chunks count themselves done in the database, progress lives on the
# run row. So results are not stored at all (no backend to fill or to fail).
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Nightly: signals first (the score recompute reads the current run), then evidence (spread over the night
# to respect GitHub's limits), then scores. The outbox drain sends follow-ups the broker did not get.
CELERY_BEAT_SCHEDULE = {
    "signals-extract-nightly": {
        "task": "analytics.tasks.extract_signals_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    "evidence-refresh-nightly": {
        "task": "analytics.tasks.refresh_all_evidence",
        "schedule": crontab(hour=3, minute=10),
    },
    # Companion repositories (代码仓库体检) after evidence, before the scores that count them.
    "repo-audit-nightly": {
        "task": "analytics.tasks.refresh_all_repo_audits",
        "schedule": crontab(hour=3, minute=50),
    },
    "scores-recompute-nightly": {
        "task": "analytics.tasks.recompute_scores",
        "schedule": crontab(hour=4, minute=40),
    },
    "outbox-drain": {"task": "analytics.tasks.drain_outbox", "schedule": 30.0},
}

# --- Reviews ---
REVIEW_TEXT_MAX_CHARS = 5000

# --- Failure signals (analytics/text.py, analytics/signals/; runs in analytics/services/signal_runs.py) ---
# The labelled reviews the complaint classifier learns from (labels: "praise" or a complaint kind).
SIGNAL_TRAINING_REVIEWS = Path(os.environ.get("SIGNAL_TRAINING_REVIEWS", BASE_DIR / "demo" / "reviews.jsonl"))
SIGNAL_TRAINING_LABELS = Path(os.environ.get("SIGNAL_TRAINING_LABELS", BASE_DIR / "demo" / "labels.jsonl"))
# A running extraction whose worker has not written a heartbeat for this long is treated as dead.
SIGNAL_RUN_STALE_SECONDS = int(os.environ.get("SIGNAL_RUN_STALE_SECONDS", "120"))
# A queued extraction that no worker picked up within this long is given up (a new one may start).
SIGNAL_RUN_QUEUE_TIMEOUT_SECONDS = int(os.environ.get("SIGNAL_RUN_QUEUE_TIMEOUT_SECONDS", "1800"))
# Reviews per chunk task of a run (segmentation spread over the free workers): a fraction of a second of
# work each. Each task also costs a few milliseconds of its own: chunks of 2000 made a cold run of 100k
# reviews 0.8 s slower.
SIGNAL_RUN_CHUNK_SIZE = int(os.environ.get("SIGNAL_RUN_CHUNK_SIZE", "5000"))
# A run executed without a worker (`manage.py extract_signals` with no broker) shares its chunks out over this
# many processes of its own (PostgreSQL only; each holds a database connection): the cores, at most 8.
SIGNAL_RUN_LOCAL_PROCESSES = int(
    os.environ.get("SIGNAL_RUN_LOCAL_PROCESSES", str(min(os.cpu_count() or 1, 8)))
)
# The complaint model and word vectors are learned again when the corpus has grown or shrunk by more than
# this share since they were learned (and whenever the segmenter or the labelled reviews change).
SIGNAL_RETRAIN_GROWTH = float(os.environ.get("SIGNAL_RETRAIN_GROWTH", "0.25"))

# --- Evidence and ranking (analytics/github.py, analytics/scoring.py; explained on /rankings/how/) ---
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")  # optional: without it GitHub allows 60 requests an hour
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
GITHUB_TIMEOUT_SECONDS = env_float("GITHUB_TIMEOUT_SECONDS", 10.0)
GITHUB_MAX_RETRIES = int(os.environ.get("GITHUB_MAX_RETRIES", "3"))
# A Retry-After longer than this (or an exhausted hourly quota) ends the refresh as "rate limited until …".
GITHUB_MAX_WAIT_SECONDS = env_float("GITHUB_MAX_WAIT_SECONDS", 60.0)
GITHUB_STAR_CAP_PER_REPO = int(os.environ.get("GITHUB_STAR_CAP_PER_REPO", "2000"))
GITHUB_ALLOWLIST = env_list(
    "GITHUB_ALLOWLIST",
    "etcd-io/etcd,prometheus/prometheus,kubernetes/kubernetes,pingcap/tidb,grpc/grpc-go,"
    "golang/tools,containerd/containerd,moby/moby,hashicorp/consul,cockroachdb/cockroach,"
    "istio/istio,traefik/traefik,gin-gonic/gin,go-kratos/kratos,zeromicro/go-zero,apache/dubbo-go",
)
# Total = Σ weight × component (each component 0–1). Stored with every score; env form "learner=0.5,…".
SCORE_WEIGHTS = {
    key: float(value)
    for key, value in (
        item.split("=", 1) for item in env_list("SCORE_WEIGHTS", "learner=0.5,evidence=0.3,signal_burden=0.2")
    )
}
# Smoothing: m pseudo-reviews at the platform mean rating / at the platform's failure-signal share.
SCORE_PRIOR_WEIGHT = env_float("SCORE_PRIOR_WEIGHT", 10.0)
SCORE_BURDEN_PRIOR_WEIGHT = env_float("SCORE_BURDEN_PRIOR_WEIGHT", 10.0)
# Fewer published reviews than this and no GitHub evidence: shown as 数据不足 and not ranked.
SCORE_MIN_REVIEWS = int(os.environ.get("SCORE_MIN_REVIEWS", "5"))
# A review this many days old counts half as much as a new one; 0 turns recency weighting off.
SCORE_RECENCY_HALF_LIFE_DAYS = env_float("SCORE_RECENCY_HALF_LIFE_DAYS", 730.0)
# golang/go issues commented on and PRs reviewed count up to this many each (search API totals).
GITHUB_PARTICIPATION_CAP = int(os.environ.get("GITHUB_PARTICIPATION_CAP", "200"))
# Own Go projects with at least this many stars are checked for recent pushes and releases ("maintained").
GITHUB_MAINTAINED_MIN_STARS = int(os.environ.get("GITHUB_MAINTAINED_MIN_STARS", "100"))
# A course's companion-repository check (代码仓库体检) enters its score with this weight, beside the learner
# and signal-burden weights of SCORE_WEIGHTS; a course whose repository was never checked gets a neutral 0.5.
SCORE_REPOSITORY_WEIGHT = env_float("SCORE_REPOSITORY_WEIGHT", 0.2)
# Archive limits for the repository check: a tarball over any of them is refused before it is unpacked.
REPO_AUDIT_MAX_DOWNLOAD_MB = int(os.environ.get("REPO_AUDIT_MAX_DOWNLOAD_MB", "50"))
REPO_AUDIT_MAX_UNPACKED_MB = int(os.environ.get("REPO_AUDIT_MAX_UNPACKED_MB", "200"))
REPO_AUDIT_MAX_FILE_MB = int(os.environ.get("REPO_AUDIT_MAX_FILE_MB", "10"))
REPO_AUDIT_MAX_FILES = int(os.environ.get("REPO_AUDIT_MAX_FILES", "20000"))

# --- Trust: throttling, log-in lock-out, resilience to Redis/PostgreSQL faults, outbox
# (courselens/throttling.py, courselens/resilience.py, analytics/outbox.py) ---
# Reverse proxies in front of the site that append to X-Forwarded-For (0: the header is ignored, REMOTE_ADDR
# is the client). Too high a number lets clients choose their address; too low a one puts everyone behind the
# proxy.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# "<scope>.<key kind>": "<count>/<period>"; key kinds: user (account), ip (client), username and ip_username
# (log-in failures).
# THROTTLE_RATES="review_submit.ip=100/hour,login.username=10/15min" overrides single entries.
THROTTLE_RATES = {
    "review_submit.user": "10/hour",
    "review_submit.ip": "30/hour",
    "review_edit.user": "30/hour",
    "review_edit.ip": "60/hour",
    "review_vote.user": "60/10min",
    "review_vote.ip": "200/10min",
    "review_report.user": "10/hour",
    "review_report.ip": "30/hour",
    "signup.ip": "10/hour",
    "password_reset.ip": "5/hour",
    "login.ip": "20/15min",
    "login.ip_username": "5/15min",
    # From anywhere; browsers that logged in to the account before are exempt (courselens/throttling.py).
    "login.username": "30/15min",
    # Reads (pages and API) per client: a person browsing stays far below; a scraper copying every review
    # does not.
    "read.ip": "600/5min",
}
THROTTLE_RATES.update(dict(item.split("=", 1) for item in env_list("THROTTLE_RATES")))
THROTTLE_CACHE_PREFIX = "throttle"
# API actions per viewset basename → throttle scope (courselens.throttling.ActionRateThrottle).
THROTTLE_API_ACTIONS = {
    "api-review": {
        "create": "review_submit",
        "partial_update": "review_edit",
        "destroy": "review_edit",
        "helpful": "review_vote",
        "report": "review_report",
    },
}
# The lock-out backend refuses log-ins while a client or username is over login.* (it authenticates nobody).
AUTHENTICATION_BACKENDS = [
    "courselens.throttling.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
if REDIS_URL:
    # An unreachable Redis reads as a cache miss instead of an error page; short timeouts so nothing hangs.
    CACHES["default"]["BACKEND"] = "courselens.resilience.ResilientRedisCache"
    CACHES["default"]["OPTIONS"] = {"socket_connect_timeout": 1, "socket_timeout": 2}
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # An unacknowledged task (its worker died) is given to another worker after this many seconds; it must
        # exceed the longest task (signal runs: 30 min) or a task still running would be delivered twice.
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
# Publishing fails within seconds when the broker is down (the outbox keeps the work), instead of hanging.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Outbox: unsent messages younger than OUTBOX_SETTLE_SECONDS are being sent after their commit; a message sent
# but not processed after OUTBOX_RESEND_AFTER_SECONDS was lost by the broker (e.g. a Redis restart) and is
# resent.
OUTBOX_SETTLE_SECONDS = 10
OUTBOX_RESEND_AFTER_SECONDS = 900
OUTBOX_RETENTION_DAYS = 7

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
