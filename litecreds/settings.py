"""Django settings for litecreds, read from the environment and an optional ``.env``.

See README.md for every variable. ``litecreds.config`` does the strict parsing.
"""

import os
import warnings
from pathlib import Path

from litecreds.config import load, read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent

# LITECREDS_ENV_FILE chooses another .env (empty: read none); variables already set win.
_env_file = os.environ.get("LITECREDS_ENV_FILE", str(BASE_DIR / ".env"))
if _env_file:
    read_env_file(Path(_env_file))
CONFIG = load(os.environ, BASE_DIR)

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts

# The keyring (litecreds.keyring) reads these three on every use, so changes take effect.
LITECREDS_SALT_KEY = CONFIG.salt_key
LITECREDS_MASTER_KEY = CONFIG.master_key
LITECREDS_OLD_KEYS = CONFIG.old_keys

# Test connection (credentials.probe)
LITECREDS_PROBE_TIMEOUT = CONFIG.probe_timeout
LITECREDS_PROBE_CA_BUNDLE = os.environ.get("LITECREDS_PROBE_CA_BUNDLE") or None
LITECREDS_VERTEX_API_BASE = os.environ.get("LITECREDS_VERTEX_API_BASE") or None
LITECREDS_BEDROCK_ENDPOINT = os.environ.get("LITECREDS_BEDROCK_ENDPOINT") or None
LITECREDS_AZURE_AUTHORITY = os.environ.get("LITECREDS_AZURE_AUTHORITY") or None
LITECREDS_IBM_IAM_URL = os.environ.get("LITECREDS_IBM_IAM_URL") or None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "formtools",
    "axes",
    "litecreds",
    "credentials",
    "models_registry",
]

MIDDLEWARE = [
    "litecreds.middleware.MaxRequestSizeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "litecreds.middleware.HealthCheckMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "litecreds.middleware.StaffRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses logins while locked out
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "litecreds.urls"
WSGI_APPLICATION = "litecreds.wsgi.application"

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

DATABASES = {"default": CONFIG.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve the apps' static files straight from their folders, so the admin is styled
# without DEBUG and without a collectstatic step (see README for production).
WHITENOISE_USE_FINDERS = True
# Before any collectstatic, STATIC_ROOT does not exist; the finders serve everything then.
warnings.filterwarnings("ignore", message="No directory at: ")

LOGIN_URL = "admin:login"

# Login rate limit (django-axes): too many failures lock that user name, and that address.
AXES_FAILURE_LIMIT = CONFIG.login_failure_limit
AXES_COOLOFF_TIME = CONFIG.login_cooloff_minutes / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Sessions end after LITECREDS_SESSION_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = CONFIG.session_idle_minutes * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Upload and request size bounds.
LITECREDS_MAX_REQUEST_BYTES = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

# Security headers; the HTTPS group is switched on by LITECREDS_HTTPS=true.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if CONFIG.https:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = CONFIG.hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = CONFIG.hsts_preload
if CONFIG.proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

DEFAULT_EXCEPTION_REPORTER_FILTER = "litecreds.redaction.RedactingExceptionReporterFilter"
ADMINS = [
    ("litecreds admins", a) for a in os.environ.get("LITECREDS_ADMIN_EMAILS", "").split(",") if a.strip()
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "litecreds.redaction.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact"],
        },
    },
    "loggers": {
        "django": {"handlers": ["stderr", "mail_admins"], "level": "INFO", "propagate": True},
        "litecreds": {"handlers": ["stderr"], "level": "INFO", "propagate": True},
    },
}
