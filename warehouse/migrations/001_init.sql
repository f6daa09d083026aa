-- 001: the warehouse contract (see DESIGN.md). One row per ... is stated on each table.

-- one row per outlet; config columns come from seeds/sources.toml, state columns from runs
CREATE TABLE sources (
    source_id            VARCHAR PRIMARY KEY,
    name                 VARCHAR NOT NULL,
    feed_url             VARCHAR NOT NULL,          -- as configured in sources.toml
    current_feed_url     VARCHAR,                   -- after a permanent redirect (301/308)
    country              VARCHAR NOT NULL,
    language             VARCHAR NOT NULL,
    kind                 VARCHAR NOT NULL,
    affiliation          VARCHAR,
    opinion_only         BOOLEAN NOT NULL DEFAULT FALSE,
    config_json          VARCHAR,                   -- every key of its sources.toml table
    active               BOOLEAN NOT NULL DEFAULT TRUE,  -- still listed in sources.toml
    etag                 VARCHAR,
    last_modified        VARCHAR,
    last_polled_at       TIMESTAMPTZ,
    last_success_at      TIMESTAMPTZ,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    backoff_until        TIMESTAMPTZ,
    disabled_at          TIMESTAMPTZ,
    disabled_reason      VARCHAR,
    synced_at            TIMESTAMPTZ NOT NULL
);

-- one row per run of a flow (ingest, score, pipeline, report)
CREATE SEQUENCE runs_seq;
CREATE TABLE runs (
    run_id          BIGINT PRIMARY KEY DEFAULT nextval('runs_seq'),
    flow            VARCHAR NOT NULL,
    trigger         VARCHAR NOT NULL DEFAULT 'manual',
    prefect_run_id  VARCHAR,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    outcome         VARCHAR,                        -- ok | partial | failed | NULL while running
    model_version   VARCHAR,
    feeds_polled    INTEGER,
    feeds_failed    INTEGER,
    discovered      INTEGER,
    fetched         INTEGER,
    extracted       INTEGER,
    duplicates      INTEGER,
    scored          INTEGER,
    failed          INTEGER,
    failures_json   VARCHAR,                        -- {"error_class": count}
    message         VARCHAR
);

-- one row per feed HTTP attempt
CREATE SEQUENCE feed_fetches_seq;
CREATE TABLE feed_fetches (
    fetch_id        BIGINT PRIMARY KEY DEFAULT nextval('feed_fetches_seq'),
    run_id          BIGINT,
    source_id       VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    final_url       VARCHAR,
    started_at      TIMESTAMPTZ NOT NULL,
    duration_ms     DOUBLE,
    status_code     INTEGER,
    error_class     VARCHAR,                        -- NULL on success
    error_message   VARCHAR,
    etag            VARCHAR,
    last_modified   VARCHAR,
    bytes           BIGINT,
    not_modified    BOOLEAN NOT NULL DEFAULT FALSE,
    entries_seen    INTEGER NOT NULL DEFAULT 0,
    entries_new     INTEGER NOT NULL DEFAULT 0,
    parse_warning   VARCHAR                         -- feed was malformed but entries were recovered
);

-- one row per feed item (source, guid)
CREATE TABLE entries (
    source_id       VARCHAR NOT NULL,
    guid            VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,               -- link as given by the feed
    canonical_url   VARCHAR NOT NULL,
    title           VARCHAR,
    author          VARCHAR,
    published_at    TIMESTAMPTZ,
    feed_content    VARCHAR,                        -- content:encoded / content / summary HTML
    discovered_at   TIMESTAMPTZ NOT NULL,
    run_id          BIGINT,
    state           VARCHAR NOT NULL,               -- new | stored | duplicate | failed | gave_up
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error_class VARCHAR,
    last_error      VARCHAR,
    last_attempt_at TIMESTAMPTZ,
    article_id      VARCHAR,
    PRIMARY KEY (source_id, guid)
);

