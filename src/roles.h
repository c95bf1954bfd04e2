/*
 * roles.h — what a console user may do: a set of permissions. The four
 * roles of old (viewer, exporter, hold-admin, admin) are presets, names
 * for common sets; a user may hold any other set. The console's route
 * table (console_routes.c) names the one permission each route needs.
 * No SQLite here: the store keeps the set as text (roles_format).
 */
#ifndef CV_ROLES_H
#define CV_ROLES_H

#include <stdbool.h>

enum perm {
	PERM_SEARCH = 1u << 0,       /* search, open calls, list holds and
					archives */
	PERM_EXPORT = 1u << 1,       /* export CSV */
	PERM_HOLD_PLACE = 1u << 2,   /* place legal holds */
	PERM_HOLD_RELEASE = 1u << 3, /* release holds of the user's matters
					(every matter with user-admin) */
	PERM_AUDIT_READ = 1u << 4,   /* read the audit log */
	PERM_USER_ADMIN = 1u << 5,   /* list users and their permissions */
};
#define PERM_N 6
#define PERM_ALL ((1u << PERM_N) - 1)

/* perm_names[i] names the permission 1u << i. */
extern const char *const perm_names[PERM_N];

/* The permissions of a preset role name; false when it is none. */
bool roles_preset(const char *name, unsigned *perms);
/* The preset whose set is exactly perms, NULL when none is. */
const char *roles_preset_of(unsigned perms);
/* The presets' names, "viewer, exporter, hold-admin or admin". */
extern const char roles_preset_list[];

/* Parse "search,export" (names from perm_names, comma-separated, no
 * blanks; "none" for the empty set). false with *errmsg naming what is
 * wrong (the caller frees it). */
bool roles_parse(const char *list, unsigned *perms, char **errmsg);
/* The set as roles_parse reads it, "search,export" or "none" (caller
 * frees). */
char *roles_format(unsigned perms);

#endif
