/* publish.c — see publish.h */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_media.h"
#include "bagjson.h"
#include "retention.h"
#include "seal.h"
#include "store/store_archive_state.h"
#include "store/store_audit.h"

void publish_crash_point(const char *point)
{
	const char *want = getenv("CALLVAULT_TEST_CRASH");
	if (want && !strcmp(want, point))
		raise(SIGKILL);
}

/* Is the process that wrote an intent or a temp file still running? */
static bool pid_alive(int64_t pid)
{
	if (pid <= 0 || pid > INT32_MAX || pid == (int64_t)getpid())
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

void publish_unlink_pair(const char *path)
{
	char *side = xasprintf("%s.sha256", path);
	unlink(path);
	unlink(side);
	free(side);
}

enum cv_err publish_write_sidecar(const char *path, const char *sha256,
	char **errmsg)
{
	const char *slash = strrchr(path, '/');
	char *side = xasprintf("%s.sha256", path);
	char *line = xasprintf("%s  %s\n", sha256, slash ? slash + 1 : path);
	enum cv_err rc = cv_write_file_atomic(side, line, strlen(line),
		(int)cv_data_mode(), errmsg);
	free(line);
	free(side);
	return rc;
}

enum cv_err publish_record(const struct publish *p, char **errmsg)
{
	enum cv_err rc = store_begin(p->s, errmsg);
	if (rc != CV_OK)
		return rc;
	struct store_archive *r = p->rec;
	if (p->rebuild_id)
		rc = store_ret_archive_rebuilt(p->s, p->rebuild_id, r->sha256,
			r->size, errmsg);
	else if ((rc = store_ret_add_archive(p->s, r, p->ids, p->vids, p->n,
			  errmsg)) == CV_OK)
		rc = store_ret_put_baginfo(p->s, r->id, p->bag_info,
			p->bag_info_len, errmsg);
	if (rc == CV_OK && !p->rebuild_id && p->media)
		rc = amedia_record(p->media, p->s, r->id, errmsg);
	if (rc == CV_OK && !p->rebuild_id)
		rc = seal_record(p->s, r->id, p->seal, errmsg);
	struct buf loc;
	buf_init(&loc);
	bagjson_cstr(&loc, r->location_id);
	char *d = xasprintf("{\"archive\":\"%s\",\"sha256\":\"%s\","
			    "\"calls\":%lld,\"location\":%s%s}",
		p->name, r->sha256, (long long)r->n_calls, loc.data,
		p->rebuild_id ? ",\"rebuilt\":true" : "");
	if (rc == CV_OK)
		rc = store_audit_append(p->s, p->actor, "archive", d,
			r->n_calls, errmsg);
	free(d);
	buf_finish(&loc);
	if (rc == CV_OK && p->also)
		rc = p->also(p->s, r->id, p->also_arg, errmsg);
	if (rc == CV_OK)
		rc = store_ret_intent_drop(p->s, p->path, errmsg);
	if (rc == CV_OK)
		rc = store_commit(p->s, errmsg);
	else
		store_rollback(p->s);
	return rc;
}

enum cv_err publish_archive(const struct publish *p, struct sink *sk,
	char **errmsg)
{
	enum cv_err rc = store_ret_intent_put(p->s, p->path, p->rec->sha256,
		(int64_t)getpid(), p->now, errmsg);
	if (rc != CV_OK)
		return rc;
	publish_crash_point("before-rename");
	rc = sink_commit(sk, errmsg);
	publish_crash_point("after-rename");
	if (rc == CV_OK)
		rc = publish_write_sidecar(p->path, p->rec->sha256, errmsg);
	publish_crash_point("after-sidecar");
	if (rc == CV_OK)
		rc = publish_record(p, errmsg);
	if (rc != CV_OK) {
		/* a new archive's path was free (checked); a rebuild's file
		 * was lost or damaged already */
		publish_unlink_pair(p->path);
		/* should this fail, the next run rolls the intent back */
		(void)!store_ret_intent_drop(p->s, p->path, NULL);
	}
	return rc;
}

/*
 * One intent of a dead writer: finish, roll back, or just forget it. The
 * file at the path is the one intended when it has the intended hash:
 * recorded with that hash, it is finished; recorded with another (a
 * rebuild, which was checked against the record's tag manifest before
 * its intent), the record takes the new hash; not recorded, it goes.
 */
static enum cv_err recover_one(struct store *s, const struct store_intent *it,
	bool *finished, char **errmsg)
{
	struct store_archive rec;
	char *e = NULL;
	enum cv_err rc = store_ret_archive_at(s, it->path, &rec, &e);
	free(e);
	if (rc != CV_OK && rc != CV_ENOTFOUND)
		return cv_error(errmsg, rc,
			"publish intent %s: cannot look up "
			"its record",
			it->path);
	int64_t id = rc == CV_OK ? rec.id : 0;
	bool same = id && !strcmp(rec.sha256, it->sha256);
	if (id)
		store_archive_finish(&rec);
	char sha[CV_SHA256_HEX];
	struct stat st;
	bool there = retention_file_sha256(it->path, sha) &&
		     !strcmp(sha, it->sha256) && stat(it->path, &st) == 0;
	*finished = there && id;
	rc = CV_OK;
	if (there && id && !same)
		rc = store_ret_archive_rebuilt(s, id, it->sha256,
			(int64_t)st.st_size, errmsg);
	if (there && id && rc == CV_OK)
		rc = publish_write_sidecar(it->path, it->sha256, errmsg);
	else if (there && !id)
		publish_unlink_pair(it->path);
	return rc == CV_OK ? store_ret_intent_drop(s, it->path, errmsg) : rc;
}

enum cv_err publish_recover(struct store *s,
	void (*fn)(const char *path, bool finished, void *arg), void *arg,
	char **errmsg)
{
	struct store_intent *v;
	size_t n;
	enum cv_err rc = store_ret_intents(s, &v, &n, errmsg);
	for (size_t i = 0; i < n && rc == CV_OK; i++) {
		bool finished = false;
		if (pid_alive(v[i].pid))
			continue;
		rc = recover_one(s, &v[i], &finished, errmsg);
		if (rc == CV_OK)
			cv_warn("level=warn archive=%s msg=\"%s a half-published "
				"archive of process %lld\"",
				v[i].path,
				finished ? "finished" : "rolled back",
				(long long)v[i].pid);
		if (rc == CV_OK && fn)
			fn(v[i].path, finished, arg);
	}
	store_intents_free(v, n);
	return rc;
}

/* "<x>.tar.zst.tmp.<pid>" or "<x>.tar.zst.sha256.tmp.<pid>": the pid. */
static int64_t temp_pid(const char *name)
{
	const char *t = strstr(name, ".tar.zst.tmp.");
	size_t skip = strlen(".tar.zst.tmp.");
	if (!t) {
		t = strstr(name, ".tar.zst.sha256.tmp.");
		skip = strlen(".tar.zst.sha256.tmp.");
	}
	if (!t || !t[skip])
		return 0;
	char *end;
	errno = 0;
	long long pid = strtoll(t + skip, &end, 10);
	return *end || errno || pid <= 0 ? 0 : (int64_t)pid;
}

int publish_sweep_temps(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int64_t pid = temp_pid(de->d_name);
		if (!pid || pid_alive(pid))
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && !unlink(p))
			removed++;
		free(p);
	}
	closedir(d);
	return removed;
}

int publish_sweep_tree(const char *out_dir)
{
	int removed = publish_sweep_temps(out_dir);
	DIR *d = opendir(out_dir);
	if (!d)
		return removed;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", out_dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			removed += publish_sweep_temps(p);
		free(p);
	}
	closedir(d);
	return removed;
}
