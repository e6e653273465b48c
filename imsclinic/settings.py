"""Settings for imsclinic, read from the environment.

Production differs from development only through environment values. With no
environment at all this is a production configuration that refuses to start
without SECRET_KEY; `make run` and `make test` set DEBUG=1 for local work.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    """Read a yes/no environment value strictly."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def envint(name: str, default: int) -> int:
    """Read a whole-number environment value strictly."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment value."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", False)
TESTING = "pytest" in sys.modules

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-never-use-in-production"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. In production set SECRET_KEY to a long random value "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
            "For local development set DEBUG=1."
        )

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or TESTING) else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    # Before django_tasks_db: its `db_worker` command extends that app's (it also seals the
    # audit log; docs/decisions/0008).
    "imsclinic.core",
    "django_tasks_db",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "imsclinic.accounts",
    "imsclinic.clinic",
    "imsclinic.patients",
    "imsclinic.scheduling",
    "imsclinic.billing",
    "imsclinic.safety",
    "imsclinic.intake",
    "imsclinic.consent",
    "imsclinic.charting",
    "imsclinic.outcomes",
    "imsclinic.followup",
    "imsclinic.web",
    "imsclinic.portal",
    "imsclinic.demo",
    "imsclinic.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The Page* middleware are Django's own (and django-htmx's), passed by an API request
    # that carries a bearer token: its token says who is asking (core.middleware).
    "imsclinic.core.middleware.PageSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "imsclinic.core.middleware.PageCommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "imsclinic.core.middleware.PageAuthenticationMiddleware",
    "imsclinic.core.middleware.PageMessageMiddleware",
    # After messages: whoever timed out is told why they were signed out.
    "imsclinic.accounts.middleware.SessionTimeoutMiddleware",
    "imsclinic.accounts.middleware.StaffMFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "imsclinic.core.middleware.PageHtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "imsclinic.core.middleware.NoStoreForHealthInformationMiddleware",
    # Last: the first to see a view's exception (a deadlock or lock timeout answers 503).
    "imsclinic.core.middleware.TransientDatabaseErrorMiddleware",
]

ROOT_URLCONF = "imsclinic.urls"
WSGI_APPLICATION = "imsclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "imsclinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "imsclinic.clinic.context_processors.clinic",
                "imsclinic.followup.context_processors.followup_alerts",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL (psycopg 3) through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'imsclinic.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "imsclinic_cache",
    }
}

AUTH_USER_MODEL = "accounts.User"
# Permissions are the rules of core.permissions; signing in is allauth's (accounts.backends).
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "imsclinic.accounts.backends.AccountBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing strength is not what the tests measure; keep the suite quick.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: email login, verified email for patients, MFA for staff.
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_ADAPTER = "imsclinic.accounts.adapter.AccountAdapter"
MFA_ADAPTER = "imsclinic.accounts.adapter.MFAAdapter"
ACCOUNT_SIGNUP_FORM_CLASS = "imsclinic.accounts.forms.PatientSignupForm"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_RATE_LIMITS = {
    # Failed logins: a handful per account, a few dozen per address, per 15 minutes.
    "login_failed": "5/15m/key,30/15m/ip",
    "login": "30/m/ip",
    "signup": "20/h/ip",
    "reset_password": "20/h/ip,5/h/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "imsclinic")
MFA_RECOVERY_CODE_COUNT = 10

# Sessions: a fresh id at login (Django's login() cycles it), ended at logout.
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
STAFF_IDLE_TIMEOUT_MINUTES = envint("STAFF_IDLE_TIMEOUT_MINUTES", 15)
STAFF_SESSION_MAX_HOURS = envint("STAFF_SESSION_MAX_HOURS", 10)
PATIENT_IDLE_TIMEOUT_MINUTES = envint("PATIENT_IDLE_TIMEOUT_MINUTES", 30)

# Security headers.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not (DEBUG or TESTING))
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if (DEBUG or TESTING) else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Preloading binds the whole domain to HTTPS for browsers everywhere and is slow to undo: the
# domain's owner opts in with SECURE_HSTS_PRELOAD=1, so the check's reminder is not a fault.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Every visit reaches gunicorn from the proxy's own address; the proxy (deploy/Caddyfile)
    # names the visitor's in X-Forwarded-For. Trusting that one hop keeps allauth's
    # per-address sign-in limits per visitor rather than one for the whole clinic, and gives
    # the audit log the visitor's address (core.audit.client_ip).
    ALLAUTH_TRUSTED_PROXY_COUNT = 1

# Email: the console in development, SMTP from the environment in production.
_mailer: dict[str, object]
if DEBUG or TESTING:
    _mailer = {"BACKEND": "imsclinic.core.mail_console.EmailBackend"}
else:
    _mailer = {
        "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": envint("EMAIL_PORT", 587),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": envbool("EMAIL_USE_TLS", True),
            "timeout": envint("EMAIL_TIMEOUT", 20),
        },
    }
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@imsclinic.invalid")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks: django.tasks with the database backend (one `db_worker`).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "imsclinic" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if (DEBUG or TESTING)
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# collectstatic keeps (and compresses) only the hashed copies: every address the app writes
# names them, and a release compresses half as many files.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# Stored files (uploads); backups carry everything under it.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "var" / "media")

NINJA_PAGINATION_PER_PAGE = 50

# Online card payment in the portal: the dotted path of a class implementing
# `billing.online.CardProvider`. Empty (the default): the portal says to pay at the clinic
# or by e-transfer, and offers no card payment.
BILLING_CARD_PROVIDER = os.environ.get("BILLING_CARD_PROVIDER", "").strip()

# The audit log (docs/ARCHITECTURE.md, "The audit log"). The task worker seals new rows into
# the hash chain every AUDIT_SEAL_INTERVAL_SECONDS; verify_audit_log calls a row still
# unsealed after AUDIT_SEAL_WITHIN_SECONDS a problem. The worker appends a checkpoint of the
# chain's head to AUDIT_CHECKPOINT_FILE (production: on other storage than the database)
# every AUDIT_CHECKPOINT_EVERY_HOURS, and emails it to the owners.
AUDIT_SEAL_INTERVAL_SECONDS = envint("AUDIT_SEAL_INTERVAL_SECONDS", 1)
AUDIT_SEAL_WITHIN_SECONDS = envint("AUDIT_SEAL_WITHIN_SECONDS", 300)
AUDIT_CHECKPOINT_FILE = Path(
    os.environ.get("AUDIT_CHECKPOINT_FILE") or BASE_DIR / "var" / "audit-checkpoints.log"
)
AUDIT_CHECKPOINT_EVERY_HOURS = envint("AUDIT_CHECKPOINT_EVERY_HOURS", 24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Request logs carry URLs only; query strings may hold search terms, so keep them out.
    "loggers": {"django.server": {"level": "WARNING"}},
}
