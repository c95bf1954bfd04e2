/* test_auth.c — credentials on disk: modes, PIT and OAuth files, a valid
 * access token used without a refresh, a stale one refreshed (and the
 * failure reported without any secret when the endpoint is unreachable). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "t.h"
#include "util.h"

static char dir[256];

static void put(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	char *err = NULL;
	CHECK(cv_write_file_atomic(p, text, strlen(text), 0600, &err) == CV_OK);
	free(err);
}

static int mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void test_pit(void)
{
	char *sd = auth_secrets_dir(dir, "LOC1");
	char *err = NULL;
	put("pit.txt", "pit-1234-secret  \n");
	char src[512];
	snprintf(src, sizeof(src), "%s/pit.txt", dir);
	CHECK(auth_save_pit(sd, src, &err) == CV_OK);
	CHECK_INT(mode_of(sd), 0700);
	char tok[600];
	snprintf(tok, sizeof(tok), "%s/token", sd);
	CHECK_INT(mode_of(tok), 0600);
	struct store_location l = { .id = "LOC1",
		.auth = STORE_AUTH_PIT,
		.api_base = "http://127.0.0.1:1",
		.secrets_dir = sd };
	struct auth *a;
	CHECK(auth_open(&a, &l, NULL, &err) == CV_OK);
	const char *t = NULL;
	CHECK(auth_token(a, &t, &err) == CV_OK);
	CHECK_STR(t, "pit-1234-secret");
	CHECK(auth_refused(a, t, &err) == CV_OK); /* one retry as is */
	auth_close(a);
	CHECK(auth_remove(sd, &err) == CV_OK);
	CHECK_INT(mode_of(sd), -1);
	free(sd);
}

static void test_oauth(void)
{
	char *sd = auth_secrets_dir(dir, "LOC2");
	char *err = NULL;
	put("secret.txt", "client-secret-xyz\n");
	put("rt.txt", "refresh-abc\n");
	char s1[512], s2[512];
	snprintf(s1, sizeof(s1), "%s/secret.txt", dir);
	snprintf(s2, sizeof(s2), "%s/rt.txt", dir);
	CHECK(auth_save_oauth(sd, s1, s2, &err) == CV_OK);
	struct store_location l = { .id = "LOC2",
		.auth = STORE_AUTH_OAUTH,
		.api_base = "http://127.0.0.1:1",
		.client_id = "cid",
		.secrets_dir = sd };
	/* a fresh access token on file is used as is */
	int64_t now = cv_now_ms();
	char *text = xasprintf("refresh_token=refresh-abc\naccess_token="
			       "access-ok\nexpires_at=%lld\nobtained_at=%lld\n",
		(long long)(now + 3600000), (long long)now);
	char tp[600];
	snprintf(tp, sizeof(tp), "%s/tokens", sd);
	CHECK(cv_write_file_atomic(tp, text, strlen(text), 0600, &err) ==
		CV_OK);
	free(text);
	struct auth *a;
	struct hl_client_opts http = { .connect_timeout_ms = 500,
		.timeout_ms = 1000 };
	CHECK(auth_open(&a, &l, &http, &err) == CV_OK);
	const char *t = NULL;
	CHECK(auth_token(a, &t, &err) == CV_OK);
	CHECK_STR(t, "access-ok");
	CHECK_INT(auth_refresh_count(a), 0);
	/* refused: a refresh is attempted; the endpoint is down, and the
	 * error names neither the refresh token nor the client secret */
	CHECK(auth_refused(a, "access-ok", &err) == CV_EHTTP);
	CHECK_INT(auth_refresh_count(a), 1);
	CHECK(err && !strstr(err, "refresh-abc") &&
		!strstr(err, "client-secret-xyz"));
	free(err);
	err = NULL;
	auth_close(a);
	/* the refresh token on file is untouched by the failed refresh */
	char *got = NULL;
	size_t n;
	CHECK(cv_read_file(tp, 4096, &got, &n, &err) == CV_OK);
	CHECK(got && strstr(got, "refresh_token=refresh-abc\n"));
	free(got);
	CHECK(auth_remove(sd, &err) == CV_OK);
	free(sd);
}

