-- CloudTrail's event journals (turnout.services.cloudtrail.journal): how far each journal file has been copied into
-- cloudtrail_events, in bytes. The position moves in the transaction that writes the events, so that a journal is
-- copied exactly once whichever process copies it, and a crash between the two loses and repeats nothing.
CREATE TABLE cloudtrail_journal (
    name TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
