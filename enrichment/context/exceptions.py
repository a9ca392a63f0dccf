class ContextEnrichmentError(Exception):
    """Base class for errors the context service raises to its callers."""


class CustomerNotFound(ContextEnrichmentError):
    def __init__(self, lookup: str):
        self.lookup = lookup
        super().__init__(f"No customer matches {lookup}")


class InvalidLookup(ContextEnrichmentError):
    """A customer id, email or domain that cannot be valid."""


class ContextUnavailable(ContextEnrichmentError):
    """The customer's data could not be read (database unreachable)."""


class ScopeForbidden(ContextEnrichmentError):
    """The caller's scope may not ask for this (e.g. agent figures with a customer-facing token)."""
