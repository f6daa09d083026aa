-- 004: who is speaking. passage_scores.voice is the passage's voice as the model read it from the
-- text's own cues (author | beijing | seoul | washington | other; models/voice.py); NULL for
-- rows scored before this migration. article_scores.n_ignored counts the passages the article
-- score ignored because their top probability was below the model's abstention threshold.
ALTER TABLE passage_scores ADD COLUMN voice VARCHAR;
ALTER TABLE article_scores ADD COLUMN n_ignored INTEGER;
