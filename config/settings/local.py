"""The embedded default: SQLite, in-process cache, eager Celery, DEBUG on.

Everything can still be pointed elsewhere by the environment (DATABASE_URL,
REDIS_URL ...), which is how the same settings serve a developer with local
PostgreSQL and Redis.
"""

from config.env import env_bool
from config.settings.base import *

DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = ["*"]
# The cache is in-process here: the web process applies database changes itself.
CONTEXT_CHANGES_IN_PROCESS = env_bool("CONTEXT_CHANGES_IN_PROCESS", True)
