/*
 * hlsim — a HighLevel API simulator for callvault's tests, benchmarks and
 * demo: Voice AI call logs, agents, OAuth and PIT credentials, rate limits,
 * faults on demand (serve mode), and signed webhooks (emit mode).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "common.h"
#include "emit.h"
#include "opts.h"
#include "util.h"

static const char usage_text[] =
	"usage: hlsim [serve] [OPTIONS]      run the simulated HighLevel API\n"
	"       hlsim emit --url URL [OPTIONS]  POST signed webhooks to URL\n"
	"       hlsim --dump FILE --dump-only   write the data set and exit\n"
	"\n"
	"Data (the same options give the same data in every mode):\n"
	"  --seed S                 PRNG seed (default 1)\n"
	"  --locations L            sub-accounts (default 2)\n"
	"  --calls-per-location N   calls generated per location (default 200)\n"
	"  --agents-per-location A  agents per location (default 4; with 3+\n"
	"                           the last one is deleted: its calls carry\n"
	"                           isAgentDeleted:true and it is not listed)\n"
	"  --contacts-per-location C  (default 50)\n"
	"  --start YYYY-MM          first month of calls (default 2026-01)\n"
	"  --months M               months the calls span (default 3)\n"
	"  --mutate-share P         share of calls whose summary changes\n"
	"                           --mutate-after-ms after first served (0)\n"
	"  --mutate-after-ms MS     (default 1000)\n"
	"  --arrival-rate R         new calls per second while serving (0)\n"
	"  --arrival-backdate P     share of arrivals with createdAt inside the\n"
	"                           generated range instead of now (0)\n"
	"  --dump FILE              write every call as JSONL (REST shape plus\n"
	"                           locationId) at start and again at exit\n"
	"  --dump-only              write --dump and exit\n"
	"\n"
	"Serve:\n"
	"  --port N                 port on 127.0.0.1 (default 0 = any); the\n"
	"                           bound port is printed as `port N` on stdout\n"
	"  --port-file F            also write the port number to F\n"
	"  --info-file F            write /__sim/info JSON (locations, PITs,\n"
	"                           OAuth client, auth codes) to F (0600)\n"
	"  --pit LOC=TOKEN          extra Private Integration Token for LOC\n"
	"                           (index from 0 or location id); repeatable.\n"
	"                           Every location also has a default PIT\n"
	"                           (see --info-file or GET /__sim/info)\n"
	"  --pits-file F            more PITs, one LOC=TOKEN a line (# comments)\n"
	"  --client-id ID           OAuth client id (default hlsim-client)\n"
	"  --client-secret S        OAuth client secret (default hlsim-secret)\n"
	"  --token-ttl SEC          access token lifetime, expires_in (86399)\n"
	"  --burst N                requests per window (default 100)\n"
	"  --window-ms MS           burst window (default 10000)\n"
	"  --daily N                daily budget (default 200000)\n"
	"  --day-ms MS              the daily budget's period (default: a UTC\n"
	"                           day); it renews every MS on the wall clock\n"
	"  --daily-reset-header     send X-RateLimit-Daily-Reset: seconds\n"
	"                           until the daily budget renews\n"
	"  --retry-after MODE       429 answers carry Retry-After: none\n"
	"                           (default), seconds, or date (HTTP-date)\n"
	"  --bare-429               429 answers carry no rate-limit header\n"
	"  --ratelimit-garbage      every rate-limit header is not an integer\n"
	"                           (\"100.0\", \"10s\", \"-1\", \"soon\" ...)\n"
	"  --lack-scope SCOPE       no token has SCOPE (comma list;\n"
	"                           repeatable): the OAuth reply's scope omits\n"
	"                           it and its endpoints answer 401 \"The token\n"
	"                           is not authorized for this scope.\"\n"
	"  --webhook-url URL        deliver signed webhooks for calls that\n"
	"                           arrive while serving (--arrival-rate);\n"
	"                           uses --key/--key-out/--duplicates/\n"
	"                           --inbound-share/--retry-ms/--max-retries/\n"
	"                           --save-dir from the emit options\n"
	"  --webhook-drop P         share of those webhooks never sent (missed\n"
	"                           deliveries the REST sweep must catch)\n"
	"  --fault SPEC             comma list of name=value:\n"
	"%s"
	"  --quirk SPEC             comma list of name=value: how the server\n"
	"                           uses the freedoms the OpenAPI file leaves\n"
	"%s"
	"  --quiet                  log warnings only\n"
	"\n"
	"Emit (webhooks for the generated calls, signed Ed25519 in\n"
	"x-ghl-signature = base64 of the signature over the exact body):\n"
	"  --url URL                receiver (required)\n"
	"  --key PRIV.pem           signing key (default: generate one)\n"
	"  --key-out PUB.pem        write the public key (SPKI PEM)\n"
	"  --key-out-private F      write the private key (PEM, 0600)\n"
	"  --count N                VoiceAiCallEnd events (default: all calls)\n"
	"  --inbound-share P        share of calls that also get an\n"
	"                           InboundMessage CALL event (default 0.2)\n"
	"  --duplicates P           share of events delivered twice (0)\n"
	"  --reorder                shuffle the delivery order\n"
	"  --bad-signature P        share of events with a corrupted signature\n"
	"  --retry-ms MS            wait between retries after a 429 (200)\n"
	"  --max-retries N          retries per event on 429 (default 6);\n"
	"                           other failures (5xx, network) are final\n"
	"  --save-dir DIR           write each sent body and its signature as\n"
	"                           DIR/NNNN.json and DIR/NNNN.sig\n"
	"  Prints one line: sent=N 2xx=N 429-retried=N failed=N\n"
	"  bad-signature=N duplicates=N; exits 1 when an event with a good\n"
	"  signature was not accepted.\n"
	"\n"
	"Endpoints: GET /voice-ai/dashboard/call-logs, GET /voice-ai/\n"
	"dashboard/call-logs/{id}, GET /voice-ai/agents[/{id}], POST\n"
	"/oauth/token. Control (no auth, no rate limit): GET /__sim/stats,\n"
	"GET /__sim/info, GET /__sim/dump (the --dump JSONL, now),\n"
	"POST /__sim/reset (counters and rate limits), POST /__sim/fault\n"
	"(form field spec=SPEC replaces the --fault settings),\n"
	"POST /__sim/webhook[?fail429=N|status=S] (a signed-webhook sink for\n"
	"emit tests), POST /__sim/install (form locationId, installed=0|1:\n"
	"the app leaves or joins a location). SIGINT/SIGTERM stop cleanly\n"
	"(and rewrite --dump).\n"
	"Agency installs: the code company-<any> with user_type=Company gives\n"
	"a Company token (refreshed with user_type=Company only; refused on\n"
	"location endpoints); with it and `Version: 2021-07-28`, GET\n"
	"/oauth/installedLocations?companyId&appId[&skip&limit] and POST\n"
	"/oauth/locationToken (form companyId, locationId).\n"
	"\n"
	"Behaviour (as HighLevel does, per highlevel-api.md):\n"
	"  API calls need `Version: 2021-04-15|2021-07-28|2023-02-21|v3`\n"
	"  (else 401 `version header was not found.` / `version header is\n"
	"  invalid`) and `Authorization: Bearer TOKEN` (else 401 `Invalid\n"
	"  token: access token is invalid`); a token of another location:\n"
	"  401 `The token is not authorized for this scope.`. Unknown query\n"
	"  parameters and bad values: 422 with every violation in `message`.\n"
	"  call-logs: default order newest first; sortBy without sort sorts\n"
	"  descending; startDate/endDate are inclusive epoch ms on createdAt.\n"
	"  Rate limits: burst per token per location (sliding window), daily\n"
	"  per app per location (OAuth) or shared by a location's PITs; the\n"
	"  five X-RateLimit-* headers on every response; 429 past either.\n"
	"  OAuth: POST /oauth/token, form-encoded client_id, client_secret,\n"
	"  grant_type=authorization_code (code=code-<locationId>[-any], each\n"
	"  code once) or refresh_token (each refresh token once: reuse gives\n"
	"  400 invalid_grant); old access tokens live until they expire.\n";

static void usage(FILE *f)
{
	fprintf(f, usage_text, faults_help, quirks_help);
}

static int write_text(const char *path, const char *text, int mode)
{
	char *err = NULL;
	if (cv_write_file_atomic(path, text, strlen(text), mode, &err) !=
		CV_OK) {
		cv_errlog("msg=\"%s\"", err ? err : "write failed");
		free(err);
		return -1;
	}
	return 0;
}

static int add_pits(struct hlsim *h, const struct hlsim_opts *o)
{
	for (int i = 0; i < h->sd->n_locs; i++)
		auth_add_pit(h->auth, i, h->sd->locs[i].pit);
	for (int i = 0; i < o->n_pits; i++) {
		const char *spec = o->pits[i];
		const char *eq = strchr(spec, '=');
		if (!eq || !eq[1]) {
			fprintf(stderr, "hlsim: --pit wants LOC=TOKEN\n");
			return -1;
		}
		char *loc = xstrndup(spec, (size_t)(eq - spec));
		char *end;
		long idx = strtol(loc, &end, 10);
		if (*end || end == loc)
			idx = simdata_find_location(h->sd, loc);
		free(loc);
		if (idx < 0 || idx >= h->sd->n_locs) {
			fprintf(stderr, "hlsim: --pit: unknown location\n");
			return -1;
		}
		auth_add_pit(h->auth, (int)idx, eq + 1);
	}
	return 0;
}

static int dump(struct hlsim *h, const char *path)
{
	char *err = NULL;
	pthread_mutex_lock(&h->lock);
	int rc = simdata_dump(h->sd, path, &err);
	pthread_mutex_unlock(&h->lock);
	if (rc) {
		cv_errlog("msg=\"dump: %s\"", err ? err : "failed");
		free(err);
	}
	return rc;
}

/* Queue webhooks for calls added since the last call (arrivals). */
static void pump_webhooks(struct hlsim *h, const struct hlsim_opts *o,
	size_t *done, uint64_t *rng)
{
	char *bodies[4096];
	int nb = 0;
	pthread_mutex_lock(&h->lock);
	simdata_tick(h->sd, cv_now_ms());
	int64_t now = cv_now_ms();
	for (; *done < h->sd->n_calls && nb + 3 <= (int)CV_ARRAY_LEN(bodies);
		(*done)++) {
		if (sim_randf(rng) < o->webhook_drop) {
			emitter_note(h->emitter, true, false);
			continue;
		}
		json_t *w = simdata_webhook_body(h->sd, *done, rng, now);
		bodies[nb++] = json_dumps(w, JSON_COMPACT);
		json_decref(w);
		if (sim_randf(rng) < o->duplicates) {
			bodies[nb] = xstrdup(bodies[nb - 1]);
			nb++;
			emitter_note(h->emitter, false, true);
		}
		if (sim_randf(rng) < o->inbound_share) {
			w = simdata_inbound_body(h->sd, *done, rng, now);
			bodies[nb++] = json_dumps(w, JSON_COMPACT);
			json_decref(w);
		}
	}
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; i < nb; i++)
		emitter_enqueue(h->emitter, bodies[i]);
}

