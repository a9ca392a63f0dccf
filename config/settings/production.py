"""Production: everything from the environment, refusing unsafe defaults."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from config.settings.base import *
from config.settings.base import DEBUG, SECRET_KEY

_INSECURE_PREFIXES = ("insecure-", "django-insecure", "change-me")

if not SECRET_KEY or SECRET_KEY.startswith(_INSECURE_PREFIXES) or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 32 characters in production")
if DEBUG:
    raise ImproperlyConfigured("DEBUG must be off in production (unset DEBUG or set DEBUG=false)")

LOG_JSON = env_bool("LOG_JSON", True)
from config.logging import configure_logging
from config.settings.base import CELERY_QUIET_TASKS, LOG_LEVEL

configure_logging(json_lines=LOG_JSON, level=LOG_LEVEL, quiet_tasks=CELERY_QUIET_TASKS)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SERVER_EMAIL = env_str("SERVER_EMAIL", "root@localhost")
IS_PRODUCTION = True  # seed_demo refuses to run here without --i-know-this-is-production
