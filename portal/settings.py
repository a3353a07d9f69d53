"""Switchyard settings: one module, read from the environment, safe development defaults.

Every variable is listed in the README under "Configuration". Secrets can also be given as
`<NAME>_FILE` pointing at a file that holds the value (Docker / Kubernetes secrets).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
SANDBOX_DIR = Path(os.environ.get("SANDBOX_DIR") or BASE_DIR / ".sandbox")


def env(name: str, default: str | None = None) -> str | None:
    """Read NAME from the environment, or from the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-switchyard-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    "rules.apps.AutodiscoverRulesConfig",
    "django_htmx",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "portal",
    "catalog",
    "deployments",
    "approvals",
    "apidocs",
    "bench",
    "demo",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "portal.middleware.PortalErrorMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The development database is shared by web, worker and beat: wait for locks instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The graph walk's covering index (INCLUDE columns) is PostgreSQL's; SQLite keeps the plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
# Django 6 behaviour now: a URL typed without a scheme means https.
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: local accounts for development and break-glass, OpenID Connect for everyone else.
LOCAL_LOGIN_ENABLED = env_bool("LOCAL_LOGIN_ENABLED", True)
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "portal.adapters.AccountAdapter"
ACCOUNT_SESSION_REMEMBER = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", "Company SSO")
SOCIALACCOUNT_PROVIDERS = {}
if env("OIDC_CLIENT_ID"):
    SOCIALACCOUNT_PROVIDERS["openid_connect"] = {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": env("OIDC_PROVIDER_ID", "sso"),
                "name": OIDC_PROVIDER_NAME,
                "client_id": env("OIDC_CLIENT_ID"),
                "secret": env("OIDC_CLIENT_SECRET", ""),
                "settings": {
                    "server_url": env("OIDC_SERVER_URL"),
                    "token_auth_method": env("OIDC_TOKEN_AUTH_METHOD", "client_secret_basic"),
                    "oauth_pkce_enabled": True,
                    "scope": env_list("OIDC_SCOPES", "openid,profile,email,groups"),
                },
            }
        ],
    }

# Identity (docs/access.md): without OIDC_CLIENT_ID, development and tests sign in through the
# sandbox provider (resolved per request by portal.adapters.SocialAccountAdapter).
SOCIALACCOUNT_ADAPTER = "portal.adapters.SocialAccountAdapter"
ACCOUNT_FORMS = {"login": "portal.forms.LoginForm"}
OIDC_SANDBOX_ENABLED = env_bool("OIDC_SANDBOX_ENABLED", DEBUG)
# The one client the sandbox provider registers (sandbox/oidc reads it from here; its server URL
# comes from .sandbox/endpoints.json). Development-only secret; production reads OIDC_CLIENT_SECRET.
OIDC_SANDBOX_CLIENT = {
    "provider_id": "sso",
    "client_id": "switchyard",
    "secret": "switchyard-sandbox-oidc-secret",
}
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", "groups")
# The identity provider vouches for email addresses (email_verified): an SSO login with the
# address of an existing local account signs into, and connects, that account.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True

# Cache (blast radius results, sessions): Redis when there is one, else per-process memory.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env("REDIS_URL"),
    }
    if env("REDIS_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Sessions are read from the cache first: a polling page costs no session query.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Celery. Without REDIS_URL the broker is kombu's filesystem transport: no server needed.
REDIS_URL = env("REDIS_URL")
CELERY_DATA_DIR = Path(env("CELERY_DATA_DIR", str(BASE_DIR / ".celery")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "broker"),
        "data_folder_out": str(CELERY_DATA_DIR / "broker"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "store_processed": False,
        # The exchange tables (celery.exchange, celery.pidbox.exchange): kombu's default is
        # ./control in the working directory.
        "control_folder": str(CELERY_DATA_DIR / "control"),
    }
    # Web, worker and beat all need the embedded broker's folders before the first message.
    (CELERY_DATA_DIR / "broker").mkdir(parents=True, exist_ok=True)
    (CELERY_DATA_DIR / "control").mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 30.0},
    "releases-tick": {"task": "deployments.releases_tick", "schedule": 2.0},
    "trains-tick": {"task": "deployments.trains_tick", "schedule": 2.0},
    "approvals-expire": {"task": "approvals.approvals_expire", "schedule": 15.0},
    "catalog-blast-warm": {"task": "catalog.blast_radius_warm", "schedule": 30.0},
    "controls-recover": {"task": "deployments.control_actions_recover", "schedule": 60.0},
    "tuning-expire": {"task": "deployments.tuning_expire", "schedule": 15.0},
}

# External systems: an explicit URL per system, else the sandbox's .sandbox/endpoints.json.
INTEGRATION_URLS = {
    system: url
    for system in ("kubernetes", "github", "argocd", "prometheus", "oidc")
    if (url := env(f"{system.upper()}_URL"))
}
INTEGRATION_TIMEOUT_SECONDS = float(env("INTEGRATION_TIMEOUT_SECONDS", "10"))
# A dispatch whose answer was lost is never sent again: its run is looked for by run-name for
# this long, then the release fails with what to check.
GITHUB_DISPATCH_APPEAR_SECONDS = float(env("GITHUB_DISPATCH_APPEAR_SECONDS", "120"))
# Threads one beat tick uses to poll active releases (PostgreSQL only; SQLite polls one by one).
RELEASE_POLL_CONCURRENCY = int(env("RELEASE_POLL_CONCURRENCY", "8"))
# A release's state read longer ago than this is stale: its page says so and turns Promote off
# (the worker, beat or Argo CD is not answering). A decision re-reads Argo CD when its state is
# older than RELEASE_FRESH_SECONDS (deployments/freshness.py).
RELEASE_STALE_SECONDS = float(env("RELEASE_STALE_SECONDS", "20"))
RELEASE_FRESH_SECONDS = float(env("RELEASE_FRESH_SECONDS", "2"))
# Kubernetes: a kubeconfig with one context per environment (default: the sandbox's), or the pod's
# service account. Not $KUBECONFIG, so that a developer's own clusters are never used by accident.
KUBECONFIG = env("KUBERNETES_KUBECONFIG") or str(SANDBOX_DIR / "kubeconfig")
KUBERNETES_IN_CLUSTER = env_bool("KUBERNETES_IN_CLUSTER", False)

# Release integrations' tokens; in development the sandbox accepts "switchyard-sandbox".
GITHUB_TOKEN = env("GITHUB_TOKEN", "switchyard-sandbox" if DEBUG else "")
ARGOCD_TOKEN = env("ARGOCD_TOKEN", "switchyard-sandbox" if DEBUG else "")
PROMETHEUS_TOKEN = env("PROMETHEUS_TOKEN", "")

# Production hardening, on whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Contracts: the buf CLI (PyPI buf-bin, installed beside this Python unless BUF_BINARY is set).
BUF_BINARY = env("BUF_BINARY", "")
BUF_TIMEOUT_SECONDS = float(env("BUF_TIMEOUT_SECONDS", "30"))
# Breaking rules (buf ids or categories, comma separated) for a set without a buf.yaml breaking
# section: production-facing APIs (component lifecycle "production") and the others.
BUF_BREAKING_USE_PRODUCTION = env("BUF_BREAKING_USE_PRODUCTION", "WIRE_JSON")
BUF_BREAKING_USE = env("BUF_BREAKING_USE", "FILE")