-- one row per fetched page (the HTTP response an article was extracted from)
CREATE TABLE documents (
    document_id     VARCHAR PRIMARY KEY,            -- sha256 of canonical url
    url             VARCHAR NOT NULL,
    final_url       VARCHAR NOT NULL,
    status_code     INTEGER,
    headers_json    VARCHAR,
    content_type    VARCHAR,
    encoding        VARCHAR,
    raw_html        BLOB,                           -- raw body, compressed (see compression)
    compression     VARCHAR NOT NULL DEFAULT 'zlib',
    raw_bytes       BIGINT,
    fetched_at      TIMESTAMPTZ NOT NULL
);

-- one row per article (canonical URL)
CREATE TABLE articles (
    article_id      VARCHAR PRIMARY KEY,            -- first 16 hex of sha256(canonical_url)
    canonical_url   VARCHAR NOT NULL UNIQUE,
    url             VARCHAR NOT NULL,
    source_id       VARCHAR NOT NULL,
    document_id     VARCHAR,
    title           VARCHAR,
    author          VARCHAR,
    site_name       VARCHAR,
    published_at    TIMESTAMPTZ,
    published_source VARCHAR,                       -- feed | page | fetched (when neither had a date)
    language        VARCHAR,
    text            VARCHAR NOT NULL,
    text_chars      INTEGER NOT NULL,
    text_hash       VARCHAR NOT NULL,
    fingerprint     BLOB NOT NULL,                  -- MinHash signature (flows/neardup.py)
    duplicate_of    VARCHAR,                        -- article_id of the earlier copy
    duplicate_kind  VARCHAR,                        -- exact | near
    resemblance     DOUBLE,                         -- estimated Jaccard with duplicate_of (near)
    extraction_method VARCHAR NOT NULL,             -- trafilatura | feed_content
    extracted_at    TIMESTAMPTZ NOT NULL,
    run_id          BIGINT
);

-- one row per (article, LSH band): near-duplicate candidate lookup by equal buckets
CREATE TABLE article_bands (
    band            INTEGER NOT NULL,
    bucket          BIGINT NOT NULL,
    article_id      VARCHAR NOT NULL,
    PRIMARY KEY (band, bucket, article_id)
);

-- one row per passage of an article
CREATE TABLE passages (
    article_id      VARCHAR NOT NULL,
    ordinal         INTEGER NOT NULL,
    start_char      INTEGER NOT NULL,
    end_char        INTEGER NOT NULL,
    language        VARCHAR,
    text            VARCHAR NOT NULL,
    PRIMARY KEY (article_id, ordinal)
);

-- one row per model version (its card)
CREATE TABLE model_versions (
    model_version   VARCHAR PRIMARY KEY,
    created_at      TIMESTAMPTZ NOT NULL,
    card_json       VARCHAR NOT NULL
);

-- one row per passage and model version
CREATE TABLE passage_scores (
    article_id      VARCHAR NOT NULL,
    ordinal         INTEGER NOT NULL,
    model_version   VARCHAR NOT NULL,
    p_washington    DOUBLE NOT NULL,
    p_hedge         DOUBLE NOT NULL,
    p_beijing       DOUBLE NOT NULL,
    p_irrelevant    DOUBLE NOT NULL,
    label           VARCHAR NOT NULL,
    score           DOUBLE NOT NULL,
    encoder         VARCHAR,
    scored_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, ordinal, model_version)
);

-- one row per article and model version
CREATE TABLE article_scores (
    article_id      VARCHAR NOT NULL,
    model_version   VARCHAR NOT NULL,
    score           DOUBLE,                         -- NULL when no passage is relevant
    label           VARCHAR NOT NULL,
    confidence      DOUBLE NOT NULL,
    relevant_share  DOUBLE NOT NULL,
    spread          DOUBLE,
    n_passages      INTEGER NOT NULL,
    evidence_json   VARCHAR NOT NULL,               -- [{"ordinal", "label", "score", "weight"}]
    scored_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, model_version)
);
