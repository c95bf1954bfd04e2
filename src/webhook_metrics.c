/* webhook_metrics.c — see webhook_metrics.h */
#include "webhook_metrics.h"

static const unsigned statuses[WM_N_STATUS] = { 200, 400, 401, 404, 405,
	413, 415, 429, 500, 503, 0 /* any other */ };

/* Upper bounds of the commit latency histogram, microseconds. */
static const uint64_t bucket_us[WM_N_BUCKETS] = { 500, 1000, 2000, 5000,
	10000, 20000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000 };

void webhook_metrics_status(struct webhook_metrics *m, unsigned status)
{
	size_t i = 0;
	while (i < WM_N_STATUS - 1 && statuses[i] != status)
		i++;
	atomic_fetch_add(&m->requests[i], 1);
}

void webhook_metrics_commit(struct webhook_metrics *m, uint64_t us,
	size_t n)
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
		"stored.", &m->disposed);
	counter(out, "callvault_webhook_stale_total",
		"Bodies whose own timestamp is older than the replay window "
		"(recorded without the body).", &m->stale);
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
