/* cmd_serve.c — `callvault serve`: the HighLevel webhook receiver */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "../blob.h"
#include "../client_addr.h"
#include "../recordings.h"
#include "../signature.h"
#include "../util.h"
#include "../webhook.h"
#include "cli.h"
#include "storage.h"

struct serve_opts {
	struct webhook_config cfg;
	struct console_config console;
	bool with_console;
	const char *port_file;
	const char *secret_file;
	const char *header_secret_file;
	const char *metrics_token_file;
	const char *keys[16];
	size_t n_keys;
	char proxy[16][CLIENT_ADDR_MAX]; /* --trusted-proxy, normalised */
	const char *proxies[16];
	size_t n_proxies;
	int64_t cutoff_ms;
};

/* Parse one option into o; returns 0, or the exit code for a bad one. */
static int parse_opt(int c, const char *arg, struct serve_opts *o)
{
	long v;
	switch (c) {
	case 'l': o->cfg.listen = arg; return 0;
	case 'p': o->port_file = arg; return 0;
	case 's': o->secret_file = arg; return 0;
	case 'H': o->header_secret_file = arg; return 0;
	case 'K': o->metrics_token_file = arg; return 0;
	case 'U':
		if ((strncmp(arg, "https://", 8) &&
			    strncmp(arg, "http://", 7)) ||
			strchr(strchr(arg, ':') + 3, '/') != NULL)
			return cli_fail(CV_EXIT_USAGE, "serve",
				"--public-url "
				"wants http(s)://HOST[:PORT], the origin "
				"browsers see (no path)");
		o->console.public_url = arg;
		return 0;
	case 'k':
		if (o->n_keys == CV_ARRAY_LEN(o->keys))
			return cli_fail(CV_EXIT_USAGE, "serve",
				"at most %zu --public-key files",
				CV_ARRAY_LEN(o->keys));
		o->keys[o->n_keys++] = arg;
		return 0;
	case 'X':
		if (o->n_proxies == CV_ARRAY_LEN(o->proxies))
			return cli_fail(CV_EXIT_USAGE, "serve",
				"at most %zu --trusted-proxy addresses",
				CV_ARRAY_LEN(o->proxies));
		if (!client_addr_normal(arg, o->proxy[o->n_proxies]))
			return cli_fail(CV_EXIT_USAGE, "serve",
				"--trusted-proxy "
				"'%s' is not an IPv4 or IPv6 address (one "
				"address, no port, no mask)",
				arg);
		o->proxies[o->n_proxies] = o->proxy[o->n_proxies];
		o->n_proxies++;
		return 0;
	case 'C': o->with_console = true; return 0;
	case 'T': o->console.tls_proxy = true; return 0;
	case 'c':
		if (!cv_parse_iso8601(arg, &o->cutoff_ms))
			return cli_fail(CV_EXIT_USAGE, "serve",
				"--legacy-cutoff wants a date (YYYY-MM-DD)");
		return 0;
	}
	static const struct {
		int c;
		const char *name;
		long min, max;
	} nums[] = { { 't', "--timeout", 1, 3600 },
		{ 'm', "--max-connections", 1, 100000 },
		{ 'b', "--busy-timeout", 1, 600000 },
		{ 'B', "--max-batch", 1, 100000 }, { 'g', "--grace", 0, 3600 },
		{ 'M', "--max-store-mb", 1, 100000000 },
		{ 'I', "--session-idle-s", 1, 86400 },
		{ 'A', "--session-max-s", 1, 7 * 86400 },
		{ 'L', "--login-max-failures", 1, 1000 },
		{ 'F', "--max-buffer-mb", 1, 65536 },
		{ 'R', "--request-timeout", 1, 3600 },
		{ 'P', "--per-address-connections", 1, 100000 },
		{ 'Q', "--per-address-buffer-mb", 1, 65536 } };
	for (size_t i = 0; i < CV_ARRAY_LEN(nums); i++) {
		if (nums[i].c != c)
			continue;
		if (!cli_parse_long(arg, nums[i].min, nums[i].max, &v))
			return cli_fail(CV_EXIT_USAGE, "serve",
				"%s wants a number from %ld to %ld",
				nums[i].name, nums[i].min, nums[i].max);
		switch (c) {
		case 't': o->cfg.timeout_s = (unsigned)v; break;
		case 'm': o->cfg.max_connections = (unsigned)v; break;
		case 'b': o->cfg.busy_ms = (int)v; break;
		case 'B': o->cfg.max_batch = (size_t)v; break;
		case 'g': o->cfg.grace_s = (unsigned)v; break;
		case 'M': o->cfg.max_store_bytes = (int64_t)v << 20; break;
		case 'I': o->console.idle_ms = (int64_t)v * 1000; break;
		case 'A': o->console.absolute_ms = (int64_t)v * 1000; break;
		case 'L': o->console.max_failures = (int)v; break;
		case 'F': o->cfg.max_buffered = (size_t)v << 20; break;
		case 'R': o->cfg.request_timeout_s = (unsigned)v; break;
		case 'P': o->cfg.per_addr_conns = (unsigned)v; break;
		case 'Q': o->cfg.per_addr_buffered = (size_t)v << 20; break;
		}
		return 0;
	}
	return CV_EXIT_USAGE;
}

