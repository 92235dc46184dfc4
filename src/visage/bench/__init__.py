"""Benchmarks that span domains (accuracy of the kiosk decision at scale)."""
