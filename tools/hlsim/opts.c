/* opts.c — see opts.h */
#include "opts.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util.h"

enum {
	O_SEED = 256,
	O_LOCS,
	O_CALLS,
	O_AGENTS,
	O_CONTACTS,
	O_START,
	O_MONTHS,
	O_MUTATE,
	O_MUTATE_AFTER,
	O_ARRIVAL,
	O_BACKDATE,
	O_DUMP,
	O_DUMP_ONLY,
	O_PORT,
	O_PORT_FILE,
	O_INFO_FILE,
	O_PIT,
	O_CLIENT_ID,
	O_CLIENT_SECRET,
	O_TTL,
	O_BURST,
	O_WINDOW,
	O_DAILY,
	O_FAULT,
	O_QUIRK,
	O_QUIET,
	O_HELP,
	O_URL,
	O_KEY,
	O_KEY_OUT,
	O_KEY_OUT_PRIV,
	O_COUNT,
	O_INBOUND,
	O_DUPS,
	O_REORDER,
	O_BADSIG,
	O_RETRY_MS,
	O_MAX_RETRIES,
	O_SAVE_DIR,
	O_WEBHOOK_URL,
	O_WEBHOOK_DROP,
	O_PITS_FILE,
	O_LACK_SCOPE,
	O_RETRY_AFTER,
	O_DAILY_RESET,
	O_BARE_429,
	O_RL_GARBAGE,
	O_DAY_MS,
};

static const struct option longopts[] = {
	{ "seed", required_argument, NULL, O_SEED },
	{ "locations", required_argument, NULL, O_LOCS },
	{ "calls-per-location", required_argument, NULL, O_CALLS },
	{ "agents-per-location", required_argument, NULL, O_AGENTS },
	{ "contacts-per-location", required_argument, NULL, O_CONTACTS },
	{ "start", required_argument, NULL, O_START },
	{ "months", required_argument, NULL, O_MONTHS },
	{ "mutate-share", required_argument, NULL, O_MUTATE },
	{ "mutate-after-ms", required_argument, NULL, O_MUTATE_AFTER },
	{ "arrival-rate", required_argument, NULL, O_ARRIVAL },
	{ "arrival-backdate", required_argument, NULL, O_BACKDATE },
	{ "dump", required_argument, NULL, O_DUMP },
	{ "dump-only", no_argument, NULL, O_DUMP_ONLY },
	{ "port", required_argument, NULL, O_PORT },
	{ "port-file", required_argument, NULL, O_PORT_FILE },
	{ "info-file", required_argument, NULL, O_INFO_FILE },
	{ "pit", required_argument, NULL, O_PIT },
	{ "client-id", required_argument, NULL, O_CLIENT_ID },
	{ "client-secret", required_argument, NULL, O_CLIENT_SECRET },
	{ "token-ttl", required_argument, NULL, O_TTL },
	{ "burst", required_argument, NULL, O_BURST },
	{ "window-ms", required_argument, NULL, O_WINDOW },
	{ "daily", required_argument, NULL, O_DAILY },
	{ "fault", required_argument, NULL, O_FAULT },
	{ "quirk", required_argument, NULL, O_QUIRK },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "help", no_argument, NULL, O_HELP },
	{ "url", required_argument, NULL, O_URL },
	{ "key", required_argument, NULL, O_KEY },
	{ "key-out", required_argument, NULL, O_KEY_OUT },
	{ "key-out-private", required_argument, NULL, O_KEY_OUT_PRIV },
	{ "count", required_argument, NULL, O_COUNT },
	{ "inbound-share", required_argument, NULL, O_INBOUND },
	{ "duplicates", required_argument, NULL, O_DUPS },
	{ "reorder", no_argument, NULL, O_REORDER },
	{ "bad-signature", required_argument, NULL, O_BADSIG },
	{ "retry-ms", required_argument, NULL, O_RETRY_MS },
	{ "max-retries", required_argument, NULL, O_MAX_RETRIES },
	{ "save-dir", required_argument, NULL, O_SAVE_DIR },
	{ "webhook-url", required_argument, NULL, O_WEBHOOK_URL },
	{ "webhook-drop", required_argument, NULL, O_WEBHOOK_DROP },
	{ "pits-file", required_argument, NULL, O_PITS_FILE },
	{ "lack-scope", required_argument, NULL, O_LACK_SCOPE },
	{ "retry-after", required_argument, NULL, O_RETRY_AFTER },
	{ "daily-reset-header", no_argument, NULL, O_DAILY_RESET },
	{ "bare-429", no_argument, NULL, O_BARE_429 },
	{ "ratelimit-garbage", no_argument, NULL, O_RL_GARBAGE },
	{ "day-ms", required_argument, NULL, O_DAY_MS },
	{ NULL, 0, NULL, 0 },
};

