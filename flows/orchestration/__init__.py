"""Orchestration: the Prefect server and its environment, serve, deploy, fan-out, the run lock."""
