-- one row per topic of the dictionary version last applied (seeds/topics.toml): id and display name
CREATE TABLE topics (
    topic_id           VARCHAR PRIMARY KEY,
    name               VARCHAR NOT NULL,
    dictionary_version INTEGER NOT NULL,
    position           INTEGER NOT NULL             -- order in the dictionary file
);

-- one row per (article, topic) the article is tagged with: term occurrences found in its
-- normalised title + text (article_search.search_text), under the dictionary version shown
CREATE TABLE article_topics (
    article_id         VARCHAR NOT NULL,
    topic_id           VARCHAR NOT NULL,
    hits               INTEGER NOT NULL,
    dictionary_version INTEGER NOT NULL,
    PRIMARY KEY (article_id, topic_id)
);
