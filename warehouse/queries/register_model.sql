-- Register a model version with its card, once.
INSERT INTO model_versions (model_version, created_at, card_json)
VALUES ($version, $now, $card)
ON CONFLICT (model_version) DO NOTHING;