static bool file_is(const char *path, const char *want)
{
	char *got = NULL, *err = NULL;
	size_t n;
	bool ok = cv_read_file(path, 4096, &got, &n, &err) == CV_OK &&
		  strcmp(got, want) == 0;
	free(got);
	free(err);
	return ok;
}

/* Staged credentials replace the working ones only when installed; an
 * OAuth refresh token is handed back to a file of the user's. */
static void test_staging(void)
{
	char *sd = auth_secrets_dir(dir, "LOC3");
	char *st = auth_staging_dir(sd);
	char *err = NULL;
	char p[600], src[512];
	CHECK(strcmp(st, sd) != 0);
	put("old.txt", "pit-old\n");
	put("new.txt", "pit-new\n");
	snprintf(src, sizeof(src), "%s/old.txt", dir);
	CHECK(auth_save_pit(sd, src, &err) == CV_OK);
	snprintf(src, sizeof(src), "%s/new.txt", dir);
	CHECK(auth_save_pit(st, src, &err) == CV_OK);
	snprintf(p, sizeof(p), "%s/token", sd);
	CHECK(file_is(p, "pit-old\n")); /* staged: not in place yet */
	CHECK(auth_install(st, sd, &err) == CV_OK);
	CHECK(file_is(p, "pit-new\n"));
	CHECK_INT(mode_of(sd), 0700);
	CHECK_INT(mode_of(st), -1);
	snprintf(p, sizeof(p), "%s.old", sd);
	CHECK_INT(mode_of(p), -1); /* the old ones are gone */
	/* installing where nothing was */
	CHECK(auth_remove(sd, &err) == CV_OK);
	CHECK(auth_save_pit(st, src, &err) == CV_OK);
	CHECK(auth_install(st, sd, &err) == CV_OK);
	snprintf(p, sizeof(p), "%s/token", sd);
	CHECK(file_is(p, "pit-new\n"));
	/* nothing staged: an error, and the working ones stay */
	CHECK(auth_install(st, sd, &err) == CV_EIO);
	CHECK(err != NULL);
	CHECK(file_is(p, "pit-new\n"));
	free(err);
	err = NULL;
	/* a PIT has no refresh token to hand back */
	struct store_location l = { .id = "LOC3",
		.auth = STORE_AUTH_PIT,
		.api_base = "http://127.0.0.1:1",
		.secrets_dir = sd };
	struct auth *a;
	CHECK(auth_open(&a, &l, NULL, &err) == CV_OK);
	snprintf(p, sizeof(p), "%s/back.txt", dir);
	CHECK(auth_export_refresh(a, p, &err) == CV_EINVAL);
	const char *gl = "x", *gs = "x";
	auth_granted(a, &gl, &gs);
	CHECK(gl == NULL && gs == NULL); /* no token reply seen */
	auth_close(a);
	free(err);
	err = NULL;
	CHECK(auth_remove(sd, &err) == CV_OK);
	/* OAuth: the refresh token on file goes back, 0600 */
	put("secret.txt", "client-secret-xyz\n");
	put("rt.txt", "refresh-abc\n");
	char s1[512], s2[512];
	snprintf(s1, sizeof(s1), "%s/secret.txt", dir);
	snprintf(s2, sizeof(s2), "%s/rt.txt", dir);
	CHECK(auth_save_oauth(sd, s1, s2, &err) == CV_OK);
	l.auth = STORE_AUTH_OAUTH;
	l.client_id = "cid";
	CHECK(auth_open(&a, &l, NULL, &err) == CV_OK);
	CHECK(auth_export_refresh(a, p, &err) == CV_OK);
	CHECK(file_is(p, "refresh-abc\n"));
	CHECK_INT(mode_of(p), 0600);
	auth_close(a);
	CHECK(auth_remove(sd, &err) == CV_OK);
	free(err);
	free(st);
	free(sd);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/cvauth.XXXXXX", tmp);
	if (!mkdtemp(dir))
		return 1;
	CHECK(auth_location_id_valid("abc_DEF-123"));
	CHECK(!auth_location_id_valid("../x"));
	CHECK(!auth_location_id_valid(""));
	test_pit();
	test_oauth();
	test_staging();
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.secrets'", dir, dir);
	if (system(cmd) != 0)
		return 1;
	return t_done();
}
