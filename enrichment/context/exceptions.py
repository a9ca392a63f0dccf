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


class ExperimentNotFound(ContextEnrichmentError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"No experiment is named {name[:80]!r}")


class UnknownContextId(ContextEnrichmentError):
    """A ``context_id`` this service did not sign."""

    def __init__(self, context_id: str):
        self.context_id = context_id
        super().__init__(f"No context was served with context_id {context_id[:80]!r}")
