"""The score stage: passages of new articles → the stance model → passage and article scores."""
