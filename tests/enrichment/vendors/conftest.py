from tests.enrichment.external_fixtures import fake_vendors, vendors_on  # noqa: F401
