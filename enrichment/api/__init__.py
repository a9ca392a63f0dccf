"""The agents' HTTP API (DRF): see ``urls.py`` for the endpoints and README, "API"."""
