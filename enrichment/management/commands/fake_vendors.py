"""``python manage.py fake_vendors [--port 8765]``: serve local stand-ins for
Clearbit, People Data Labs, Crunchbase and NewsAPI (their real paths and body
shapes), so the external enrichment can be tried without vendor keys::

    python manage.py fake_vendors --port 8765 &
    export CLEARBIT_API_KEY=dummy CRUNCHBASE_API_KEY=dummy NEWSAPI_KEY=dummy
    export CLEARBIT_BASE_URL=http://127.0.0.1:8765 CRUNCHBASE_BASE_URL=http://127.0.0.1:8765
    export NEWSAPI_BASE_URL=http://127.0.0.1:8765
    python manage.py fetch_external customer_123
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from enrichment.demo.fake_vendors import FakeVendorServer


class Command(BaseCommand):
    help = "Serve local stand-ins for the Clearbit, People Data Labs, Crunchbase and NewsAPI APIs."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8765, help="Port to listen on (default 8765).")

    def handle(self, *args, host: str, port: int, **options):
        server = FakeVendorServer(host=host, port=port)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        server.start()
        url = server.url
        self.stdout.write(f"Fake vendors listening on {url}  (Ctrl-C to stop)")
        self.stdout.write("Point the vendors at it, with any non-empty keys:")
        for name in ("CLEARBIT", "CRUNCHBASE", "NEWSAPI", "PEOPLEDATALABS"):
            self.stdout.write(f"  export {name}_BASE_URL={url}")
        self.stdout.write("  export CLEARBIT_API_KEY=dummy CRUNCHBASE_API_KEY=dummy NEWSAPI_KEY=dummy")
        self.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            self.stdout.write("Fake vendors stopped.")
