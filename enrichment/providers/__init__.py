from enrichment.providers.base import ContextProvider, ProviderRequest

__all__ = ["ContextProvider", "ProviderRequest"]