static void defaults(struct hlsim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->data.seed = 1;
	o->data.locations = 2;
	o->data.calls_per_location = 200;
	o->data.agents_per_location = 4;
	o->data.contacts_per_location = 50;
	o->data.months = 3;
	o->data.mutate_after_ms = 1000;
	cv_parse_iso8601("2026-01-01", &o->data.start_ms);
	o->client_id = "hlsim-client";
	o->client_secret = "hlsim-secret";
	o->token_ttl = 86399;
	o->burst = 100;
	o->window_ms = 10000;
	o->daily = 200000;
	o->count = -1;
	o->inbound_share = 0.2;
	o->retry_ms = 200;
	o->max_retries = 6;
}

static bool num(const char *name, const char *s, double lo, double hi,
	double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "hlsim: --%s: want a number in [%g, %g]\n",
			name, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static bool start_month(const char *s, int64_t *out)
{
	char buf[16];
	if (strlen(s) != 7 || s[4] != '-') {
		fprintf(stderr, "hlsim: --start wants YYYY-MM\n");
		return false;
	}
	snprintf(buf, sizeof(buf), "%s-01", s);
	if (!cv_parse_iso8601(buf, out)) {
		fprintf(stderr, "hlsim: --start wants YYYY-MM\n");
		return false;
	}
	return true;
}

/* Numeric options: bounds and where the value goes. */
enum num_kind { N_INT, N_LONG, N_I64, N_U64, N_DOUBLE };
static const struct num_opt {
	int opt;
	double lo, hi;
	enum num_kind kind;
	size_t off;
} num_opts[] = {
#define F(field) offsetof(struct hlsim_opts, field)
	{ O_SEED, 0, 1e18, N_U64, F(data.seed) },
	{ O_LOCS, 1, 10000, N_INT, F(data.locations) },
	{ O_CALLS, 0, 1e7, N_INT, F(data.calls_per_location) },
	{ O_AGENTS, 1, 1000, N_INT, F(data.agents_per_location) },
	{ O_CONTACTS, 1, 1e6, N_INT, F(data.contacts_per_location) },
	{ O_MONTHS, 1, 600, N_INT, F(data.months) },
	{ O_MUTATE, 0, 1, N_DOUBLE, F(data.mutate_share) },
	{ O_MUTATE_AFTER, 0, 1e12, N_I64, F(data.mutate_after_ms) },
	{ O_ARRIVAL, 0, 1e5, N_DOUBLE, F(data.arrival_rate) },
	{ O_BACKDATE, 0, 1, N_DOUBLE, F(data.arrival_backdate) },
	{ O_PORT, 0, 65535, N_LONG, F(port) },
	{ O_TTL, 1, 1e9, N_I64, F(token_ttl) },
	{ O_BURST, 1, 1e9, N_INT, F(burst) },
	{ O_WINDOW, 1, 1e9, N_I64, F(window_ms) },
	{ O_DAILY, 1, 1e12, N_I64, F(daily) },
	{ O_COUNT, 0, 1e9, N_LONG, F(count) },
	{ O_INBOUND, 0, 1, N_DOUBLE, F(inbound_share) },
	{ O_DUPS, 0, 1, N_DOUBLE, F(duplicates) },
	{ O_BADSIG, 0, 1, N_DOUBLE, F(bad_signature) },
	{ O_RETRY_MS, 0, 1e9, N_I64, F(retry_ms) },
	{ O_MAX_RETRIES, 0, 1000, N_INT, F(max_retries) },
	{ O_WEBHOOK_DROP, 0, 1, N_DOUBLE, F(webhook_drop) },
	{ O_DAY_MS, 1, 1e11, N_I64, F(day_ms) },
#undef F
};

static bool set_num(struct hlsim_opts *o, int c, const char *name,
	const char *s)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(num_opts); i++) {
		const struct num_opt *n = &num_opts[i];
		double v;
		if (n->opt != c)
			continue;
		if (!num(name, s, n->lo, n->hi, &v))
			return false;
		char *dst = (char *)o + n->off;
		switch (n->kind) {
		case N_INT: *(int *)(void *)dst = (int)v; break;
		case N_LONG: *(long *)(void *)dst = (long)v; break;
		case N_I64: *(int64_t *)(void *)dst = (int64_t)v; break;
		case N_U64: *(uint64_t *)(void *)dst = (uint64_t)v; break;
		case N_DOUBLE: *(double *)(void *)dst = v; break;
		}
		return true;
	}
	return false;
}

