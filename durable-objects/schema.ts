/**
 * SQLite schema of a repository, as ordered migrations (run by migrate.ts).
 * Plain SQL text, no I/O: a benchmark in Node runs them too
 * (scripts/bench/targets-layout.ts).
 */
/** A trigger that puts the path of the row changed by `event` in the public documents' queue (migration 12). */
function markDocumentsDue(name: string, event: string, row: "NEW" | "OLD"): string {
  return `CREATE TRIGGER public_documents_${name} AFTER ${event} BEGIN
    INSERT INTO public_documents_due (path) VALUES (${row}.path)
      ON CONFLICT (path) DO UPDATE SET generation = generation + 1;
  END;`;
}

/** Each migration's statements, in order: migration N is MIGRATIONS[N - 1]. */
export const MIGRATIONS: readonly string[] = [
  /* 1: the repository */ `
  CREATE TABLE settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    json TEXT NOT NULL
  );
  -- Online signing keys, sealed with AES-GCM under a key-encryption key (kek_id, migration 6).
  CREATE TABLE online_keys (
    keyid TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    sealed BLOB NOT NULL,
    iv BLOB NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retired')),
    created_at INTEGER NOT NULL
  );
  -- Every root version, as the bytes that are served.
  CREATE TABLE roots (
    version INTEGER PRIMARY KEY,
    bytes BLOB NOT NULL,
    expires TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    stored INTEGER NOT NULL DEFAULT 0  -- 1 once N.root.json is in R2
  );
  -- One row per online role: targets, snapshot, timestamp and every bin.
  --   version/expires/length/sha256: what clients see now (0 = never published)
  --   allocated: the highest version ever handed out; versions are never reused
  --   staged_*: signed and stored in R2, waiting for the snapshot that lists it
  --   dirty: 0 clean, 1 changed, 2 claimed by the publish round under way
  --   seq: the change that last touched it (lets a round see a change it raced)
  CREATE TABLE roles (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    expires TEXT,
    length INTEGER,
    sha256 TEXT,
    allocated INTEGER NOT NULL DEFAULT 0,
    staged_version INTEGER,
    staged_expires TEXT,
    staged_length INTEGER,
    staged_sha256 TEXT,
    dirty INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX roles_dirty ON roles (dirty) WHERE dirty > 0;
  -- The targets index; each bin is built from its rows alone.
  CREATE TABLE targets (
    path TEXT PRIMARY KEY,
    bin TEXT NOT NULL,
    length INTEGER NOT NULL,
    hashes TEXT NOT NULL,
    custom TEXT
  );
  CREATE INDEX targets_by_bin ON targets (bin, path);
  -- Small counters and flags (e.g. the change sequence, the round under way).
  CREATE TABLE state (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  );
  `,
  /* 2: ceremonies and the audit log */ `
  -- A draft root N+1 collecting signatures from root key holders.
  CREATE TABLE ceremonies (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('online-key-rotation', 'root-change', 'root-refresh')),
    state TEXT NOT NULL CHECK (state IN ('awaiting-signatures', 'published', 'cancelled', 'expired')),
    root_version INTEGER NOT NULL,
    draft TEXT NOT NULL,            -- the draft's signed part, as JSON
    signatures TEXT NOT NULL,       -- JSON array of {keyid, sig}, each verified on arrival
    new_online_keyid TEXT,          -- for online-key-rotation: the key that takes over
    opened_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    closed_at INTEGER
  );
  CREATE UNIQUE INDEX one_open_ceremony ON ceremonies (state) WHERE state = 'awaiting-signatures';
  -- Every step of every ceremony, key change and failure, with time and key id.
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ceremony_id TEXT,
    keyid TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX events_by_ceremony ON events (ceremony_id, id);
  `,
  /* 3: registries and their pushes */ `
  CREATE TABLE registries (
    name TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  );
  -- Webhook credentials: an HMAC secret (sealed) or an Ed25519 public key.
  -- A credential being replaced stays valid until not_after (the overlap).
  CREATE TABLE registry_credentials (
    id TEXT PRIMARY KEY,
    registry TEXT NOT NULL REFERENCES registries (name) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('hmac', 'ed25519')),
    public_key TEXT,
    sealed BLOB,
    iv BLOB,
    created_at INTEGER NOT NULL,
    not_after INTEGER
  );
  CREATE INDEX credentials_by_registry ON registry_credentials (registry);
  -- Accepted webhook deliveries, for replay protection and idempotent redelivery.
  CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    registry TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    task_id TEXT NOT NULL
  );
  CREATE INDEX deliveries_by_time ON deliveries (received_at);
  -- An accepted batch and the change sequence that carries it.
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    registry TEXT NOT NULL,
    events INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  -- Every digest a path was ever published with: a path is never re-published
  -- with different bytes, even after it was removed.
  CREATE TABLE published_digests (
    path TEXT PRIMARY KEY,
    sha256 TEXT,
    sha512 TEXT
  );
  INSERT INTO published_digests (path, sha256, sha512)
    SELECT path, json_extract(hashes, '$.sha256'), json_extract(hashes, '$.sha512') FROM targets;
  `,
  /* 4: the transparency log */ `
  -- Log entries, appended in the same transaction as the change they record.
  CREATE TABLE log_entries (
    idx INTEGER PRIMARY KEY,
    entry BLOB NOT NULL,
    path TEXT          -- the target path, for proofs by path
  );
  CREATE INDEX log_entries_by_path ON log_entries (path, idx) WHERE path IS NOT NULL;
  -- Every complete subtree hash (derived from log_entries, hashed after the fact).
  CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
  ) WITHOUT ROWID;
  `,
  /* 5: attestations */ `
  -- Accepted attestations; the bundle bytes are in R2 under their SHA-256.
  CREATE TABLE attestations (
    sha256 TEXT NOT NULL,
    path TEXT NOT NULL,
    filename TEXT NOT NULL,        -- the path's last segment (PyPI's integrity API asks by file name)
    predicate_type TEXT,
    media_type TEXT NOT NULL,
    publisher TEXT NOT NULL,       -- JSON: who signed it (PEP 740 publisher shape)
    created_at INTEGER NOT NULL,
    PRIMARY KEY (path, sha256)
  );
  CREATE INDEX attestations_by_filename ON attestations (filename);
  `,
  /* 6: versioned key-encryption keys (durable-objects/sealer.ts) */ `
  -- The id of the KEK each sealed value was sealed under; values sealed
  -- before KEKs had ids were sealed under the one key, id 'default'.
  ALTER TABLE online_keys ADD COLUMN kek_id TEXT NOT NULL DEFAULT 'default';
  ALTER TABLE registry_credentials ADD COLUMN kek_id TEXT NOT NULL DEFAULT 'default';
  `,
  /* 7: delivery ids are per registry, and remember the body they came with */ `
  CREATE TABLE deliveries_per_registry (
    registry TEXT NOT NULL,
    id TEXT NOT NULL,
    body_sha256 TEXT,              -- NULL for deliveries recorded before bodies were compared
    received_at INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    PRIMARY KEY (registry, id)
  );
  INSERT INTO deliveries_per_registry (registry, id, body_sha256, received_at, task_id)
    SELECT registry, id, NULL, received_at, task_id FROM deliveries;
  DROP TABLE deliveries;
  ALTER TABLE deliveries_per_registry RENAME TO deliveries;
  CREATE INDEX deliveries_by_time ON deliveries (received_at);
  `,
  /* 8: a task records the versions of the round that first published it */ `
  ALTER TABLE tasks ADD COLUMN targets_version INTEGER;
  ALTER TABLE tasks ADD COLUMN snapshot_version INTEGER;
  ALTER TABLE tasks ADD COLUMN timestamp_version INTEGER;
  -- Tasks already published: which round published them was not recorded (0: the current versions stand in).
  UPDATE tasks SET targets_version = 0, snapshot_version = 0, timestamp_version = 0
    WHERE seq <= IFNULL((SELECT value FROM state WHERE key = 'published_seq'), 0);
  CREATE INDEX tasks_unpublished ON tasks (seq) WHERE timestamp_version IS NULL;
  `,
  /* 9: quarantine (durable-objects/quarantine.ts) */ `
  -- Targets taken out of the published metadata for review, with their entry
  -- as it was listed. 'held' until released (listed again, same digest) or
  -- removed ('removed' until its kept bytes are deleted, then the row goes).
  CREATE TABLE quarantine (
    path TEXT PRIMARY KEY,
    target TEXT NOT NULL,           -- JSON: the target's entry (bin, length, hashes, custom)
    reason TEXT NOT NULL,
    reference TEXT,
    actor TEXT NOT NULL,            -- who quarantined it: "registry <name>" or "operator[ (<name>)]"
    at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'removed')),
    hidden INTEGER NOT NULL DEFAULT 0  -- 1 once none of its bytes are at a public R2 key
  );
  `,
  /* 10: a published path's length is immutable too */ `
  -- NULL for paths removed before this migration (their length is not known any more).
  ALTER TABLE published_digests ADD COLUMN length INTEGER;
  UPDATE published_digests SET length = (SELECT length FROM targets WHERE targets.path = published_digests.path);
  `,
  /* 11: uploads authorized and not yet accepted (durable-objects/staged-uploads.ts) */ `
  -- The path is reserved for the upload's bytes until it is accepted or discarded;
  -- the bytes wait at <repo>/staging/<id> in R2.
  CREATE TABLE staged_uploads (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    length INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX staged_uploads_by_path ON staged_uploads (path);
  CREATE INDEX staged_uploads_by_time ON staged_uploads (created_at);
  `,
  /* 12: public attestation documents to (re)write (durable-objects/public-documents.ts) */ `
  -- Target paths whose public attestation documents (list, npm, PEP 740) must be
  -- written to R2 again. Triggers fill it in the very transaction that changes a
  -- path's attestations or its quarantine, so an acknowledged change is never
  -- missed; a path leaves once its documents are stored, unless it changed again
  -- meanwhile (generation).
  CREATE TABLE public_documents_due (
    path TEXT PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 0
  );
  ${markDocumentsDue("attestation_added", "INSERT ON attestations", "NEW")}
  ${markDocumentsDue("attestation_deleted", "DELETE ON attestations", "OLD")}
  ${markDocumentsDue("quarantined", "INSERT ON quarantine", "NEW")}
  ${markDocumentsDue("quarantine_changed", "UPDATE OF state ON quarantine", "NEW")}
  ${markDocumentsDue("released", "DELETE ON quarantine", "OLD")}
  -- The backfill of repositories that accepted attestations before these documents
  -- existed: every attested path is due, and the documents are incomplete until
  -- the queue has been worked off (the index says so, and the Worker answers 503).
  INSERT OR IGNORE INTO public_documents_due (path) SELECT DISTINCT path FROM attestations;
  INSERT OR REPLACE INTO state (key, value) VALUES ('public_documents_backfill', 1);
  `,
  /* 13: delegations (durable-objects/delegations.ts) */ `
  -- Named targets roles, each delegated by its parent ('targets' or another
  -- delegation) in position order, before the catch-all hash bins. Each is
  -- also a row in roles once added (and stays one after removal: a snapshot
  -- never drops a role), as are its own hash bins <name>.bins-XX.
  CREATE TABLE delegations (
    name TEXT PRIMARY KEY,
    parent TEXT NOT NULL,
    position INTEGER NOT NULL,
    paths TEXT,                     -- JSON array of path patterns, or NULL
    path_hash_prefixes TEXT,        -- JSON array of hex prefixes, or NULL
    terminating INTEGER NOT NULL CHECK (terminating IN (0, 1)),
    bit_length INTEGER,             -- hash bins inside: 2^bit_length of them, or NULL
    created_at INTEGER NOT NULL,
    CHECK ((paths IS NULL) != (path_hash_prefixes IS NULL))
  );
  CREATE INDEX delegations_order ON delegations (parent, position);
  `,
  /* 14: each target's entry kept serialised, so a bin is assembled, not re-serialised (src/tuf/assembled.ts) */ `
  -- '"path":{…}' as canonical JSON (signed) and as JSON.stringify writes it (served);
  -- NULL for rows written before this migration (filled in when their bin is next signed).
  ALTER TABLE targets ADD COLUMN entry_canonical TEXT;
  ALTER TABLE targets ADD COLUMN entry_json TEXT;
  `,
  /* 15: offline-signed delegations (durable-objects/delegations.ts) */ `
  -- An offline delegation's keys (JSON object keyid -> TUF key) and threshold;
  -- NULL for an online one (signed with the online key).
  ALTER TABLE delegations ADD COLUMN offline_keys TEXT;
  ALTER TABLE delegations ADD COLUMN offline_threshold INTEGER;
  -- The newest version its owners submitted: the exact bytes they signed,
  -- which the publisher stores and serves unchanged.
  CREATE TABLE offline_roles (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    expires TEXT NOT NULL,
    bytes BLOB NOT NULL,
    submitted_at INTEGER NOT NULL
  );
  `,
  /* 16: changes waiting for an offline role's owners, and the drafts they sign (durable-objects/offline-queue.ts, offline-drafts.ts) */ `
  -- Target events accepted for paths an offline role claims (registry pushes,
  -- uploads, operator changes): the service never signs them; they wait here,
  -- in the order accepted, until the owners publish a version that carries them.
  CREATE TABLE offline_pending (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role TEXT NOT NULL,
    event TEXT NOT NULL,            -- JSON: the change (src/tuf/offline-draft.ts PendingChange)
    actor TEXT NOT NULL,            -- "registry <name>" or "operator[ (<name>)]"
    task_id TEXT,                   -- the registry push's task, which waits for the owners
    at INTEGER NOT NULL
  );
  CREATE INDEX offline_pending_by_role ON offline_pending (role, id);
  CREATE INDEX offline_pending_by_task ON offline_pending (task_id) WHERE task_id IS NOT NULL;
  -- The draft of an offline role's next version: the canonical JSON of its signed
  -- part, pinned (it carries the pending changes up to 'through'), and the owners'
  -- signatures collected over exactly those bytes.
  CREATE TABLE offline_drafts (
    role TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    canonical BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    through INTEGER NOT NULL,       -- the last offline_pending id it carries (0: none)
    signatures TEXT NOT NULL,       -- JSON array of {keyid, sig}, each verified over canonical
    created_at INTEGER NOT NULL
  );
  `,
  /* 17: what status reads, without a scan that grows with the repository (durable-objects/status.ts) */ `
  -- The number of targets, kept by triggers in every transaction that adds or
  -- removes one (an upsert that updates a row fires neither).
  DELETE FROM state WHERE key = 'targets_count';
  INSERT INTO state (key, value) SELECT 'targets_count', COUNT(*) FROM targets;
  CREATE TRIGGER targets_count_insert AFTER INSERT ON targets BEGIN
    UPDATE state SET value = value + 1 WHERE key = 'targets_count';
  END;
  CREATE TRIGGER targets_count_delete AFTER DELETE ON targets BEGIN
    UPDATE state SET value = value - 1 WHERE key = 'targets_count';
  END;
  -- The roles that expire first (status, freshness) are the first entries of this index.
  CREATE INDEX roles_by_expires ON roles (expires);
  `,
  /* 18: ceremonies that also (or only) draft top-level targets, signed offline (protected-targets.ts) */ `
  -- SQLite cannot change a CHECK: the table is rebuilt with the new kinds.
  -- draft is NULL for a ceremony that changes no root (root_version is then
  -- the root in force); targets_draft is the next targets version's signed
  -- part when the ceremony publishes one, signed by the targets role's keys
  -- (targets_signatures); change is what it does to the delegations (JSON);
  -- targets_base is the published targets it was drafted against (JSON).
  CREATE TABLE ceremonies_v18 (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('online-key-rotation', 'root-change', 'root-refresh',
      'protect-delegations', 'delegation-change', 'targets-refresh')),
    state TEXT NOT NULL CHECK (state IN ('awaiting-signatures', 'published', 'cancelled', 'expired')),
    root_version INTEGER NOT NULL,
    draft TEXT,
    signatures TEXT NOT NULL,
    new_online_keyid TEXT,
    opened_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    closed_at INTEGER,
    targets_draft TEXT,
    targets_signatures TEXT NOT NULL DEFAULT '[]',
    targets_base TEXT,
    change TEXT
  );
  INSERT INTO ceremonies_v18 (id, kind, state, root_version, draft, signatures, new_online_keyid, opened_at, expires_at, closed_at)
    SELECT id, kind, state, root_version, draft, signatures, new_online_keyid, opened_at, expires_at, closed_at FROM ceremonies;
  DROP TABLE ceremonies;
  ALTER TABLE ceremonies_v18 RENAME TO ceremonies;
  CREATE UNIQUE INDEX one_open_ceremony ON ceremonies (state) WHERE state = 'awaiting-signatures';
  `,
  /* 19: the number of targets added by the code that inserts rows (targets-index.ts), once per statement */ `
  -- The trigger ran an UPDATE of the counter for every inserted row (10,000
  -- for an import's batch). Removals still count by trigger (targets_count_delete).
  DROP TRIGGER targets_count_insert;
  `,
  /* 20: a bin's rows found by the bin alone (targets-index.ts), and a path's published digest kept in its row while it is listed (target-events.ts) */ `
  -- Rows are added in random bin order (a bin is a hash of the path), so each
  -- lands on its own page of this index; an entry that also held the path made
  -- the index several times larger (in node:sqlite, 500,000 rows inserted 10,000
  -- at a time took half the time with the bin alone). Reading a bin sorts its
  -- few rows by path instead.
  DROP INDEX targets_by_bin;
  CREATE INDEX targets_by_bin ON targets (bin);
  -- A listed target's row holds its published length and hashes; published_digests
  -- keeps those of paths no longer listed, recorded as the row goes (rows written
  -- before this migration stay: the same values).
  CREATE TRIGGER published_digests_on_delete AFTER DELETE ON targets BEGIN
    INSERT INTO published_digests (path, length, sha256, sha512)
      VALUES (OLD.path, OLD.length, OLD.hashes ->> '$.sha256', OLD.hashes ->> '$.sha512')
      ON CONFLICT (path) DO UPDATE SET length = excluded.length, sha256 = excluded.sha256, sha512 = excluded.sha512;
  END;
  `,
  /* 21: the log's entries pruned once their tiles are in R2 (durable-objects/log-history.ts) */ `
  -- Each entry about a target, from its append on: where it is in the log and
  -- its type, for proofs by path and the target's page, kept once its row of
  -- log_entries is pruned (its bytes are then in the entry bundle in R2).
  -- Rows of log_entries appended before keep their path (log_entries_by_path)
  -- until they are pruned, and then move it here.
  CREATE TABLE log_history (
    idx INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    type TEXT NOT NULL
  );
  CREATE INDEX log_history_by_path ON log_history (path, idx);
  `,
  /* 22: a round's statements read the roles it touches, not every role (role-table.ts) */ `
  -- The roles changed or claimed, in name order (a round claims them in that
  -- order), and the roles staged by the round under way: a round's queries
  -- read these few rows instead of the whole table (16,386 rows at 16,384 bins).
  DROP INDEX roles_dirty;
  CREATE INDEX roles_changed ON roles (dirty, name) WHERE dirty > 0;
  CREATE INDEX roles_staged ON roles (name) WHERE staged_version IS NOT NULL;
  `,
  /* 23: the snapshot's meta kept joined in parts, a round rejoins those it changed (snapshot-parts.ts) */ `
  -- The part of the snapshot's meta that lists the role (ranges of the
  -- canonical key order); NULL until the role is first listed and split.
  ALTER TABLE roles ADD COLUMN part INTEGER;
  CREATE INDEX roles_by_part ON roles (part) WHERE part IS NOT NULL;
  CREATE INDEX roles_unparted ON roles (name) WHERE part IS NULL;
  -- Each part's members, joined as the snapshot lists them, and whether every
  -- name in it is printable ASCII without a quote or backslash.
  CREATE TABLE snapshot_parts (
    part INTEGER PRIMARY KEY,
    members TEXT NOT NULL,
    plain INTEGER NOT NULL
  );
  `,
  /* 24: superseded metadata files, deleted after the retention (superseded-files.ts) */ `
  -- Where the published and the staged version's file is (role-table.ts,
  -- SHARED_FILE): NULL for a file of its own, the slice of a top-level bin's
  -- pack, or -1 for a file many roles share. Rows published before this
  -- migration read NULL: their bins' old packs are never counted or deleted.
  ALTER TABLE roles ADD COLUMN pack_slice INTEGER;
  ALTER TABLE roles ADD COLUMN staged_pack_slice INTEGER;
  -- The packs published since, with how many of their bins are current.
  CREATE TABLE bin_packs (
    version INTEGER NOT NULL,
    slice INTEGER NOT NULL,
    live INTEGER NOT NULL,
    PRIMARY KEY (version, slice)
  ) WITHOUT ROWID;
  -- The packs whose last current bin a round just replaced (a round finds
  -- them without reading every pack).
  CREATE INDEX bin_packs_emptied ON bin_packs (version, slice) WHERE live <= 0;
  -- Files no current version needs (keys below the repository's prefix), and
  -- since when (ms); deleted from R2 once retainSuperseded has passed.
  CREATE TABLE superseded_files (
    key TEXT PRIMARY KEY,
    since INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX superseded_files_by_since ON superseded_files (since, key);
  `,
  /* 25: the audit log read by kind (audit-log.ts, GET /{repo}/admin/events?kind=) */ `
  -- The events of one kind, newest first, without reading the others: the
  -- operator's question of a rare kind (a failed publish) no longer scans the
  -- whole log from its newest event. Events are operators' steps, rare
  -- beside pushes, so the index costs little to keep.
  CREATE INDEX events_by_kind ON events (kind, id);
  `,
  /* 26: a bin's entries read from the bin index alone (targets-index.ts, binsJoined) */ `
  -- Through the index on bin alone, a round read each of a bin's rows from
  -- its own page of the table (rows are stored in the order they were
  -- written, a bin's scattered among them): about one page per target. The
  -- index now holds what signing a bin joins, in path order, so a bin's
  -- entries are one run of the index. In node:sqlite at 1,000,000 targets
  -- (npm run bench:targets-layout) a bin is read in 0.17x the time, a target
  -- written in 1.2x, for about 200 bytes more per target.
  DROP INDEX targets_by_bin;
  CREATE INDEX targets_by_bin ON targets (bin, path, entry_canonical, entry_json);
  `,
  /* 27: a plain target's entry written by SQLite from its row, not kept (derived-entry.ts) */ `
  -- Migration 26's index held each entry, which repeats the row's path and
  -- hashes: 594 bytes per target at 1,000,000 targets against 367 before it
  -- (npm run bench:targets-layout). A row whose entry is exactly
  -- '"path":{"hashes":hashes,"length":length}' now keeps '' instead, and the
  -- index holds the columns that entry is written from: a bin is still one
  -- run of the index, and a new target takes the bytes it took before 26.
  -- Only the index is rebuilt here (one CREATE INDEX, as in 26): rows written
  -- before keep their entries, read the same (ENTRY_CANONICAL), until their
  -- target changes. Rewriting them here as well took 5.0 s against 3.0 s
  -- for the index alone at 1,000,000 rows in Node's SQLite, and the
  -- constructor's time grows with the repository (the platform resets an
  -- object whose constructor runs 30 s).
  DROP INDEX targets_by_bin;
  CREATE INDEX targets_by_bin ON targets (bin, path, length, hashes, entry_canonical, entry_json);
  `,
  /* 28: the roles changed or claimed, in a table of their own (role-changes.ts) */ `
  -- A role's mark (changed, claimed by the round under way) and the change
  -- that set it were columns of its row in roles, whose 16,386 rows fill
  -- about a thousand pages at 16,384 bins. Marking the bins a group of pushes
  -- changed, and a round claiming, reserving and recording them, each rewrote
  -- about a page per bin, and every page a transaction changes is written
  -- again at its commit. Only the roles changed or claimed have a row here,
  -- a few pages in all; a role without one is not changed, and its seq no
  -- longer matters (a round compares the seq of the roles it claimed).
  CREATE TABLE role_changes (
    name TEXT PRIMARY KEY,
    dirty INTEGER NOT NULL CHECK (dirty IN (1, 2)), -- 1 changed, 2 claimed by the round under way
    seq INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- The claimed roles in name order (a round signs them in that order).
  CREATE INDEX role_changes_by_mark ON role_changes (dirty, name);
  INSERT INTO role_changes (name, dirty, seq) SELECT name, dirty, seq FROM roles WHERE dirty > 0;
  DROP INDEX roles_changed;
  ALTER TABLE roles DROP COLUMN dirty;
  ALTER TABLE roles DROP COLUMN seq;
  `,
  /* 29: the versions reserved and staged, in a table of their own (role-table.ts) */ `
  -- A round reserved each role's version, recorded its stored file and made
  -- it current in three transactions, each rewriting the role's row of roles
  -- (16,386 rows, about a thousand pages at 16,384 bins): about a page per
  -- bin each time. Here a version is reserved and staged in a row of its own,
  -- among the few of the round under way, and roles is written once, when
  -- the version becomes current (npm run bench:round-writes: 0.66 pages and
  -- 13.4 us per file a round signs, against 1.48 and 26.0 in roles).
  --   allocated: the version reserved, never reused (roles.allocated keeps
  --     the highest made current or reserved before, its lower bound)
  --   staged_*: the file stored at it, waiting for the snapshot that lists it
  --     (NULL while only reserved: a step that failed, an offline draft)
  CREATE TABLE reserved_versions (
    name TEXT PRIMARY KEY,
    allocated INTEGER NOT NULL,
    staged_version INTEGER,
    staged_expires TEXT,
    staged_length INTEGER,
    staged_sha256 TEXT,
    staged_pack_slice INTEGER
  ) WITHOUT ROWID;
  INSERT INTO reserved_versions (name, allocated, staged_version, staged_expires, staged_length, staged_sha256,
      staged_pack_slice)
    SELECT name, allocated, staged_version, staged_expires, staged_length, staged_sha256, staged_pack_slice
    FROM roles WHERE staged_version IS NOT NULL;
  DROP INDEX roles_staged;
  ALTER TABLE roles DROP COLUMN staged_version;
  ALTER TABLE roles DROP COLUMN staged_expires;
  ALTER TABLE roles DROP COLUMN staged_length;
  ALTER TABLE roles DROP COLUMN staged_sha256;
  ALTER TABLE roles DROP COLUMN staged_pack_slice;
  `,
];
