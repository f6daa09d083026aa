-- Sources no longer listed in sources.toml stay (their history matters) but are not polled.
UPDATE sources SET active = FALSE WHERE synced_at < $now;
