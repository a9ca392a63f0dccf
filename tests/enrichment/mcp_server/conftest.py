from tests.enrichment.api.conftest import _fresh_token_cache, cf_token, demo, full_token, make_token  # noqa: F401
