"""Signals the customers app sends. It imports nothing from the apps above it:
whoever keeps derived data (the enrichment service's cache) listens here."""

from django.dispatch import Signal

# Sent inside the writing transaction when a bulk write (``bulk_create``,
# ingestion) changed customers' data without saving model instances one by one.
# Arguments: ``customer_ids``, the external ids whose data changed.
customer_data_changed = Signal()