/* Wait for SIGINT/SIGTERM; meanwhile deliver webhooks for arrivals. */
static int wait_for_signal(struct hlsim *h, const struct hlsim_opts *o,
	size_t done)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	uint64_t rng = o->data.seed * 0xD1B54A32D192ED03ULL + 11;
	for (;;) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000000L };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (h->emitter)
			pump_webhooks(h, o, &done, &rng);
	}
}

static int serve(struct hlsim *h, const struct hlsim_opts *o)
{
	char *err = NULL;
	uint16_t port = 0;
	struct api_server *s = api_start(h, (uint16_t)o->port, &port, &err);
	if (!s) {
		cv_errlog("msg=\"%s\"", err);
		free(err);
		return 1;
	}
	pthread_mutex_lock(&h->lock);
	simdata_tick(h->sd, cv_now_ms()); /* arrivals count from now */
	size_t generated = h->sd->n_calls;
	pthread_mutex_unlock(&h->lock);
	int rc = 0;
	if (o->info_file) {
		char *info = api_info_json(h);
		rc = write_text(o->info_file, info, 0600);
		free(info);
	}
	if (!rc && o->port_file) {
		char line[16];
		snprintf(line, sizeof(line), "%u\n", (unsigned)port);
		rc = write_text(o->port_file, line, 0644);
	}
	if (!rc) {
		printf("port %u\n", (unsigned)port);
		fflush(stdout);
		cv_info("msg=\"serving\" port=%u calls=%zu", (unsigned)port,
			h->sd->n_calls);
		int sig = wait_for_signal(h, o, generated);
		cv_info("msg=\"stopping\" signal=%d", sig);
	}
	api_stop(s);
	if (!rc && o->dump)
		rc = dump(h, o->dump);
	return rc ? 1 : 0;
}

