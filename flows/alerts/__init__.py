"""Stance shifts: series, change points, evidence, notifiers (issue 23)."""
