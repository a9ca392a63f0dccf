"""Customer Context API client: ``from customer_context import ContextClient``.

No web framework needed: only httpx. See the README for an example.
"""

from customer_context._retry import RetryPolicy
from customer_context.client import AsyncContextClient, ContextClient, __version__
from customer_context.errors import (
    APIConnectionError,
    AuthenticationError,
    ContextAPIError,
    CustomerNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationError,
    error_for,
)
from customer_context.models import (
    BatchItem,
    Changes,
    Context,
    CustomerListItem,
    CustomerPage,
    ErrorInfo,
    Event,
    IngestResult,
    Requester,
    Summary,
    Ticket,
    TicketBrief,
)
from customer_context.prompt import inject_context_into_prompt

__all__ = [
    "APIConnectionError",
    "AsyncContextClient",
    "AuthenticationError",
    "BatchItem",
    "Changes",
    "Context",
    "ContextAPIError",
    "ContextClient",
    "CustomerListItem",
    "CustomerNotFoundError",
    "CustomerPage",
    "ErrorInfo",
    "Event",
    "IngestResult",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "Requester",
    "RetryPolicy",
    "ServiceUnavailableError",
    "Summary",
    "Ticket",
    "TicketBrief",
    "ValidationError",
    "__version__",
    "error_for",
    "inject_context_into_prompt",
]
