"""The stance model: passages, encoders, calibrated heads, evaluation and artifacts."""
