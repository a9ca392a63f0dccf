"""Signals the vendors room sends. It imports nothing from the rooms above it:
whoever keeps derived data (the engine's context cache) listens here, see
:mod:`enrichment.vendors.receivers`."""

from django.dispatch import Signal

# Sent inside the writing transaction when a vendor's answer (data, or "no such
# company") was stored. Arguments: ``customer_pk``, ``customer_id`` (the
# external id) and ``vendor``.
external_data_stored = Signal()
