from tests.enrichment.api.conftest import _fresh_token_cache, make_token  # noqa: F401
from tests.enrichment.conftest import acme  # noqa: F401
from tests.enrichment.external_fixtures import fake_vendors, vendors_on  # noqa: F401
from tests.ops.conftest import start_gunicorn  # noqa: F401
