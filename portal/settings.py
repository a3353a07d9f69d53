"""Switchyard settings: one module, read from the environment, safe development defaults.

Every variable is listed in the README under "Configuration". Secrets can also be given as
`<NAME>_FILE` pointing at a file that holds the value (Docker / Kubernetes secrets).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from portal.environment import env

BASE_DIR = Path(__file__).resolve().parent.parent
SANDBOX_DIR = Path(os.environ.get("SANDBOX_DIR") or BASE_DIR / ".sandbox")


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# The Kubernetes sandbox seeds its clusters from the catalog (off: Argo CD applies what it has).
SANDBOX_KUBERNETES_SEED = env_bool("SANDBOX_KUBERNETES_SEED", True)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-switchyard-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# `make run PORT=...` (honcho) gives every process HOST and WEB_PORT: the URL the sandbox's
# workflow and other callers use to reach Switchyard follows the port the web process runs on.
_WEB_HOST = env("HOST", "127.0.0.1")
SITE_URL = env("SITE_URL") or (
    f"http://{'127.0.0.1' if _WEB_HOST in ('0.0.0.0', '::') else _WEB_HOST}"  # noqa: S104
    f":{env('WEB_PORT', '8000')}"
)

INSTALLED_APPS = [
    "portal.admin_site.PortalAdminConfig",
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
    "csp",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "axes",
    "portal",
    "catalog",
    "deployments",
    "approvals",
    "apidocs",
    "logs",
    "oncall",
    "notifications",
    "bench",
    "demo",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
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
    "axes.middleware.AxesMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "portal.middleware.OddInputMiddleware",
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
                "csp.context_processors.nonce",
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
    # WAL: readers (pages, polls) never wait for a writer (a task), only writers queue.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }  # fmt: skip
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file, not the shared in-memory database: there, threads (live server, a
    # background beat) lock whole tables and fail instead of waiting. Each checkout has its own.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The graph walk's covering index (INCLUDE columns) is PostgreSQL's; SQLite keeps the plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
# Django 6 behaviour now: a URL typed without a scheme means https.
FORMS_URLFIELD_ASSUME_HTTPS = True

AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out (login, address) pair never reaches a password check.
    "axes.backends.AxesStandaloneBackend",
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
# allauth's own limit on failed logins counts per login name too, which lets anyone lock a user
# out; django-axes counts per (name, address) instead (portal/login_guard.py). Per address only.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip"}
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "portal.login_guard.login_name"
AXES_CLIENT_IP_CALLABLE = "portal.login_guard.login_client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = False  # unlock with `manage.py axes_reset_username NAME` (docs/security.md)
AXES_LOCKOUT_TEMPLATE = "account/locked_out.html"
AXES_VERBOSE = False
# Sessions: 12 hours by default (a working day), never the 14-day Django default.
SESSION_COOKIE_AGE = int(env("SESSION_COOKIE_AGE", str(12 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
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
    "analysis-tick": {"task": "deployments.analysis_tick", "schedule": 2.0},
    "trains-tick": {"task": "deployments.trains_tick", "schedule": 2.0},
    "cdevents-sweep": {"task": "deployments.cdevents_sweep", "schedule": 5.0},
    "oncall-incidents": {"task": "oncall.incidents_sync", "schedule": 60.0},
    "approvals-expire": {"task": "approvals.approvals_expire", "schedule": 15.0},
    "audit-checkpoint": {"task": "portal.tasks.audit_checkpoint", "schedule": 300.0},
    "catalog-blast-warm": {"task": "catalog.blast_radius_warm", "schedule": 30.0},
    "catalog-sources": {"task": "catalog.sources_queue_due", "schedule": 30.0},
    "catalog-relations": {"task": "catalog.relations_resolve", "schedule": 60.0},
    "controls-recover": {"task": "deployments.control_actions_recover", "schedule": 60.0},
    "tuning-expire": {"task": "deployments.tuning_expire", "schedule": 15.0},
    "notifications-recover": {"task": "notifications.recover", "schedule": 60.0},
    "notifications-remind": {"task": "notifications.remind", "schedule": 60.0},
    "oncall-change-events": {"task": "oncall.change_events_recover", "schedule": 60.0},
}

# External systems: an explicit URL per system, else the sandbox's .sandbox/endpoints.json.
INTEGRATION_URLS = {
    system: url
    for system in (
        "kubernetes",
        "github",
        "argocd",
        "prometheus",
        "oidc",
        "loki",
        "pagerduty",
        "cdevents",
        "slack",
    )
    if (url := env(f"{system.upper()}_URL"))
}
# Argon2id first (portal/hashers.py says why); older hashes are upgraded when people sign in.
PASSWORD_HASHERS = [
    "portal.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# The sandbox's demo API servers (gRPC and HTTP) listen on free loopback ports like every sandbox
# server, and the sandbox points the demo APIs' staging addresses there when it starts
# (apidocs/demo.py). Set `host:port` here only to pin them.
SANDBOX_DEMO_GRPC_ADDRESS = env("SANDBOX_DEMO_GRPC_ADDRESS", "")
SANDBOX_DEMO_HTTP_ADDRESS = env("SANDBOX_DEMO_HTTP_ADDRESS", "")
INTEGRATION_TIMEOUT_SECONDS = float(env("INTEGRATION_TIMEOUT_SECONDS", "10"))
# A dispatch whose answer was lost is never sent again: its run is looked for by run-name for
# this long, then the release fails with what to check.
GITHUB_DISPATCH_APPEAR_SECONDS = float(env("GITHUB_DISPATCH_APPEAR_SECONDS", "120"))
# Threads one beat tick uses to poll active releases (PostgreSQL only; SQLite polls one by one).
RELEASE_POLL_CONCURRENCY = int(env("RELEASE_POLL_CONCURRENCY", "8"))
# Polling a release that keeps failing (Argo CD or GitHub unreachable, the application gone)
# for longer than this fails the release with the reason and frees its target.
RELEASE_POLL_FAIL_AFTER_SECONDS = int(env("RELEASE_POLL_FAIL_AFTER_SECONDS", "900"))
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

# The audit chain's HMAC key (docs/security.md). Without one it is derived from SECRET_KEY, and
# `manage.py check --deploy` warns: give auditors the audit key, never SECRET_KEY.
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY") or ""
AUDIT_HMAC_KEY_DERIVED = not AUDIT_HMAC_KEY
if AUDIT_HMAC_KEY_DERIVED:
    import hashlib
    import hmac

    AUDIT_HMAC_KEY = hmac.new(SECRET_KEY.encode(), b"switchyard-audit", hashlib.sha256).hexdigest()
# Addresses (or networks) of the reverse proxies in front of the web process. Only a request
# arriving from one of them has its X-Forwarded-For believed, for audit rows and login limits.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# Try-it may call an API address written literally as loopback (the development sandbox) only
# when this is on; production environments list private ranges in their try-it policy instead.
TRYIT_ALLOW_LOOPBACK = env_bool("TRYIT_ALLOW_LOOPBACK", DEBUG)
# CDEvents sinks may be reached only at public addresses, plus these ranges (CIDRs): checked
# when a sink is saved and again at every send (integrations.egress). Development and tests
# allow loopback, where the sandbox's sink listens; production lists its collectors' ranges.
CDEVENTS_ALLOWED_NETWORKS = env_list(
    "CDEVENTS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128" if DEBUG else ""
)
# Logs (Grafana Loki): a panel waits at most LOKI_TIMEOUT_SECONDS and shows at most LOGS_MAX_LINES
# lines of at most LOGS_MAX_LINE_CHARS characters, from the last LOGS_MAX_MINUTES; an answer
# larger than LOGS_MAX_ANSWER_BYTES is refused. Secrets are redacted by the patterns of
# logs/redaction.py plus LOGS_REDACT_PATTERNS (regular expressions, one per line).
LOKI_TOKEN = env("LOKI_TOKEN", "")
LOKI_ORG_ID = env("LOKI_ORG_ID", "")
LOKI_TIMEOUT_SECONDS = float(env("LOKI_TIMEOUT_SECONDS", "3"))
LOGS_MAX_LINES = int(env("LOGS_MAX_LINES", "20"))
LOGS_MAX_LINE_CHARS = int(env("LOGS_MAX_LINE_CHARS", "600"))
LOGS_MAX_MINUTES = int(env("LOGS_MAX_MINUTES", "60"))
LOGS_MAX_ANSWER_BYTES = int(env("LOGS_MAX_ANSWER_BYTES", "2000000"))
LOGS_REDACT_PATTERNS = [p for p in env("LOGS_REDACT_PATTERNS", "").splitlines() if p.strip()]
# Who reads production logs: "owners" (the owning team and SREs) or "everyone" signed in. An
# environment's own log_access setting in the catalog wins.
LOGS_PRODUCTION_ACCESS = env("LOGS_PRODUCTION_ACCESS", "owners")
# PagerDuty: a REST API v2 key (the sandbox accepts "switchyard-sandbox"), the Events API address
# for change events (default: PAGERDUTY_URL's, i.e. the sandbox; https://events.pagerduty.com with
# the real service) and how long a card waits.
PAGERDUTY_TOKEN = env("PAGERDUTY_TOKEN", "switchyard-sandbox" if DEBUG else "")
PAGERDUTY_EVENTS_URL = env("PAGERDUTY_EVENTS_URL", "")
PAGERDUTY_TIMEOUT_SECONDS = float(env("PAGERDUTY_TIMEOUT_SECONDS", "3"))
PAGERDUTY_CA_BUNDLE = env("PAGERDUTY_CA_BUNDLE", "")  # else the system's (and the sandbox's own)
# Slack: a bot token (the sandbox accepts "xoxb-switchyard-sandbox"), the app's signing secret
# (interactivity requests are refused without one), how long a call waits, and where an
# interaction's response_url may point (Slack's hooks; the configured Slack endpoint too).
SLACK_BOT_TOKEN = env("SLACK_BOT_TOKEN", "xoxb-switchyard-sandbox" if DEBUG else "")
SLACK_SIGNING_SECRET = env(
    "SLACK_SIGNING_SECRET", "switchyard-sandbox-signing-secret" if DEBUG else ""
)
SLACK_TIMEOUT_SECONDS = float(env("SLACK_TIMEOUT_SECONDS", "3"))
SLACK_RESPONSE_URL_PREFIXES = ["https://hooks.slack.com/"]
# Mail (notifications): the console in development, SMTP otherwise (EMAIL_HOST, EMAIL_PORT, ...).
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(env("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "switchyard@localhost")
# "Open in Grafana Explore" links: the Grafana address and the uid of its Loki data source.
GRAFANA_URL = env("GRAFANA_URL", "")
GRAFANA_LOKI_DATASOURCE = env("GRAFANA_LOKI_DATASOURCE", "loki")

# Production hardening, on whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # "__Host-": the browser only keeps it from HTTPS, for this host, path "/".
    SESSION_COOKIE_NAME = "__Host-switchyard-session"
    CSRF_COOKIE_NAME = "__Host-switchyard-csrf"
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp), in every configuration, development included: scripts and
# styles only from our own origin or with the per-response nonce; no inline handlers, no style
# attributes, no eval (docs/security.md). htmx is told not to inject its indicator <style>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        # No form-action: the SSO sign-in form redirects to the identity provider's origin.
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "portal.logfilters.StderrHandler", "formatter": "plain"}},
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
