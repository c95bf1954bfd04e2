/* webhook_metrics.c — see webhook_metrics.h */
#include "webhook_metrics.h"

#include <math.h>
#include <stdlib.h>

#include "store/store_audit.h"
#include "store/store_status.h"

static const unsigned statuses[WM_N_STATUS] = { 200, 400, 401, 404, 405, 413,
	415, 429, 500, 503, 0 /* any other */ };

/* Upper bounds of the commit latency histogram, microseconds. */
static const uint64_t bucket_us[WM_N_BUCKETS] = { 500, 1000, 2000, 5000, 10000,
	20000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000 };

void webhook_metrics_status(struct webhook_metrics *m, unsigned status)
{
	size_t i = 0;
	while (i < WM_N_STATUS - 1 && statuses[i] != status)
		i++;
	atomic_fetch_add(&m->requests[i], 1);
}

void webhook_metrics_commit(struct webhook_metrics *m, uint64_t us, size_t n)
{
	for (size_t i = 0; i < WM_N_BUCKETS; i++)
		if (us <= bucket_us[i])
			atomic_fetch_add(&m->commit_bucket[i], 1);
	atomic_fetch_add(&m->commit_count, 1);
	atomic_fetch_add(&m->commit_us_sum, us);
	atomic_fetch_add(&m->batch_events_sum, n);
}

static void counter(struct buf *out, const char *name, const char *help,
	atomic_uint_fast64_t *v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name,
		help, name, name, (unsigned long long)atomic_load(v));
}

void webhook_metrics_render(struct webhook_metrics *m, size_t queue_depth,
	int64_t wal_file_bytes, struct buf *out)
{
	buf_puts(out, "# HELP callvault_webhook_requests_total HTTP requests "
		      "answered, by status.\n"
		      "# TYPE callvault_webhook_requests_total counter\n");
	for (size_t i = 0; i < WM_N_STATUS; i++) {
		char code[16] = "other";
		if (statuses[i])
			snprintf(code, sizeof(code), "%u", statuses[i]);
		buf_printf(out,
			"callvault_webhook_requests_total{status=\"%s\"} "
			"%llu\n",
			code, (unsigned long long)atomic_load(&m->requests[i]));
	}
	counter(out, "callvault_webhook_events_stored_total",
		"Deliveries committed (not duplicates).", &m->events_stored);
	counter(out, "callvault_webhook_duplicates_total",
		"Deliveries already stored (answered 200, nothing changed).",
		&m->duplicates);
	counter(out, "callvault_webhook_quarantined_total",
		"Signed bodies that were not valid events.", &m->quarantined);
	counter(out, "callvault_webhook_disposed_total",
		"Call ends of calls disposed of (purged): dropped, not "
		"stored.",
		&m->disposed);
	counter(out, "callvault_webhook_stale_total",
		"Bodies whose own timestamp is older than the replay window "
		"(recorded without the body).",
		&m->stale);
	counter(out, "callvault_webhook_signature_failures_total",
		"Requests refused with 401.", &m->sig_failures);
	counter(out, "callvault_webhook_store_failures_total",
		"Group commits the store refused (answered 429).",
		&m->store_failures);
	buf_puts(out, "# HELP callvault_webhook_commit_seconds Group commit "
		      "latency (begin to fsynced commit).\n"
		      "# TYPE callvault_webhook_commit_seconds histogram\n");
	for (size_t i = 0; i < WM_N_BUCKETS; i++)
		buf_printf(out,
			"callvault_webhook_commit_seconds_bucket{le=\"%g\"} "
			"%llu\n",
			(double)bucket_us[i] / 1e6,
			(unsigned long long)atomic_load(&m->commit_bucket[i]));
	uint64_t count = atomic_load(&m->commit_count);
	buf_printf(out,
		"callvault_webhook_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
		"callvault_webhook_commit_seconds_sum %.6f\n"
		"callvault_webhook_commit_seconds_count %llu\n",
		(unsigned long long)count,
		(double)atomic_load(&m->commit_us_sum) / 1e6,
		(unsigned long long)count);
	counter(out, "callvault_webhook_batch_events_total",
		"Events in all group commits (divide by commit count for the "
		"mean batch).",
		&m->batch_events_sum);
	buf_printf(out,
		"# HELP callvault_webhook_wal_file_bytes Size of the store's "
		"write-ahead log file (-1: cannot be read).\n"
		"# TYPE callvault_webhook_wal_file_bytes gauge\n"
		"callvault_webhook_wal_file_bytes %lld\n",
		(long long)wal_file_bytes);
	buf_printf(out,
		"# HELP callvault_webhook_queue_depth Events waiting for the "
		"writer.\n# TYPE callvault_webhook_queue_depth gauge\n"
		"callvault_webhook_queue_depth %zu\n",
		queue_depth);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(struct buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(out, "\\%c", *v);
		else if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_printf(out, "%c", *v);
	}
}

static void help(struct buf *out, const char *name, const char *type,
	const char *text)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* One sample per location: name{location="…"} value; none for a
 * location whose value is unknown (NaN) */
static void per_location(struct buf *out, const struct store_status *st,
	const char *name, const char *text,
	double (*value)(const struct store_status_location *l))
{
	help(out, name, "gauge", text);
	for (size_t i = 0; i < st->n_locations; i++) {
		double v = value(&st->locations[i]);
		if (isnan(v))
			continue;
		buf_printf(out, "%s{location=\"", name);
		label(out, st->locations[i].id);
		buf_printf(out, "\"} %.17g\n", v);
	}
}

