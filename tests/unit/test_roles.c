/*
 * test_roles.c — permission sets (issue 23): the names read and written
 * back, the presets, a bad name refused naming it; and a store whose
 * users were written with the four roles of old keeps what each could
 * do after the migration to permission sets.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "roles.h"
#include "store/store.h"
#include "store/store_users.h"
#include "old_store.h"
#include "t.h"
#include "util.h"

static char dir[] = "/tmp/cv_roles.XXXXXX";

static void test_sets(void)
{
	static const struct {
		const char *in, *out;
		unsigned perms;
	} rows[] = {
		{ "search", "search", PERM_SEARCH },
		{ "audit-read,search", "search,audit-read",
			PERM_SEARCH | PERM_AUDIT_READ },
		{ "none", "none", 0 },
		{ "search,export,hold-place,hold-release,audit-read,"
		  "user-admin",
			"search,export,hold-place,hold-release,"
			"audit-read,user-admin",
			PERM_ALL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned p = 99;
		char *err = NULL;
		CHECK_MSG(roles_parse(rows[i].in, &p, &err), "%s", rows[i].in);
		CHECK_INT(p, rows[i].perms);
		char *f = roles_format(p);
		CHECK_STR(f, rows[i].out);
		free(f);
	}
	static const char *const bad[] = { "", "search,", ",search", "admin",
		"search, export", "Search" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned p;
		char *err = NULL;
		CHECK_MSG(!roles_parse(bad[i], &p, &err), "'%s'", bad[i]);
		CHECK(err && strstr(err, "unknown permission"));
		free(err);
	}
	unsigned p = 0;
	CHECK(roles_preset("hold-admin", &p) && !(p & PERM_AUDIT_READ) &&
		(p & PERM_HOLD_RELEASE));
	CHECK(roles_preset("admin", &p) && p == PERM_ALL);
	CHECK(!roles_preset("custom", &p));
	CHECK_STR(roles_preset_of(PERM_SEARCH | PERM_EXPORT), "exporter");
	/* reading the audit log no longer comes with releasing holds */
	CHECK(roles_preset_of(PERM_SEARCH | PERM_AUDIT_READ) == NULL);
}

/* Users of the four roles, written before the migration. */
static void test_old_roles(void)
{
	char *path = xasprintf("%s/old.db", dir);
	store_before(path, "users: permission sets instead of four roles; "
			   "users' matters");
	static const char *const roles[] = { "viewer", "exporter", "hold-admin",
		"admin" };
	for (size_t i = 0; i < 4; i++) {
		char *q = xasprintf("INSERT INTO users(name, role, pw_hash,"
				    " disabled, created_at) VALUES ('%s',"
				    " '%s', 'h', 0, 1)",
			roles[i], roles[i]);
		sql(path, q);
		free(q);
	}
	struct store *s;
	char *err = NULL;
	CHECK(store_open(&s, path, 0, &err) == CV_OK);
	for (size_t i = 0; i < 4; i++) {
		struct store_user u;
		unsigned want = 0, got = 0;
		CHECK(store_user_get(s, roles[i], &u, &err) == CV_OK);
		CHECK(roles_preset(roles[i], &want));
		CHECK_MSG(u.permissions &&
				  roles_parse(u.permissions, &got, &err),
			"%s", roles[i]);
		CHECK_MSG(got == want, "%s: %x, want %x", roles[i], got, want);
		CHECK_STR(u.role, roles[i]);
		store_user_finish(&u);
	}
	/* a role of a newer kind can now be stored */
	CHECK(store_user_add(s, "ann", "custom", "search,audit-read", "h",
		      &err) == CV_OK);
	CHECK(store_user_matter(s, "ann", "Doe v. Acme", true, &err) == CV_OK);
	bool has = false;
	CHECK(store_user_has_matter(s, "ann", "Doe v. Acme", &has, &err) ==
			CV_OK &&
		has);
	CHECK(store_user_has_matter(s, "ann", "Roe", &has, &err) == CV_OK &&
		!has);
	CHECK(store_user_matter(s, "nobody", "Roe", true, &err) ==
		CV_ENOTFOUND);
	free(err);
	err = NULL;
	store_close(s);
	free(path);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_sets();
	test_old_roles();
	char *rm = xasprintf("rm -rf %s", dir);
	if (system(rm) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(rm);
	return t_done();
}