static void add_pit(struct hlsim_opts *o, const char *s)
{
	o->pits = xrealloc(o->pits, (size_t)(o->n_pits + 1) * sizeof(*o->pits));
	o->pits[o->n_pits++] = s;
}

/* Read LOC=TOKEN lines; blank lines and # comments are skipped. */
static bool read_pits(struct hlsim_opts *o, const char *path)
{
	char *text = NULL, *err = NULL;
	size_t len;
	if (o->pits_file_text ||
		cv_read_file(path, 1 << 20, &text, &len, &err) != CV_OK) {
		fprintf(stderr, "hlsim: --pits-file: %s\n",
			err ? err : "given twice");
		free(err);
		return false;
	}
	o->pits_file_text = text;
	char *save = NULL;
	for (char *l = strtok_r(text, "\r\n", &save); l;
		l = strtok_r(NULL, "\r\n", &save)) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (*l && *l != '#')
			add_pit(o, l);
	}
	return true;
}

/* --lack-scope SCOPE[,SCOPE…], repeatable: joined with commas. */
static bool add_lack_scope(struct hlsim_opts *o, const char *s)
{
	char *j = o->lack_scopes ? xasprintf("%s,%s", o->lack_scopes, s)
				 : xstrdup(s);
	free(o->lack_scopes);
	o->lack_scopes = j;
	return true;
}

static bool retry_after_mode(struct hlsim_opts *o, const char *s)
{
	if (strcmp(s, "none") && strcmp(s, "seconds") && strcmp(s, "date")) {
		fprintf(stderr, "hlsim: --retry-after wants none, seconds or "
				"date\n");
		return false;
	}
	o->retry_after = s;
	return true;
}

static bool set_str(struct hlsim_opts *o, int c, const char *s)
{
	switch (c) {
	case O_DUMP: o->dump = s; return true;
	case O_PORT_FILE: o->port_file = s; return true;
	case O_INFO_FILE: o->info_file = s; return true;
	case O_CLIENT_ID: o->client_id = s; return true;
	case O_CLIENT_SECRET: o->client_secret = s; return true;
	case O_FAULT: o->fault = s; return true;
	case O_QUIRK: o->quirk = s; return true;
	case O_URL: o->url = s; return true;
	case O_KEY: o->key = s; return true;
	case O_KEY_OUT: o->key_out = s; return true;
	case O_KEY_OUT_PRIV: o->key_out_private = s; return true;
	case O_SAVE_DIR: o->save_dir = s; return true;
	case O_WEBHOOK_URL: o->webhook_url = s; return true;
	case O_START: return start_month(s, &o->data.start_ms);
	case O_PIT: add_pit(o, s); return true;
	case O_PITS_FILE: return read_pits(o, s);
	case O_LACK_SCOPE: return add_lack_scope(o, s);
	case O_RETRY_AFTER: return retry_after_mode(o, s);
	default: return false;
	}
}

int opts_parse(struct hlsim_opts *o, int argc, char **argv, bool emit)
{
	defaults(o);
	optind = 1;
	int c, idx = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		if (c == 'h' || c == O_HELP)
			return OPTS_HELP;
		if (c == O_DUMP_ONLY) {
			o->dump_only = true;
		} else if (c == O_QUIET) {
			o->quiet = true;
		} else if (c == O_REORDER) {
			o->reorder = true;
		} else if (c == O_DAILY_RESET) {
			o->daily_reset = true;
		} else if (c == O_BARE_429) {
			o->bare_429 = true;
		} else if (c == O_RL_GARBAGE) {
			o->rl_garbage = true;
		} else if (c == '?') {
			return OPTS_ERROR;
		} else {
			const char *name = longopts[idx].name;
			/* find the name by value: idx is only set for long */
			for (const struct option *p = longopts; p->name; p++)
				if (p->val == c)
					name = p->name;
			if (!set_str(o, c, optarg) &&
				!set_num(o, c, name, optarg))
				return OPTS_ERROR;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hlsim: unexpected argument '%s'\n",
			argv[optind]);
		return OPTS_ERROR;
	}
	if (o->dump_only && !o->dump) {
		fprintf(stderr, "hlsim: --dump-only needs --dump FILE\n");
		return OPTS_ERROR;
	}
	if (emit && !o->url) {
		fprintf(stderr, "hlsim emit: --url is required\n");
		return OPTS_ERROR;
	}
	return OPTS_OK;
}

void opts_finish(struct hlsim_opts *o)
{
	free(o->pits);
	free(o->pits_file_text);
	free(o->lack_scopes);
	o->lack_scopes = NULL;
	o->pits = NULL;
	o->pits_file_text = NULL;
}
