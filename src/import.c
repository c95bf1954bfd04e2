/*
 * import.c — see import.h. Two threads: a reader parses lines (JSON,
 * validation, scrubbing, canonical form, hashes) while the caller's thread
 * writes to the store. A bounded queue between them keeps memory flat.
 */
#include "import.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define OVERSIZE_KEEP (1024u * 1024)
#define QUEUE_SLOTS 256

struct line_reader {
	FILE *f;
	struct buf line;
	size_t total; /* bytes of the current line, kept or not */
	bool oversize;
	int64_t lineno;
};

/* One parsed line on its way to the store. */
struct item {
	char *bytes;
	size_t len;
	struct store_payload payload;
	struct calllog_batch batch;
	char *reason; /* the payload as a whole is unusable */
};

struct queue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct item slots[QUEUE_SLOTS];
	size_t head, count;
	struct item used[QUEUE_SLOTS]; /* stored: for the reader to free */
	size_t n_used;
	bool reader_waits; /* the reader sleeps on not_full */
	bool writer_waits; /* the writer sleeps on not_empty */
	bool done;         /* reader reached the end */
	bool stop;         /* writer gave up: reader must stop */
	int read_errno;
};

struct reader_arg {
	struct queue *q;
	FILE *f;
	const char *name;
	const struct import_opts *o;
};

/* Read one line (without '\n'); false at EOF. Oversized lines keep only
 * their first OVERSIZE_KEEP bytes. */
