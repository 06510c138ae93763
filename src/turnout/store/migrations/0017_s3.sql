-- S3: buckets (names are global across accounts, as in AWS: the owner and home region are columns), their tags,
-- objects (bodies stored in the database, written in the request's transaction) and multipart uploads.
-- Keys compare as BINARY (UTF-8 byte order), the order S3 lists them in.
-- objects.attributes: JSON of the stored headers (content encoding, cache control, user metadata, checksums...).

CREATE TABLE s3_buckets (
    name TEXT NOT NULL PRIMARY KEY,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at TEXT NOT NULL,
    policy TEXT
);
CREATE INDEX s3_buckets_by_account ON s3_buckets (account_id, name);

CREATE TABLE s3_bucket_tags (
    bucket TEXT NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (bucket, tag_key)
);

CREATE TABLE s3_objects (
    bucket TEXT NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
    object_key TEXT NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    attributes TEXT NOT NULL,
    PRIMARY KEY (bucket, object_key)
);

CREATE TABLE s3_uploads (
    upload_id TEXT NOT NULL PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES s3_buckets (name) ON DELETE CASCADE,
    object_key TEXT NOT NULL,
    initiated_at TEXT NOT NULL,
    content_type TEXT NOT NULL,
    attributes TEXT NOT NULL
);
CREATE INDEX s3_uploads_by_bucket ON s3_uploads (bucket, object_key);

CREATE TABLE s3_parts (
    upload_id TEXT NOT NULL REFERENCES s3_uploads (upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
