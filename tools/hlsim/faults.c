/* faults.c — see faults.h */
#include "faults.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "simdata.h"

static const char *const names[F__COUNT] = {
	[F_5XX] = "5xx",
	[F_RESET] = "reset",
	[F_TRUNCATE] = "truncate",
	[F_BADJSON] = "badjson",
	[F_REVOKE] = "revoke",
	[F_REPEAT] = "repeat",
	[F_DRIFT] = "total-drift",
	[F_EMPTY] = "empty",
	[F_NOECHO] = "page-noecho",
	[F_EXAMPLE] = "example",
	[F_OAUTH5XX] = "oauth5xx",
	[F_STORM] = "storm429",
	[F_LATENCY] = "latency-ms",
	[F_RECTRUNC] = "rec-truncate",
	[F_NOTAUDIO] = "rec-notaudio",
};

const char faults_help[] =
	"      5xx=P          answer 500/502/503/504 (NestJS-style body)\n"
	"      reset=P        close the connection without an answer\n"
	"      truncate=P     promise the full Content-Length, send part, close\n"
	"      badjson=P      200 with a body that is not valid JSON\n"
	"      revoke=P       revoke the token used (OAuth access tokens stay\n"
	"                     revoked; a PIT just gets this one 401)\n"
	"      repeat=P       call-logs: serve the previous page's items again\n"
	"      total-drift=P  call-logs: report a total off by a few\n"
	"      empty=P        call-logs: an empty callLogs array, real total\n"
	"      page-noecho=P  call-logs: the page field does not echo the request\n"
	"      example=P      call-logs: the OpenAPI example for every request\n"
	"      oauth5xx=P     POST /oauth/token answers 503 (no token issued)\n"
	"      rec-truncate=P recordings: promise the whole length, send half\n"
	"      rec-notaudio=P recordings: 200 with a body that is not audio\n"
	"                     (text/html, or audio/x-wav that is not a WAV)\n"
	"      latency-ms=N   sleep N ms before every API answer\n"
	"      rec-stall-ms=N recordings: send half, pause N ms (at most\n"
	"                     60000), then the rest (a download to kill)\n"
	"      storm429=N     N consecutive 429s, starting at API request 5\n"
	"                     (set through /__sim/fault: at the next request)\n"
	"      storm-every=K  ... and again every K API requests (default 200)\n";

const char *faults_name(enum fault_kind k)
{
	return names[k];
}

static int set_one(struct faults *f, const char *name, const char *val,
	char **errmsg)
{
	char *end;
	double v = strtod(val, &end);
	if (end == val || *end || v < 0) {
		cv_error(errmsg, CV_EINVAL, "bad value for fault %s", name);
		return -1;
	}
	if (!strcmp(name, "latency-ms")) {
		f->latency_ms = (int)v;
		return 0;
	}
	if (!strcmp(name, "rec-stall-ms")) {
		f->rec_stall_ms = v > 60000 ? 60000 : (int)v;
		return 0;
	}
	if (!strcmp(name, "storm429")) {
		f->storm429 = (int)v;
		return 0;
	}
	if (!strcmp(name, "storm-every")) {
		f->storm_every = (int)v;
		return 0;
	}
	for (int k = 0; k < F__COUNT; k++) {
		if (k != F_STORM && k != F_LATENCY && !strcmp(names[k], name)) {
			if (v > 1) {
				cv_error(errmsg, CV_EINVAL,
					"fault %s is a share in [0,1]", name);
				return -1;
			}
			f->share[k] = v;
			return 0;
		}
	}
	cv_error(errmsg, CV_EINVAL, "unknown fault '%s'", name);
	return -1;
}

int faults_parse(struct faults *f, const char *spec, uint64_t seed,
	char **errmsg)
{
	memset(f, 0, sizeof(*f));
	f->storm_every = 200;
	f->storm_next = 5;
	f->rng = seed * 0x2545F4914F6CDD1DULL + 3;
	if (!spec || !*spec)
		return 0;
	char *copy = xstrdup(spec), *save = NULL;
	int rc = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0;
		tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			rc = -1;
			cv_error(errmsg, CV_EINVAL, "fault '%s' needs =value",
				tok);
			break;
		}
		*eq = '\0';
		rc = set_one(f, tok, eq + 1, errmsg);
	}
	free(copy);
	return rc;
}

bool faults_roll(struct faults *f, enum fault_kind k)
{
	if (f->share[k] <= 0)
		return false;
	if (sim_randf(&f->rng) >= f->share[k])
		return false;
	f->fired[k]++;
	return true;
}

bool faults_storm(struct faults *f)
{
	f->api_count++;
	if (f->storm429 <= 0)
		return false;
	if (f->api_count == f->storm_next) {
		f->storm_left = f->storm429;
		f->storm_next = f->storm_every > 0
					? f->storm_next + f->storm_every
					: -1;
	}
	if (f->storm_left <= 0)
		return false;
	f->storm_left--;
	f->fired[F_STORM]++;
	return true;
}
