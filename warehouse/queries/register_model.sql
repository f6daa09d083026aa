-- Register a model version with its card as complete (its whole archive is scored), once.
INSERT INTO model_versions (model_version, created_at, card_json, completed_at)
VALUES ($version, $now, $card, $now)
ON CONFLICT (model_version) DO UPDATE SET completed_at = coalesce(model_versions.completed_at, excluded.completed_at);
