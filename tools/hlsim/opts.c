/* opts.c — see opts.h */
#include "opts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util.h"

enum {
	O_SEED = 256, O_LOCS, O_CALLS, O_AGENTS, O_CONTACTS, O_START, O_MONTHS,
	O_MUTATE, O_MUTATE_AFTER, O_ARRIVAL, O_BACKDATE, O_DUMP, O_DUMP_ONLY,
	O_PORT, O_PORT_FILE, O_INFO_FILE, O_PIT, O_CLIENT_ID, O_CLIENT_SECRET,
	O_TTL, O_BURST, O_WINDOW, O_DAILY, O_FAULT, O_QUIET, O_HELP, O_URL,
	O_KEY, O_KEY_OUT, O_KEY_OUT_PRIV, O_COUNT, O_INBOUND, O_DUPS,
	O_REORDER, O_BADSIG, O_RETRY_MS, O_MAX_RETRIES, O_SAVE_DIR,
	O_WEBHOOK_URL, O_WEBHOOK_DROP,
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

/* Numeric options: a table of (option, bounds, destination kind). */
static bool set_num(struct hlsim_opts *o, int c, const char *name,
	const char *s)
{
	double v;
	switch (c) {
	case O_SEED: if (!num(name, s, 0, 1e18, &v)) return false;
		o->data.seed = (uint64_t)v; return true;
	case O_LOCS: if (!num(name, s, 1, 10000, &v)) return false;
		o->data.locations = (int)v; return true;
	case O_CALLS: if (!num(name, s, 0, 10000000, &v)) return false;
		o->data.calls_per_location = (int)v; return true;
	case O_AGENTS: if (!num(name, s, 1, 1000, &v)) return false;
		o->data.agents_per_location = (int)v; return true;
	case O_CONTACTS: if (!num(name, s, 1, 1000000, &v)) return false;
		o->data.contacts_per_location = (int)v; return true;
	case O_MONTHS: if (!num(name, s, 1, 600, &v)) return false;
		o->data.months = (int)v; return true;
	case O_MUTATE: return num(name, s, 0, 1, &o->data.mutate_share);
	case O_MUTATE_AFTER: if (!num(name, s, 0, 1e12, &v)) return false;
		o->data.mutate_after_ms = (int64_t)v; return true;
	case O_ARRIVAL: return num(name, s, 0, 100000, &o->data.arrival_rate);
	case O_BACKDATE: return num(name, s, 0, 1, &o->data.arrival_backdate);
	case O_PORT: if (!num(name, s, 0, 65535, &v)) return false;
		o->port = (long)v; return true;
	case O_TTL: if (!num(name, s, 1, 1e9, &v)) return false;
		o->token_ttl = (int64_t)v; return true;
	case O_BURST: if (!num(name, s, 1, 1e9, &v)) return false;
		o->burst = (int)v; return true;
	case O_WINDOW: if (!num(name, s, 1, 1e9, &v)) return false;
		o->window_ms = (int64_t)v; return true;
	case O_DAILY: if (!num(name, s, 1, 1e12, &v)) return false;
		o->daily = (int64_t)v; return true;
	case O_COUNT: if (!num(name, s, 0, 1e9, &v)) return false;
		o->count = (long)v; return true;
	case O_INBOUND: return num(name, s, 0, 1, &o->inbound_share);
	case O_DUPS: return num(name, s, 0, 1, &o->duplicates);
	case O_BADSIG: return num(name, s, 0, 1, &o->bad_signature);
	case O_WEBHOOK_DROP: return num(name, s, 0, 1, &o->webhook_drop);
	case O_RETRY_MS: if (!num(name, s, 0, 1e9, &v)) return false;
		o->retry_ms = (int64_t)v; return true;
	case O_MAX_RETRIES: if (!num(name, s, 0, 1000, &v)) return false;
		o->max_retries = (int)v; return true;
	default: return false;
	}
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
	case O_URL: o->url = s; return true;
	case O_KEY: o->key = s; return true;
	case O_KEY_OUT: o->key_out = s; return true;
	case O_KEY_OUT_PRIV: o->key_out_private = s; return true;
	case O_SAVE_DIR: o->save_dir = s; return true;
	case O_WEBHOOK_URL: o->webhook_url = s; return true;
	case O_START: return start_month(s, &o->data.start_ms);
	case O_PIT:
		o->pits = xrealloc(o->pits, (size_t)(o->n_pits + 1) *
			sizeof(*o->pits));
		o->pits[o->n_pits++] = s;
		return true;
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
	o->pits = NULL;
}