/* The workflow header secret, "Name: value", from the first line of
 * path; NULL, or the error (the caller frees it). */
static char *load_header_secret(struct sig_verifier *v, const char *path)
{
	char *line = NULL, *err = NULL, *inner = NULL;
	if (cv_read_secret(path, &line, &err) != CV_OK)
		return err;
	if (sig_set_header_secret(v, line, &inner) != CV_OK)
		err = xasprintf("--header-secret-file %s: %s", path, inner);
	memset(line, 0, strlen(line));
	free(line);
	free(inner);
	return err;
}

/* Build the verifier from the options; NULL after printing the error. */
static struct sig_verifier *make_verifier(const struct serve_opts *o)
{
	struct sig_verifier *v = sig_verifier_create();
	char *err = NULL;
	for (size_t i = 0; i < o->n_keys && !err; i++)
		if (sig_add_key_file(v, o->keys[i], &err) != CV_OK)
			break;
	if (!err && o->secret_file) {
		char *secret = NULL;
		char *inner = NULL;
		if (cv_read_secret(o->secret_file, &secret, &err) == CV_OK) {
			if (sig_set_shared_secret(v, secret, strlen(secret),
				    &inner) != CV_OK)
				err = xasprintf("--shared-secret-file %s: %s",
					o->secret_file, inner);
			memset(secret, 0, strlen(secret));
			free(secret);
			free(inner);
		}
	}
	if (!err && o->header_secret_file)
		err = load_header_secret(v, o->header_secret_file);
	sig_set_legacy_cutoff(v, o->cutoff_ms);
	/* tests move the clock to either side of the legacy cut-off */
	const char *now = getenv("CALLVAULT_NOW");
	int64_t now_ms;
	if (!err && now && *now) {
		if (cv_parse_iso8601(now, &now_ms))
			sig_set_now(v, now_ms);
		else
			err = xstrdup("CALLVAULT_NOW is not an ISO 8601 date");
	}
	if (err) {
		cli_fail(CV_EXIT_USAGE, "serve", "%s", err);
		free(err);
		sig_verifier_destroy(v);
		return NULL;
	}
	return v;
}

/* One file descriptor per connection, and some for the store, the
 * console and the log: raise the soft limit (systemd's default is 1,024)
 * up to the hard one, or the server would stop accepting connections
 * before --max-connections, leaving new webhooks unanswered. */
static void raise_nofile(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)(max_connections ? max_connections : 512) + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want
			      ? rl.rlim_max
			      : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		cv_warn("msg=\"open file limit below what --max-connections "
			"needs\" limit=%llu needed=%llu",
			(unsigned long long)rl.rlim_cur,
			(unsigned long long)want);
}

static int serve(struct serve_opts *o)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* every thread inherits the mask; only sigwait below sees them */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Keep freed memory in the process instead of handing it back to
	 * the kernel and faulting it in again: each request discards and
	 * refills a SQLite page cache (another connection's commit
	 * invalidates it), and returning that memory cost ~25 page faults
	 * a request. Up to 256 MiB of free heap may stay resident. */
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	raise_nofile(o->cfg.max_connections);
	struct webhook_server *w = NULL;
	char *err = NULL;
	enum cv_err rc = webhook_server_start(&w, &o->cfg, &err);
	if (rc == CV_OK && o->port_file) {
		char line[16];
		int n = snprintf(line, sizeof(line), "%u\n",
			webhook_server_port(w));
		rc = cv_write_file_atomic(o->port_file, line, (size_t)n, 0600,
			&err);
	}
	if (rc != CV_OK) {
		webhook_server_stop(w);
		int code = cli_fail(cli_exit_for(rc), "serve", "%s",
			err ? err : cv_strerror(rc));
		free(err);
		return code;
	}
	cv_info("msg=\"listening\" address=%s path=/webhooks/highlevel db=%s"
		" console=%s",
		webhook_server_address(w), o->cfg.db_path,
		o->with_console ? "/" : "off");
	int sig = 0;
	sigwait(&set, &sig);
	cv_info("msg=\"stopping\" signal=%s", sig == SIGTERM ? "TERM" : "INT");
	webhook_server_stop(w);
	cv_info("msg=\"stopped\"");
	return CV_EXIT_OK;
}

