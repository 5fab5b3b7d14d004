"""Webhooks: signed HTTP notifications of follow-up and interview events."""
