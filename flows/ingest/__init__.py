"""Ingest: poll feeds, fetch pages through the one hardened client, extract, dedup, sources."""