/* The console's recordings no longer in the local blob store come back
 * from the S3 target that holds them. */
static enum cv_err fetch_recording(struct store *s, struct blobstore *b,
	const char *sha256, char **errmsg)
{
	enum cv_err rc = storage_blob_fetch(s, b, sha256, NULL, errmsg);
	if (rc == CV_OK)
		cv_info("msg=\"console: recording fetched back "
			"from S3\" sha256=%s",
			sha256);
	return rc;
}

static int run(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "public-key", required_argument, NULL, 'k' },
		{ "shared-secret-file", required_argument, NULL, 's' },
		{ "header-secret-file", required_argument, NULL, 'H' },
		{ "metrics-token-file", required_argument, NULL, 'K' },
		{ "public-url", required_argument, NULL, 'U' },
		{ "legacy-cutoff", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "busy-timeout", required_argument, NULL, 'b' },
		{ "max-batch", required_argument, NULL, 'B' },
		{ "grace", required_argument, NULL, 'g' },
		{ "max-store-mb", required_argument, NULL, 'M' },
		{ "console", no_argument, NULL, 'C' },
		{ "tls-proxy", no_argument, NULL, 'T' },
		{ "session-idle-s", required_argument, NULL, 'I' },
		{ "session-max-s", required_argument, NULL, 'A' },
		{ "login-max-failures", required_argument, NULL, 'L' },
		{ "max-buffer-mb", required_argument, NULL, 'F' },
		{ "request-timeout", required_argument, NULL, 'R' },
		{ "per-address-connections", required_argument, NULL, 'P' },
		{ "per-address-buffer-mb", required_argument, NULL, 'Q' },
		{ "trusted-proxy", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .cfg = { .listen = "127.0.0.1:8080",
					.db_path = cli->db_path,
					.grace_s = 10 },
		.cutoff_ms = SIG_LEGACY_CUTOFF_MS };
	int c, code;
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == '?' || (code = parse_opt(c, optarg, &o)) != 0)
			return CV_EXIT_USAGE;
	}
	if (optind != argc)
		return cli_fail(CV_EXIT_USAGE, "serve",
			"unexpected argument '%s'", argv[optind]);
	o.console.db_path = cli->db_path;
	o.console.trusted_proxies = o.proxies;
	o.console.n_trusted = o.n_proxies;
	o.console.os_user = cli->os_user;
	o.console.audit_key = cli_audit_key(cli);
	if (o.with_console) {
		o.cfg.console = &o.console;
		recording_set_fetcher(fetch_recording);
	}
	char *metrics_token = NULL;
	if (o.metrics_token_file) {
		char *err = NULL;
		if (cv_read_secret(o.metrics_token_file, &metrics_token,
			    &err) != CV_OK ||
			strlen(metrics_token) < 16) {
			code = cli_fail(CV_EXIT_USAGE, "serve",
				"--metrics-token-file %s: %s",
				o.metrics_token_file,
				err ? err : "a token of at least 16 bytes");
			free(err);
			free(metrics_token);
			return code;
		}
		o.cfg.metrics_token = metrics_token;
	}
	o.cfg.verifier = make_verifier(&o);
	if (!o.cfg.verifier) {
		free(metrics_token);
		return CV_EXIT_USAGE;
	}
	code = serve(&o);
	sig_verifier_destroy(o.cfg.verifier);
	if (metrics_token) {
		memset(metrics_token, 0, strlen(metrics_token));
		free(metrics_token);
	}
	return code;
}