static bool read_line(struct line_reader *r)
{
	buf_reset(&r->line);
	r->total = 0;
	r->oversize = false;
	int c;
	bool any = false;
	char chunk[4096];
	size_t n = 0;
	while ((c = getc_unlocked(r->f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		r->total++;
		if (r->total > CALLLOG_MAX_PAYLOAD)
			r->oversize = true;
		if (r->line.len + n < OVERSIZE_KEEP || !r->oversize) {
			chunk[n++] = (char)c;
			if (n == sizeof(chunk)) {
				buf_append(&r->line, chunk, n);
				n = 0;
			}
		}
	}
	if (n)
		buf_append(&r->line, chunk, n);
	if (r->oversize && r->line.len > OVERSIZE_KEEP)
		r->line.len = OVERSIZE_KEEP;
	if (any)
		r->lineno++;
	return any;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r", s[i]))
			return false;
	return true;
}

static void item_finish(struct item *it)
{
	calllog_batch_finish(&it->batch);
	free(it->reason);
	free(it->bytes);
	memset(it, 0, sizeof(*it));
}

/* Parse a line into an item (on the reader thread). */
static void parse_line(struct line_reader *r, const struct reader_arg *a,
	struct item *it)
{
	memset(it, 0, sizeof(*it));
	it->len = r->line.len;
	it->bytes = buf_steal(&r->line);
	store_payload_init(&it->payload, a->o->source, it->bytes, it->len);
	/* a file proves nothing of how its records were authenticated,
	 * whatever --source labels them: trusted least (store_cred_rank) */
	it->payload.auth = CRED_IMPORT;
	if (r->oversize) {
		it->reason = xasprintf("%s line %lld: %zu bytes, over the "
				       "%u-byte bound (first %u bytes kept)",
			a->name, (long long)r->lineno, r->total,
			CALLLOG_MAX_PAYLOAD, OVERSIZE_KEEP);
		return;
	}
	if (calllog_parse_payload(it->bytes, it->len, a->o->location_hint,
		    &it->batch, &it->reason) != CV_OK &&
		!it->reason)
		it->reason = xstrdup("unparseable payload");
}

static void *reader_main(void *arg)
{
	struct reader_arg *a = arg;
	struct queue *q = a->q;
	struct line_reader r = { .f = a->f };
	buf_init(&r.line);
	/* Items the writer has stored come back here to be freed: the
	 * reader allocated them, so freeing them here keeps that work, and
	 * glibc's lock on this thread's arena, off the writer */
	struct item *trash = xcalloc(QUEUE_SLOTS, sizeof(*trash));
	for (;;) {
		if (!read_line(&r))
			break;
		if (!r.oversize &&
			blank(r.line.data ? r.line.data : "", r.line.len))
			continue;
		struct item it;
		parse_line(&r, a, &it);
		pthread_mutex_lock(&q->mu);
		while (q->count == QUEUE_SLOTS && !q->stop) {
			q->reader_waits = true;
			pthread_cond_wait(&q->not_full, &q->mu);
		}
		q->reader_waits = false;
		if (q->stop) {
			pthread_mutex_unlock(&q->mu);
			item_finish(&it);
			break;
		}
		q->slots[(q->head + q->count) % QUEUE_SLOTS] = it;
		q->count++;
		if (q->writer_waits)
			pthread_cond_signal(&q->not_empty);
		size_t n_trash = q->n_used;
		memcpy(trash, q->used, n_trash * sizeof(*trash));
		q->n_used = 0;
		pthread_mutex_unlock(&q->mu);
		for (size_t i = 0; i < n_trash; i++)
			item_finish(&trash[i]);
	}
	pthread_mutex_lock(&q->mu);
	if (ferror(a->f))
		q->read_errno = errno ? errno : EIO;
	q->done = true;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	buf_finish(&r.line);
	free(trash);
	return NULL;
}

/*
 * Hand back the stored item *done (NULL at first) and take the next one;
 * false when the reader is done and the queue empty. The reader frees
 * what is handed back; past QUEUE_SLOTS waiting (a reader that cannot
 * keep up) the writer frees it itself.
 * When the store is the bottleneck the queue stays full and the reader
 * sleeps; waking it for every slot freed cost a futex call and a context
 * switch per record (5 % of the writer's time), so it is woken only once
 * half the queue is free.
 */
static bool queue_next(struct queue *q, struct item *done, struct item *out)
{
	struct item spare; /* done may be out: keep it apart */
	bool keep = false;
	pthread_mutex_lock(&q->mu);
	if (done && q->n_used < QUEUE_SLOTS && !q->done)
		q->used[q->n_used++] = *done;
	else if (done)
		spare = *done, keep = true;
	while (q->count == 0 && !q->done) {
		q->writer_waits = true;
		pthread_cond_wait(&q->not_empty, &q->mu);
	}
	q->writer_waits = false;
	bool got = q->count > 0;
	if (got) {
		*out = q->slots[q->head];
		q->head = (q->head + 1) % QUEUE_SLOTS;
		q->count--;
		if (q->reader_waits && q->count <= QUEUE_SLOTS / 2)
			pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	if (keep)
		item_finish(&spare);
	return got;
}

static void queue_stop(struct queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

enum cv_err import_stream(struct store *s, FILE *f, const char *name,
	const struct import_opts *o, struct ingest_stats *st, char **errmsg)
{
	struct queue q = { .mu = PTHREAD_MUTEX_INITIALIZER,
		.not_empty = PTHREAD_COND_INITIALIZER,
		.not_full = PTHREAD_COND_INITIALIZER };
	struct reader_arg a = { .q = &q, .f = f, .name = name, .o = o };
	pthread_t reader;
	if (pthread_create(&reader, NULL, reader_main, &a) != 0)
		return cv_error(errmsg, CV_EIO, "cannot start reader thread");
	int batch = o->batch_records > 0 ? o->batch_records : 20000;
	int64_t in_batch = 0;
	int64_t t0 = cv_mono_ms(), last_progress = t0;
	enum cv_err rc = store_set_bulk(s, true, errmsg);
	if (rc == CV_OK)
		rc = store_begin(s, errmsg);
	struct item it;
	bool have = false; /* it holds an item not yet handed back */
	while (rc == CV_OK && queue_next(&q, have ? &it : NULL, &it)) {
		have = true;
		int64_t before = st->read;
		rc = ingest_parsed(s, &it.payload, &it.batch, it.reason, st,
			errmsg);
		in_batch += st->read - before;
		if (rc == CV_OK && in_batch >= batch) {
			rc = store_commit(s, errmsg);
			if (rc == CV_OK)
				rc = store_begin(s, errmsg);
			in_batch = 0;
		}
		int64_t now = cv_mono_ms();
		if (o->progress && now - last_progress >= 250) {
			last_progress = now;
			o->progress(st, (double)(now - t0) / 1000.0,
				o->progress_arg);
		}
	}
	if (rc != CV_OK && have)
		item_finish(&it);
	queue_stop(&q);
	pthread_join(reader, NULL);
	for (size_t i = 0; i < q.n_used; i++) /* handed back too late */
		item_finish(&q.used[i]);
	while (q.count > 0) { /* left behind after a failure */
		item_finish(&q.slots[q.head]);
		q.head = (q.head + 1) % QUEUE_SLOTS;
		q.count--;
	}
	if (rc == CV_OK && q.read_errno)
		rc = cv_error(errmsg, CV_EIO, "cannot read %s: %s", name,
			strerror(q.read_errno));
	if (rc == CV_OK) {
		rc = store_commit(s, errmsg);
		if (rc == CV_OK)
			rc = store_set_bulk(s, false, errmsg);
	} else {
		store_rollback(s);
		(void)!store_set_bulk(s, false, NULL);
	}
	if (o->progress)
		o->progress(st, (double)(cv_mono_ms() - t0) / 1000.0,
			o->progress_arg);
	return rc;
}