static int run_server(const struct hlsim_opts *o)
{
	struct hlsim h;
	memset(&h, 0, sizeof(h));
	pthread_mutex_init(&h.lock, NULL);
	char *err = NULL;
	if (faults_parse(&h.faults, o->fault, o->data.seed, &err)) {
		fprintf(stderr, "hlsim: --fault: %s\n", err);
		free(err);
		return 2;
	}
	if (quirks_parse(&h.quirks, o->quirk, &err)) {
		fprintf(stderr, "hlsim: --quirk: %s\n", err);
		free(err);
		return 2;
	}
	h.sd = simdata_create(&o->data);
	h.client_id = o->client_id;
	h.client_secret = o->client_secret;
	struct auth_opts ao = { .client_id = o->client_id,
		.client_secret = o->client_secret,
		.token_ttl_s = o->token_ttl,
		.seed = o->data.seed,
		.lack_scopes = o->lack_scopes };
	h.auth = auth_create(&ao);
	struct rl_opts ro = { .burst = o->burst,
		.window_ms = o->window_ms,
		.daily = o->daily,
		.day_ms = o->day_ms,
		.daily_reset = o->daily_reset,
		.bare_429 = o->bare_429,
		.garbage = o->rl_garbage,
		.retry_after = !o->retry_after                      ? RA_NONE
			       : !strcmp(o->retry_after, "seconds") ? RA_SECONDS
			       : !strcmp(o->retry_after, "date")    ? RA_DATE
								    : RA_NONE };
	h.rl = ratelimit_create(&ro);
	int rc = add_pits(&h, o) ? 2 : 0;
	if (!rc && o->webhook_url && !o->dump_only) {
		struct hlsim_opts eo = *o;
		eo.url = o->webhook_url;
		h.emitter = emitter_create(&eo, true);
		rc = h.emitter ? 0 : 1;
	}
	if (!rc && o->dump)
		rc = dump(&h, o->dump) ? 1 : 0;
	if (!rc && !o->dump_only)
		rc = serve(&h, o);
	emitter_destroy(h.emitter);
	ratelimit_destroy(h.rl);
	auth_destroy(h.auth);
	simdata_destroy(h.sd);
	pthread_mutex_destroy(&h.lock);
	return rc;
}

int main(int argc, char **argv)
{
	/* signals are taken by sigwait in the main thread only */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	bool emit = argc > 1 && !strcmp(argv[1], "emit");
	if (argc > 1 && (emit || !strcmp(argv[1], "serve"))) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	struct hlsim_opts o;
	int rc = opts_parse(&o, argc, argv, emit);
	if (rc == OPTS_HELP) {
		usage(stdout);
		return 0;
	}
	if (rc != OPTS_OK) {
		usage(stderr);
		return 2;
	}
	if (o.quiet)
		cv_log_set_level(CV_LOG_WARN);
	rc = emit ? emit_run(&o) : run_server(&o);
	opts_finish(&o);
	return rc;
}