const struct cli_cmd cmd_serve = {
	.name = "serve",
	.summary = "receive HighLevel webhooks (verified, durable, deduped)",
	.help = "usage: callvault [--db PATH] serve [--listen ADDR:PORT] "
		"[--port-file FILE]\n"
		"         [--public-key PEM]… [--shared-secret-file FILE] "
		"[--legacy-cutoff DATE]\n"
		"         [--header-secret-file FILE] [--metrics-token-file "
		"FILE]\n"
		"         [--timeout S] [--max-connections N] "
		"[--busy-timeout MS]\n"
		"         [--max-batch N] [--grace S] [--max-store-mb N]\n"
		"         [--console [--tls-proxy] [--public-url URL] "
		"[--session-idle-s S]\n          [--session-max-s S]"
		"\n"
		"          [--login-max-failures N] [--trusted-proxy ADDR]...]\n"
		"         [--max-buffer-mb N]\n"
		"         [--request-timeout S] [--per-address-connections N]\n"
		"         [--per-address-buffer-mb N]\n"
		"\n"
		"Serve POST /webhooks/highlevel, GET /healthz and GET "
		"/metrics (Prometheus).\nA delivery is answered 200 only "
		"after it is committed and fsynced; 429\nwhen the store "
		"cannot take it (HighLevel retries only 429); 401 without a\n"
		"valid signature (nothing stored); 413 over 1 MiB; 415 "
		"unless JSON.\nDeliveries dedupe by webhookId, else by body "
		"SHA-256. See docs/webhooks.md.\n"
		"\n"
		"  --listen ADDR:PORT      bind here (default "
		"127.0.0.1:8080; port 0 = any,\n"
		"                          the bound address is logged)\n"
		"  --port-file FILE        write the bound port to FILE\n"
		"  --public-key PEM        also accept this Ed25519 "
		"(x-ghl-signature) or RSA\n"
		"                          (x-wh-signature) public key; "
		"repeatable\n"
		"  --shared-secret-file F  accept X-HighLevel-Signature: hex "
		"HMAC-SHA256 of\n"
		"                          the body with the secret in F "
		"(32 bytes or more;\n"
		"                          system webhooks)\n"
		"  --header-secret-file F  also serve POST /webhooks/workflow "
		"for workflow\n"
		"                          Custom Webhook actions, which must "
		"carry the header\n"
		"                          in F's first line, e.g. "
		"\"X-Callvault-Secret: …\" or\n"
		"                          \"Authorization: Bearer …\" (or "
		"Basic user:password);\n"
		"                          its value 32 bytes or more\n"
		"  --legacy-cutoff DATE    refuse x-wh-signature from DATE "
		"(default 2026-07-01)\n"
		"  --timeout S             close idle connections after S "
		"seconds (default 30)\n"
		"  --max-connections N     at most N connections (default "
		"512)\n"
		"  --busy-timeout MS       wait this long for a locked store "
		"before 429\n"
		"                          (default 2000)\n"
		"  --max-batch N           events per group commit (default "
		"512)\n"
		"  --grace S               at SIGTERM/SIGINT wait up to S "
		"seconds for requests\n"
		"                          in flight (default 10), then "
		"commit and exit 0;\n"
		"                          new requests meanwhile get 429 "
		"(webhooks) or 503\n"
		"  --max-store-mb N        treat the store as full past N MiB "
		"of database (its\n"
		"                          recordings apart): answer 429 "
		"(keeps room on the\n"
		"                          disk; default: no cap)\n"
		"  --console               also serve the web console for "
		"compliance officers\n"
		"                          at / and its JSON API at /api/ "
		"(docs/console.md;\n"
		"                          users: `callvault user add`)\n"
		"  --tls-proxy             a TLS proxy is in front: session "
		"cookies are Secure\n"
		"  --public-url URL        the console's origin as browsers see "
		"it (https://HOST[:PORT]):\n"
		"                          the only Origin a state-changing "
		"request may carry\n"
		"                          (default: the request's own Host, "
		"which DNS rebinding\n"
		"                          can forge)\n"
		"  --metrics-token-file F  GET /metrics needs `Authorization: "
		"Bearer <F's token>`\n"
		"                          (at least 16 bytes; default: "
		"loopback clients only)\n"
		"  --session-idle-s S      end a session idle for S seconds "
		"(default 1800)\n"
		"  --session-max-s S       end any session after S seconds "
		"(default 43200)\n"
		"  --login-max-failures N  failed logins per user and per "
		"client address in\n"
		"                          15 minutes before 429 (default 5)\n"
		"  --trusted-proxy ADDR    a reverse proxy (IPv4 or IPv6 "
		"address) whose\n"
		"                          X-Forwarded-For names the console's "
		"client: that\n"
		"                          address is audited and counted for "
		"login limits;\n"
		"                          from any other peer the header is "
		"ignored;\n"
		"                          repeatable (chained proxies)\n"
		"  --max-buffer-mb N       bodies held in memory at once, all "
		"requests\n"
		"                          together; past it answer 429 "
		"(default 64)\n"
		"  --request-timeout S     a connection must deliver a whole "
		"request within S\n"
		"                          seconds of its start or of its "
		"previous answer, or\n"
		"                          it is closed (default 10)\n"
		"  --per-address-connections N\n"
		"                          connections one client address may "
		"hold while they\n"
		"                          send requests (not while answered); "
		"a new one closes\n"
		"                          its oldest (default "
		"max-connections / 16)\n"
		"  --per-address-buffer-mb N\n"
		"                          bodies one client address may hold "
		"in memory\n"
		"                          (default max-buffer-mb / 8, at least "
		"1)\n"
		"\nEnvironment: CALLVAULT_NOW=DATE sets the clock the legacy "
		"cut-off is\ncompared with (for tests).\n",
	.run = run,
};
