/*
 * schema.c — the store's schema as a list of migrations. Migration i (from 0)
 * brings PRAGMA user_version from i to i+1, in one transaction. Append new
 * steps at the end; never edit one that has shipped.
 */
#include "store_int.h"

const struct store_migration store_migrations[] = {
	{ "foundation: calls, versions, payloads, quarantine, FTS5",
		"CREATE TABLE raw_payloads("
		"  id INTEGER PRIMARY KEY,"
		"  sha256 TEXT NOT NULL UNIQUE,"
		"  source TEXT NOT NULL,"
		"  received_at INTEGER NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  bytes BLOB,"   /* NULL when withheld */
		"  withheld TEXT" /* why bytes are not kept */
		");"
		"CREATE TABLE calls("
		"  rid INTEGER PRIMARY KEY,"
		"  id TEXT NOT NULL UNIQUE,"
		"  location_id TEXT,"
		"  agent_id TEXT,"
		"  contact_id TEXT,"
		"  from_number TEXT,"
		"  from_e164 TEXT,"
		"  message_id TEXT,"
		"  created_at INTEGER NOT NULL," /* epoch ms UTC */
		"  duration REAL,"
		"  trial_call INTEGER,"
		"  agent_deleted INTEGER,"
		"  transferred INTEGER NOT NULL DEFAULT 0,"
		"  appointment_booked INTEGER NOT NULL DEFAULT 0,"
		"  action_types TEXT,"
		"  summary TEXT,"
		"  transcript TEXT,"
		"  version_id INTEGER NOT NULL," /* current version */
		"  canonical_sha256 TEXT NOT NULL,"
		"  n_versions INTEGER NOT NULL,"
		"  first_seen INTEGER NOT NULL,"
		"  last_seen INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		");"
		"CREATE INDEX calls_created ON calls(created_at);"
		"CREATE INDEX calls_location ON calls(location_id, created_at);"
		"CREATE INDEX calls_contact ON calls(contact_id);"
		"CREATE INDEX calls_agent ON calls(agent_id);"
		"CREATE INDEX calls_from ON calls(from_e164);"
		"CREATE INDEX calls_version ON calls(version_id);"
		"CREATE TABLE versions("
		/* AUTOINCREMENT: ids never come back after a purge, so export
	   * cursors and archive coverage (max version id) stay monotonic */
		"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
		"  call_id TEXT NOT NULL,"
		"  seq INTEGER NOT NULL,"
		"  source TEXT NOT NULL"
		"    CHECK (source IN ('api','webhook','import','restore')),"
		"  received_at INTEGER NOT NULL,"
		"  canonical TEXT NOT NULL,"
		"  canonical_sha256 TEXT NOT NULL,"
		"  raw_sha256 TEXT NOT NULL,"
		"  redacted INTEGER NOT NULL DEFAULT 0,"
		"  UNIQUE(call_id, seq)"
		");"
		"CREATE TABLE quarantine("
		"  id INTEGER PRIMARY KEY,"
		"  source TEXT NOT NULL,"
		"  received_at INTEGER NOT NULL,"
		"  reason TEXT NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  raw_sha256 TEXT NOT NULL,"
		"  raw BLOB NOT NULL,"
		"  UNIQUE(raw_sha256, reason)" /* the same rejection is kept once */
		");"
		"CREATE TABLE agents("
		"  location_id TEXT NOT NULL,"
		"  id TEXT NOT NULL,"
		"  name TEXT,"
		"  deleted INTEGER NOT NULL DEFAULT 0,"
		"  updated_at INTEGER NOT NULL,"
		"  PRIMARY KEY(location_id, id)"
		") WITHOUT ROWID;"
		"CREATE INDEX agents_id ON agents(id);"
		"CREATE TABLE webhook_events("
		"  id INTEGER PRIMARY KEY,"
		"  dedup_key TEXT NOT NULL UNIQUE," /* webhookId, else sha256:… */
		"  type TEXT,"
		"  call_id TEXT,"
		"  message_id TEXT,"
		"  location_id TEXT,"
		"  received_at INTEGER NOT NULL,"
		"  body_sha256 TEXT NOT NULL,"
		"  body BLOB NOT NULL,"
		"  signature TEXT" /* which scheme verified it */
		");"
		"CREATE INDEX webhook_events_call ON webhook_events(call_id);"
		"CREATE INDEX webhook_events_message ON webhook_events(message_id);"
		/* calls a webhook announced, to fetch in the API's shape too */
		"CREATE TABLE fetch_queue("
		"  call_id TEXT PRIMARY KEY,"
		"  location_id TEXT NOT NULL,"
		"  queued_at INTEGER NOT NULL,"
		"  attempts INTEGER NOT NULL DEFAULT 0,"
		"  last_error TEXT"
		") WITHOUT ROWID;"
		/* append-only, hash-chained: see store_audit.h */
		"CREATE TABLE audit("
		"  id INTEGER PRIMARY KEY,"
		"  ts INTEGER NOT NULL,"
		"  actor TEXT NOT NULL,"
		"  command TEXT NOT NULL,"
		"  detail TEXT NOT NULL,"
		"  result_count INTEGER NOT NULL,"
		"  prev_hash TEXT NOT NULL,"
		"  hash TEXT NOT NULL"
		");"
		"CREATE INDEX audit_ts ON audit(ts);"
		/* the transcript is split by speaker so bot:/human: can scope */
		"CREATE VIRTUAL TABLE calls_fts USING fts5("
		"  summary, bot, human, other,"
		"  tokenize = 'porter unicode61 remove_diacritics 2');"
		/* flush pending terms in 8 MiB runs, not 1 MiB: fewer level-0
	   * segments to merge during bulk loads */
		"INSERT INTO calls_fts(calls_fts, rank) VALUES('hashsize', 8388608);"
		/* digits of number-like spans, for fragments such as last four */
		"CREATE VIRTUAL TABLE calls_digits USING fts5("
		"  digits, tokenize = 'trigram');" },
	{ "webhook events: outcome, where the body is kept",
		/* what a delivery did ("call new", "quarantined", …); whether its
	   * body was withheld because it held secrets (hash kept); whether
	   * the body is kept once, in raw_payloads under body_sha256 (a call
	   * end that made a new version), instead of in this row */
		"ALTER TABLE webhook_events ADD COLUMN outcome TEXT;"
		"ALTER TABLE webhook_events ADD COLUMN withheld INTEGER NOT NULL"
		"  DEFAULT 0;"
		"ALTER TABLE webhook_events ADD COLUMN body_in_payloads INTEGER"
		"  NOT NULL DEFAULT 0;" },
	{ "export cursors: what `export --since-last NAME` has delivered",
		"CREATE TABLE export_cursors("
		"  name TEXT PRIMARY KEY,"
		"  version_id INTEGER NOT NULL," /* highest calls.version_id out */
		"  updated_at INTEGER NOT NULL,"
		"  last_rows INTEGER NOT NULL"
		") WITHOUT ROWID;" },
	{ "search: per-agent/contact/number indexes that also give time order",
		/* a filter-driven search walks one agent's (contact's, number's)
	   * calls newest first without sorting them all */
		"CREATE INDEX calls_agent_created ON calls(agent_id, created_at);"
		"CREATE INDEX calls_contact_created ON calls(contact_id, created_at);"
		"CREATE INDEX calls_from_created ON calls(from_e164, created_at);"
		"DROP INDEX calls_agent;"
		"DROP INDEX calls_contact;"
		"DROP INDEX calls_from;" },
	{ "retention: archives, legal holds, retention policies",
		"CREATE TABLE archives("
		"  id INTEGER PRIMARY KEY,"
		"  location_id TEXT NOT NULL," /* '' for calls without one */
		"  month TEXT NOT NULL,"       /* YYYY-MM, UTC */
		"  seq INTEGER NOT NULL," /* 0 = the month, N = supplement */
		"  chain_index INTEGER NOT NULL," /* per location, from 0 */
		"  path TEXT NOT NULL,"
		"  sha256 TEXT NOT NULL," /* of the .tar.zst file */
		"  tagmanifest_sha256 TEXT NOT NULL,"
		"  prev_tagmanifest_sha256 TEXT,"
		"  n_calls INTEGER NOT NULL,"
		"  n_versions INTEGER NOT NULL,"
		"  n_events INTEGER NOT NULL,"
		"  payload_bytes INTEGER NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  max_version_id INTEGER NOT NULL,"
		"  written_at INTEGER NOT NULL,"
		"  verified_at INTEGER,"
		"  UNIQUE(location_id, month, seq)"
		");"
		/* which call, up to which version, each archive holds */
		"CREATE TABLE archive_calls("
		"  call_id TEXT NOT NULL,"
		"  archive_id INTEGER NOT NULL REFERENCES archives(id),"
		"  version_id INTEGER NOT NULL,"
		"  PRIMARY KEY(call_id, archive_id)"
		") WITHOUT ROWID;"
		"CREATE TABLE holds("
		"  id INTEGER PRIMARY KEY,"
		"  matter TEXT NOT NULL,"
		"  reason TEXT,"
		"  contact_id TEXT," /* criteria: NULL = any */
		"  from_e164 TEXT,"
		"  agent_id TEXT,"
		"  location_id TEXT,"
		"  from_ms INTEGER," /* created_at >= from_ms */
		"  to_ms INTEGER,"   /* created_at < to_ms */
		"  created_at INTEGER NOT NULL,"
		"  created_by TEXT NOT NULL,"
		"  released_at INTEGER,"
		"  released_by TEXT,"
		"  release_reason TEXT"
		");"
		/* a hold naming calls holds only those (and its other criteria) */
		"CREATE TABLE hold_calls("
		"  hold_id INTEGER NOT NULL REFERENCES holds(id),"
		"  call_id TEXT NOT NULL,"
		"  PRIMARY KEY(hold_id, call_id)"
		") WITHOUT ROWID;"
		"CREATE INDEX hold_calls_call ON hold_calls(call_id);"
		"CREATE TABLE retention_policies("
		"  location_id TEXT PRIMARY KEY," /* '' = the default */
		"  keep_months INTEGER NOT NULL CHECK (keep_months >= 0),"
		"  set_at INTEGER NOT NULL,"
		"  set_by TEXT NOT NULL"
		") WITHOUT ROWID;"
		/* the original source of a version loaded back by restore */
		"ALTER TABLE versions ADD COLUMN origin TEXT;"
		"CREATE INDEX versions_raw ON versions(raw_sha256);" },
	{ "sync: API locations and their checkpoints",
		/* one row per HighLevel location callvault pulls from; the
	   * secrets live in files under secrets_dir, never here */
		"CREATE TABLE locations("
		"  id TEXT PRIMARY KEY,"
		"  auth TEXT NOT NULL CHECK (auth IN ('pit','oauth')),"
		"  api_base TEXT NOT NULL,"
		"  api_version TEXT NOT NULL,"
		"  client_id TEXT,"
		"  secrets_dir TEXT NOT NULL,"
		"  added_at INTEGER NOT NULL,"
		"  updated_at INTEGER NOT NULL"
		") WITHOUT ROWID;"
		/* checkpoint_ms: every call created before it is stored */
		"CREATE TABLE sync_state("
		"  location_id TEXT PRIMARY KEY,"
		"  checkpoint_ms INTEGER,"
		"  last_run_at INTEGER,"
		"  last_ok_at INTEGER,"
		"  last_error TEXT,"
		"  requests INTEGER NOT NULL DEFAULT 0"
		") WITHOUT ROWID;" },
	{ "console users, sessions, failed logins, API tokens (issue 7)",
		"CREATE TABLE users("
		"  name TEXT PRIMARY KEY,"
		"  role TEXT NOT NULL CHECK (role IN"
		"    ('viewer','exporter','hold-admin','admin')),"
		"  pw_hash TEXT NOT NULL," /* pbkdf2-sha256$iter$salt$key */
		"  disabled INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL"
		") WITHOUT ROWID;"
		/* only the SHA-256 of the cookie value is kept */
		"CREATE TABLE sessions("
		"  id_hash TEXT PRIMARY KEY,"
		"  user TEXT NOT NULL,"
		"  csrf TEXT NOT NULL,"
		"  created_at INTEGER NOT NULL,"
		"  last_seen INTEGER NOT NULL"
		") WITHOUT ROWID;"
		"CREATE INDEX sessions_user ON sessions(user);"
		"CREATE TABLE login_failures("
		"  key TEXT NOT NULL," /* user:NAME or addr:IP */
		"  ts INTEGER NOT NULL"
		");"
		"CREATE INDEX login_failures_key ON login_failures(key, ts);"
		"CREATE TABLE api_tokens("
		"  user TEXT PRIMARY KEY,"
		"  token_hash TEXT NOT NULL UNIQUE,"
		"  created_at INTEGER NOT NULL"
		") WITHOUT ROWID;" },
	/* store_terms.c: the index's words, so that a prefix query is an OR
	 * of terms instead of FTS5's merge of every matching doclist. Filled
	 * from the index once here (a pass over it: seconds on a million
	 * calls), then by every ingest. */
	{ "search: the full-text index's term list, for prefix queries",
		"CREATE TABLE fts_terms(term TEXT PRIMARY KEY) WITHOUT ROWID;"
		"CREATE VIRTUAL TABLE temp.cv_terms_migrate USING"
		"  fts5vocab(main, calls_fts, row);"
		"INSERT INTO fts_terms SELECT term FROM temp.cv_terms_migrate"
		"  WHERE term NOT GLOB '[0-9]*';"
		"DROP TABLE temp.cv_terms_migrate;" },
	/* calllog.h: a record is kept whenever it can be identified; what
	 * of it could not be read into the typed columns is noted here */
	{ "versions: notes on fields that could not be read",
		"ALTER TABLE versions ADD COLUMN notes TEXT;" },
	/* sync.c: a location whose call logs synced can still have lost
	 * something auxiliary (agent names: a missing scope) */
	{ "sync_state: the last run's warning",
		"ALTER TABLE sync_state ADD COLUMN last_warning TEXT;" },
	/* issue 18: how each version was authenticated, which sources may
	 * create calls per location, and what purge disposed of */
	{ "trust by source, tombstones of disposed calls",
		/* ed25519, rsa-legacy, hmac, header-secret, api, import; NULL
	   * for a webhook version whose scheme was never recorded. The
	   * webhook ones are filled from the events that made them. */
		"ALTER TABLE versions ADD COLUMN auth TEXT;"
		/* why a version never became current ("lower trust than …") */
		"ALTER TABLE versions ADD COLUMN not_current TEXT;"
		"UPDATE versions SET auth = CASE source"
		"  WHEN 'api' THEN 'api' WHEN 'import' THEN 'import'"
		"  WHEN 'webhook' THEN (SELECT e.signature FROM webhook_events e"
		/* by call_id first: that one is indexed */
		"    WHERE e.call_id = versions.call_id"
		"    AND e.body_sha256 = versions.raw_sha256"
		"    AND e.signature IN ('ed25519','rsa-legacy','hmac',"
		"     'header-secret') ORDER BY e.id LIMIT 1)"
		"  WHEN 'restore' THEN CASE origin WHEN 'api' THEN 'api'"
		"    WHEN 'import' THEN 'import' END END;"
		/* allow_create: comma-separated auth names; '' location = the
	   * default for locations without a row of their own */
		"CREATE TABLE trust_policies("
		"  location_id TEXT PRIMARY KEY,"
		"  allow_create TEXT NOT NULL,"
		"  set_at INTEGER NOT NULL,"
		"  set_by TEXT NOT NULL"
		") WITHOUT ROWID;"
		/* one per disposed call: ids and when, never content */
		"CREATE TABLE tombstones("
		"  call_id TEXT PRIMARY KEY,"
		"  location_id TEXT,"
		"  message_id TEXT,"
		"  disposed_at INTEGER NOT NULL,"
		"  reason TEXT NOT NULL"
		") WITHOUT ROWID;"
		"CREATE INDEX tombstones_message ON tombstones(message_id)"
		"  WHERE message_id IS NOT NULL;"
		"CREATE INDEX quarantine_received ON quarantine(received_at);"
		/* store-wide trust settings: webhook_max_age_ms (0 = off) */
		"CREATE TABLE trust_settings("
		"  key TEXT PRIMARY KEY,"
		"  value INTEGER NOT NULL,"
		"  set_at INTEGER NOT NULL,"
		"  set_by TEXT NOT NULL"
		") WITHOUT ROWID;" },
	{ "retention: publish intents and the tag files of each archive",
		/* an archive about to become visible (renamed into place): the
	   * next archive run rolls back one whose writer died before
	   * recording it (issue 22) */
		"CREATE TABLE archive_intents("
		"  path TEXT PRIMARY KEY,"
		"  sha256 TEXT NOT NULL,"
		"  pid INTEGER NOT NULL,"
		"  created_at INTEGER NOT NULL"
		") WITHOUT ROWID;"
		/* bag-info.txt as written, so that archive --rebuild can write
	   * the same bag (same tag manifest, chain intact) */
		"CREATE TABLE archive_baginfo("
		"  archive_id INTEGER PRIMARY KEY REFERENCES archives(id),"
		"  bag_info BLOB NOT NULL"
		");" },
	/* issue 18: a hold placed from a search keeps that search */
	{ "holds: the search that chose a hold's calls",
		"ALTER TABLE holds ADD COLUMN chosen_by TEXT;" },
	/* issue 23: who ran a command, as the operating system knows it,
	 * beside the actor it claims to act for (--actor). NULL for the
	 * entries written before, and for entries no OS user is recorded
	 * for; an entry with one is hashed with it (store_audit.h). */
	{ "audit: the operating-system user of each entry",
		"ALTER TABLE audit ADD COLUMN os_user TEXT;" },
	/* issue 20: call recordings. The audio lives in the blob store
	 * (src/blob.h), named by its SHA-256; a row here says which call's
	 * message it is and how it came. A call finds its recordings by
	 * its messageId (calls.message_id), so a recording fetched for a
	 * message webhook before its call log arrived still belongs. */
	{ "recordings: audio, timed transcriptions and what is still to fetch",
		"CREATE TABLE recordings("
		"  id INTEGER PRIMARY KEY,"
		"  message_id TEXT NOT NULL,"
		"  location_id TEXT NOT NULL,"
		"  sha256 TEXT NOT NULL," /* of the bytes as received */
		"  size INTEGER NOT NULL,"
		"  content_type TEXT NOT NULL,"
		"  duration_ms INTEGER," /* from the WAV header */
		"  sample_rate INTEGER,"
		"  channels INTEGER,"
		"  fetched_at INTEGER NOT NULL," /* epoch ms */
		"  source TEXT NOT NULL,"        /* api, restore */
		"  UNIQUE(message_id, sha256)"
		");"
		"CREATE INDEX recordings_sha ON recordings(sha256);"
		/* the sentence-timed transcription, as received (JSON); every
	   * distinct body is kept */
		"CREATE TABLE transcriptions("
		"  id INTEGER PRIMARY KEY,"
		"  message_id TEXT NOT NULL,"
		"  location_id TEXT NOT NULL,"
		"  sha256 TEXT NOT NULL,"
		"  body BLOB NOT NULL,"
		"  fetched_at INTEGER NOT NULL,"
		"  source TEXT NOT NULL,"
		"  UNIQUE(message_id, sha256)"
		");"
		/* what is still to fetch, and when to try again: kind is
	   * 'recording' or 'transcription'; state pending, done, missing
	   * (gave up after the retry window), denied (scope) */
		"CREATE TABLE media_fetch("
		"  message_id TEXT NOT NULL,"
		"  kind TEXT NOT NULL,"
		"  location_id TEXT NOT NULL,"
		"  state TEXT NOT NULL DEFAULT 'pending',"
		"  attempts INTEGER NOT NULL DEFAULT 0,"
		"  first_seen INTEGER NOT NULL,"
		"  next_at INTEGER NOT NULL,"
		"  last_error TEXT,"
		"  PRIMARY KEY(message_id, kind)"
		") WITHOUT ROWID;"
		"CREATE INDEX media_fetch_due ON media_fetch(state, next_at);"
		"CREATE INDEX calls_message ON calls(message_id);" },
	/* issue 23: a user holds a set of permissions (roles.h); the four
	 * roles become presets, and each stored role keeps what it could
	 * do. role is now a label: a preset's name, or "custom". A hold is
	 * released by a hold-admin of its matter: user_matters says whose
	 * matters are whose. */
	{ "users: permission sets instead of four roles; users' matters",
		"CREATE TABLE users_perm("
		"  name TEXT PRIMARY KEY,"
		"  role TEXT NOT NULL,"
		"  permissions TEXT NOT NULL,"
		"  pw_hash TEXT NOT NULL,"
		"  disabled INTEGER NOT NULL DEFAULT 0,"
		"  created_at INTEGER NOT NULL"
		") WITHOUT ROWID;"
		"INSERT INTO users_perm SELECT name, role, CASE role"
		"  WHEN 'viewer' THEN 'search'"
		"  WHEN 'exporter' THEN 'search,export'"
		"  WHEN 'hold-admin' THEN 'search,export,hold-place,hold-release'"
		"  WHEN 'admin' THEN 'search,export,hold-place,hold-release,"
		"audit-read,user-admin'"
		"  ELSE 'none' END, pw_hash, disabled, created_at FROM users;"
		"DROP TABLE users;"
		"ALTER TABLE users_perm RENAME TO users;"
		"CREATE TABLE user_matters("
		"  user TEXT NOT NULL,"
		"  matter TEXT NOT NULL,"
		"  PRIMARY KEY (user, matter)"
		") WITHOUT ROWID;" },
	/* issue 23: the client address of a console entry (the real one,
	 * behind trusted proxies); NULL for the entries written before and
	 * for the command line's. An entry with one is hashed with it
	 * (version 3, store_audit.h), so old entries verify as before. */
	{ "audit: the client address of each console entry",
		"ALTER TABLE audit ADD COLUMN client TEXT;" },
	/* issue 23: store-wide settings; `timezone` is the zone every
	 * command, serve and the console read and show times in */
	{ "settings: store-wide settings (timezone)",
		"CREATE TABLE settings("
		"  key TEXT PRIMARY KEY,"
		"  value TEXT NOT NULL,"
		"  set_at INTEGER NOT NULL,"
		"  set_by TEXT NOT NULL"
		") WITHOUT ROWID;" },
	/* issue 23: an erasure's tombstones keep an HMAC of the person's
	 * identifier under a key kept outside the store (subject_key.h),
	 * never the identifier */
	{ "tombstones: the keyed hash of an erased person's identifier",
		"ALTER TABLE tombstones ADD COLUMN subject_hmac TEXT;"
		"CREATE INDEX tombstones_subject ON tombstones(subject_hmac)"
		"  WHERE subject_hmac IS NOT NULL;" },
	/* issue 20: which recordings and transcriptions each archive holds
	 * (by message, kind and SHA-256: a restore re-numbers the rows but
	 * not the bytes), for supplements, --rebuild and purge */
	{ "archive_media: the media each archive holds",
		"CREATE TABLE archive_media("
		"  archive_id INTEGER NOT NULL REFERENCES archives(id),"
		"  message_id TEXT NOT NULL,"
		"  kind TEXT NOT NULL," /* recording, transcription */
		"  sha256 TEXT NOT NULL,"
		"  PRIMARY KEY(message_id, kind, sha256, archive_id)"
		") WITHOUT ROWID;" },
	/* issue 21: the files that seal a bag's tag manifest (its
	 * detached signature, an RFC 3161 timestamp token), kept so that
	 * archive --rebuild writes the same seal, not a new one */
	{ "retention: the signature and timestamp of each archive",
		"CREATE TABLE archive_tagfiles("
		"  archive_id INTEGER NOT NULL REFERENCES archives(id),"
		"  name TEXT NOT NULL,"
		"  content BLOB NOT NULL,"
		"  PRIMARY KEY(archive_id, name)"
		") WITHOUT ROWID;" },
	/* issue 24: S3 archive targets (key files by path only) and, per
	 * archive written to one, the object version and its lock state */
	{ "storage: S3 targets and remote archive copies",
		"CREATE TABLE storage_targets("
		"  name TEXT PRIMARY KEY,"
		"  endpoint TEXT NOT NULL,"
		"  bucket TEXT NOT NULL,"
		"  prefix TEXT NOT NULL,"
		"  region TEXT NOT NULL,"
		"  path_style INTEGER NOT NULL,"
		"  access_key_file TEXT NOT NULL,"
		"  secret_key_file TEXT NOT NULL,"
		"  lock_mode TEXT NOT NULL," /* COMPLIANCE or GOVERNANCE */
		"  is_default INTEGER NOT NULL,"
		"  added_at INTEGER NOT NULL,"
		"  added_by TEXT NOT NULL"
		") WITHOUT ROWID;"
		"CREATE TABLE archive_remote("
		"  archive_id INTEGER PRIMARY KEY REFERENCES archives(id),"
		"  target TEXT NOT NULL,"
		"  url TEXT NOT NULL UNIQUE," /* s3://bucket/key */
		"  key TEXT NOT NULL,"
		"  version_id TEXT NOT NULL,"
		"  etag TEXT NOT NULL,"
		"  sha256 TEXT NOT NULL,"
		"  lock_mode TEXT NOT NULL,"
		"  retain_until INTEGER NOT NULL," /* epoch ms */
		"  legal_hold INTEGER NOT NULL,"
		"  checked_at INTEGER" /* last verify from the target */
		");" },
	/* issue 21: a query hold keeps its search (query, and the filters
	 * as "key=value" lines) and holds every call it matches, now or
	 * later (store_hold_query.c) */
	{ "holds: query holds",
		"ALTER TABLE holds ADD COLUMN query TEXT;"
		"ALTER TABLE holds ADD COLUMN query_filters TEXT;" },
	/* issue 22: an entry whose hash is an HMAC with the audit key
	 * (version 4, store_audit.h); NULL = a plain SHA-256 as before, so
	 * old entries verify unchanged */
	{ "audit: keyed entry hashes",
		"ALTER TABLE audit ADD COLUMN keyed INTEGER;" },
	/* issue 22: verify --deep gathers what an archive recorded (its
	 * calls, the hash of each of their versions) from these indexes
	 * alone, in one walk, instead of reading every call's version
	 * rows (~1.4 KB each) and scanning all archives' calls
	 * (store_deep.c) */
	{ "verify --deep: archive_calls by archive, versions by hash",
		"CREATE INDEX archive_calls_archive"
		"  ON archive_calls(archive_id, call_id, version_id);"
		"CREATE INDEX versions_call_sha ON versions(call_id,"
		"  canonical_sha256);" },
	/* issue 24: recordings in the S3 target under content-addressed
	 * keys (PREFIX/blobs/sha256/<hash>), one locked version each */
	{ "storage: recordings in S3 targets",
		"CREATE TABLE remote_blobs("
		"  target TEXT NOT NULL,"
		"  sha256 TEXT NOT NULL,"
		"  key TEXT NOT NULL,"
		"  version_id TEXT NOT NULL,"
		"  size INTEGER NOT NULL,"
		"  lock_mode TEXT NOT NULL,"
		"  retain_until INTEGER NOT NULL," /* epoch ms */
		"  legal_hold INTEGER NOT NULL,"
		"  checked_at INTEGER," /* last verify from the target */
		"  PRIMARY KEY(target, sha256)"
		") WITHOUT ROWID;"
		"CREATE INDEX remote_blobs_sha ON remote_blobs(sha256);" },
	/* issue 25: what the API said it held for the last sync's range,
	 * for "calls behind" (store_status.c): the first page's total of
	 * the range [listed_from, listed_to], as of listed_at; NULL when
	 * the server gave no total or one that ignores the date filter */
	{ "sync_state: the API's total for the last range listed",
		"ALTER TABLE sync_state ADD COLUMN listed_from INTEGER;"
		"ALTER TABLE sync_state ADD COLUMN listed_to INTEGER;"
		"ALTER TABLE sync_state ADD COLUMN listed_total INTEGER;"
		"ALTER TABLE sync_state ADD COLUMN listed_at INTEGER;" },
	/* issue 25: a search filtered by --action, --min/--max-duration or
	 * --trial walks the calls newest first (store_search_probe) and
	 * read each call's row for those columns: a page per call, since a
	 * row holds its transcript. This index holds them in time order
	 * (rid too, so that ORDER BY created_at, rid needs no sort) and
	 * replaces the one on created_at alone, of which it is a prefix. */
	{ "calls: the time index covers the search filters",
		"CREATE INDEX calls_time_filters ON calls(created_at, rid,"
		"  duration, trial_call, action_types);"
		"DROP INDEX calls_created;" },
};

const int store_n_migrations = (int)CV_ARRAY_LEN(store_migrations);
