-- How far the CloudTrail lookup index goes (turnout.services.cloudtrail.store.indexed_seq): every event up to seq
-- has its posting-list entries, none after it. Moved in the transaction that indexes a batch. Read by every
-- LookupEvents, which finds the events after it without the index. It used to be worked out as the newest last_seq
-- of the list of every event, which is less than the batch's newest seq when event times and seqs disagree in
-- order (a call answered after a later one): the events after it were then indexed twice. Databases from before
-- start from that value, as they would have.
CREATE TABLE cloudtrail_indexed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO cloudtrail_indexed (id, seq)
    SELECT 1, COALESCE(MAX(last_seq), 0) FROM cloudtrail_lookup WHERE attribute = '';