static double loc_calls(const struct store_status_location *l)
{
	return (double)l->calls;
}
static double loc_ok(const struct store_status_location *l)
{
	return (double)l->last_ok_at / 1000.0;
}
static double loc_run(const struct store_status_location *l)
{
	return (double)l->last_run_at / 1000.0;
}
static double loc_failed(const struct store_status_location *l)
{
	return l->last_error ? 1 : 0;
}
static double loc_queued(const struct store_status_location *l)
{
	return (double)l->queued;
}
static double loc_behind(const struct store_status_location *l)
{
	return l->behind >= 0 ? (double)l->behind : NAN;
}
static double loc_behind_at(const struct store_status_location *l)
{
	return l->behind_at > 0 ? (double)l->behind_at / 1000.0 : NAN;
}

static void per_month(struct buf *out, const struct store_status *st,
	const char *name, const char *text, int which)
{
	help(out, name, "gauge", text);
	for (size_t i = 0; i < st->n_archives; i++) {
		const struct store_status_archive *a = &st->archives[i];
		buf_printf(out, "%s{location=\"", name);
		label(out, a->location_id);
		buf_printf(out, "\",month=\"%s\"} ", a->month);
		if (which == 0)
			buf_printf(out, "%.3f\n", a->last_written_at / 1000.0);
		else if (which == 1)
			buf_printf(out, "%.3f\n", a->last_verified_at / 1000.0);
		else
			buf_printf(out, "%lld\n", (long long)a->unverified);
	}
}

static void render_status(const struct store_status *st, struct buf *out)
{
	int64_t now = cv_now_ms();
	help(out, "callvault_calls_stored", "gauge", "Calls in the store.");
	buf_printf(out, "callvault_calls_stored %lld\n", (long long)st->calls);
	help(out, "callvault_store_db_bytes", "gauge",
		"Size of the store's database file.");
	buf_printf(out, "callvault_store_db_bytes %lld\n",
		(long long)st->db_bytes);
	help(out, "callvault_fetch_queue_depth", "gauge",
		"Calls a webhook announced that sync has not fetched yet.");
	buf_printf(out, "callvault_fetch_queue_depth %lld\n",
		(long long)st->queue_depth);
	help(out, "callvault_fetch_queue_oldest_age_seconds", "gauge",
		"Age of the oldest fetch waiting (0 when none).");
	buf_printf(out, "callvault_fetch_queue_oldest_age_seconds %.3f\n",
		st->queue_oldest_at > 0 ? (now - st->queue_oldest_at) / 1000.0
					: 0.0);
	help(out, "callvault_fetch_queue_failing", "gauge",
		"Fetches waiting whose last attempt failed.");
	buf_printf(out, "callvault_fetch_queue_failing %lld\n",
		(long long)st->queue_failing);
	per_location(out, st, "callvault_location_calls_stored",
		"Calls stored per location.", loc_calls);
	per_location(out, st, "callvault_sync_last_success_timestamp_seconds",
		"When a sync of the location last succeeded (0: never).",
		loc_ok);
	per_location(out, st, "callvault_sync_last_run_timestamp_seconds",
		"When a sync of the location last ran (0: never).", loc_run);
	per_location(out, st, "callvault_sync_last_run_failed",
		"1 when the location's last sync failed.", loc_failed);
	per_location(out, st, "callvault_location_fetch_queue_depth",
		"Fetches waiting per location.", loc_queued);
	per_location(out, st, "callvault_location_calls_behind",
		"Calls the API held in the last sync's range that the store "
		"does not (none: no usable total yet).",
		loc_behind);
	per_location(out, st,
		"callvault_location_calls_behind_timestamp_seconds",
		"When the API reported the total behind calls_behind.",
		loc_behind_at);
	per_month(out, st, "callvault_archive_last_written_timestamp_seconds",
		"When the location-month's last bag was written.", 0);
	per_month(out, st, "callvault_archive_last_verified_timestamp_seconds",
		"When a bag of the location-month was last verified (0: "
		"never).",
		1);
	per_month(out, st, "callvault_archive_unverified",
		"Bags of the location-month never verified since written.", 2);
}

/* The audit chain's head, for an external system to record (issue
 * 22: `audit --verify --against` holds the log to recorded heads). */
static void render_audit_head(struct store *s, struct buf *out)
{
	int64_t id;
	char hash[CV_SHA256_HEX], *err = NULL;
	if (store_audit_head(s, &id, hash, &err) != CV_OK) {
		cv_warn("msg=\"metrics: audit head\" err=\"%s\"",
			err ? err : "?");
		free(err);
		return;
	}
	help(out, "callvault_audit_head_id", "gauge",
		"Id of the newest audit entry, the chain's head.");
	buf_printf(out, "callvault_audit_head_id %lld\n", (long long)id);
	help(out, "callvault_audit_head_info", "gauge",
		"The chain head's id and hash (labels), always 1.");
	buf_printf(out,
		"callvault_audit_head_info{id=\"%lld\",hash=\"%s\"} "
		"1\n",
		(long long)id, hash);
}

void webhook_metrics_render_store(const char *db_path, struct buf *out)
{
	struct store *s = NULL;
	struct store_status st;
	char *err = NULL;
	enum cv_err rc = store_open(&s, db_path, STORE_READONLY, &err);
	if (rc == CV_OK)
		rc = store_status_read(s, &st, &err);
	help(out, "callvault_status_up", "gauge",
		"1 when the store's status below could be read.");
	buf_printf(out, "callvault_status_up %d\n", rc == CV_OK);
	if (rc == CV_OK) {
		render_status(&st, out);
		render_audit_head(s, out);
	} else
		cv_warn("msg=\"metrics: store status\" err=\"%s\"",
			err ? err : cv_strerror(rc));
	if (s)
		store_status_finish(&st);
	free(err);
	store_close(s);
}
