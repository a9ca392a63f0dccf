import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
application = get_wsgi_application()

if settings.CONTEXT_CHANGES_IN_PROCESS:
    # The embedded default: the cache lives in this process, so this process
    # applies the database's changes to it (enrichment/engine/changes.py).
    from enrichment.engine.changes import ChangeListener

    ChangeListener().start_thread()
