/* roles.c — see roles.h */
#include "roles.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util.h"

const char *const perm_names[PERM_N] = { "search", "export", "hold-place",
	"hold-release", "audit-read", "user-admin" };

/* Each role includes the one before it, as the roles always did;
 * admin alone reads the audit log and administers users. */
static const struct {
	const char *name;
	unsigned perms;
} presets[] = {
	{ "viewer", PERM_SEARCH },
	{ "exporter", PERM_SEARCH | PERM_EXPORT },
	{ "hold-admin", PERM_SEARCH | PERM_EXPORT | PERM_HOLD_PLACE |
				PERM_HOLD_RELEASE },
	{ "admin", PERM_ALL },
};

const char roles_preset_list[] = "viewer, exporter, hold-admin or admin";

bool roles_preset(const char *name, unsigned *perms)
{
	for (size_t i = 0; name && i < CV_ARRAY_LEN(presets); i++)
		if (strcmp(name, presets[i].name) == 0) {
			*perms = presets[i].perms;
			return true;
		}
	return false;
}

const char *roles_preset_of(unsigned perms)
{
	for (size_t i = 0; i < CV_ARRAY_LEN(presets); i++)
		if (presets[i].perms == perms)
			return presets[i].name;
	return NULL;
}

static int perm_index(const char *p, size_t n)
{
	for (int i = 0; i < PERM_N; i++)
		if (strlen(perm_names[i]) == n &&
			strncmp(p, perm_names[i], n) == 0)
			return i;
	return -1;
}

bool roles_parse(const char *list, unsigned *perms, char **errmsg)
{
	*perms = 0;
	if (strcmp(list, "none") == 0)
		return true;
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		int i = perm_index(p, n);
		if (i < 0) {
			*errmsg = xasprintf("unknown permission '%.*s' (known: "
					    "search, export, hold-place, "
					    "hold-release, audit-read, "
					    "user-admin; or none)",
				(int)(n > 64 ? 64 : n), p);
			return false;
		}
		*perms |= 1u << i;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

char *roles_format(unsigned perms)
{
	struct buf b;
	buf_init(&b);
	for (int i = 0; i < PERM_N; i++)
		if (perms & (1u << i))
			buf_printf(&b, "%s%s", b.len ? "," : "", perm_names[i]);
	if (!b.len)
		buf_puts(&b, "none");
	return buf_steal(&b);
}
