-- The app's own key/value facts. Its first row records when this database was created, so an
-- operator can tell a database that survived redeploys from one created afresh.
CREATE TABLE app_metadata (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

INSERT INTO app_metadata (key, value, updated_at)
VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
