"""The staff admin of the enrichment service. Django's admin autodiscovery
imports this package; each module registers its own ModelAdmins."""

from enrichment.admin import churn, customers, experiments, stored, tokens  # noqa: F401
