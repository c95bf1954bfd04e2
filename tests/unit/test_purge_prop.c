/*
 * test_purge_prop.c — a property test of purge over random stores, holds,
 * policies and archive states (seeded, many small iterations). The test
 * keeps its own model of what is archived, verified, present on disk and
 * held, and checks that purge removes exactly the calls the model says may
 * go: never a held call, never one with a version outside a verified
 * archive whose file is intact, never one inside its retention period.
 */
#include "t.h"

#include "retention.h"
#include "rt_fixture.h"
#include "store/store_holds.h"
#include "store/store_retention.h"

#define N_CALLS 24
#define N_LOC 2
#define N_MONTH 4
#define MAX_ARCH 32

static uint64_t rng_state;
static int64_t total_gone, total_saved_by_hold, total_kept_unverified;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}
static bool chance(int pct)
{
	return (int)rnd(100) < pct;
}

struct mcall {
	char id[16];
	int loc, month, day, contact, agent;
	int version;
	int64_t created;
};
struct march {
	int loc, month;
	char path[4096], sha[CV_SHA256_HEX];
	bool verified, present;
	int covers[N_CALLS]; /* version covered, 0 = not in it */
};
struct mhold {
	int contact, loc, agent;  /* -1 = any */
	int from_month, to_month; /* -1 = none; [from, to] months */
	int call;                 /* -1 = none */
	bool released;
};

struct model {
	struct mcall c[N_CALLS];
	struct march a[MAX_ARCH];
	int n_arch;
	struct mhold h[4];
	int n_holds;
	int keep[N_LOC];               /* -1 = no policy */
	int archived_version[N_CALLS]; /* newest in any archive */
};

static void ingest_call(struct store *s, struct mcall *c)
{
	char json[512];
	c->version++;
	snprintf(json, sizeof(json),
		"{\"id\":\"%s\",\"locationId\":\"L%d\",\"agentId\":\"A%d\","
		"\"contactId\":\"K%d\",\"createdAt\":\"2026-%02d-%02dT12:00:00"
		".000Z\",\"summary\":\"v%d\",\"transcript\":\"bot: hi\"}",
		c->id, c->loc, c->agent, c->contact, c->month + 1, c->day,
		c->version);
	CHECK(rt_ingest(s, json) == 0);
	char ts[32];
	snprintf(ts, sizeof(ts), "2026-%02d-%02dT12:00:00Z", c->month + 1,
		c->day);
	cv_parse_iso8601(ts, &c->created);
}

struct grab {
	char path[4096], sha[CV_SHA256_HEX];
	bool wrote;
};
static void grab_cb(const struct archive_outcome *r, void *arg)
{
	struct grab *g = arg;
	g->wrote = *r->path != '\0';
	snprintf(g->path, sizeof(g->path), "%s", r->path);
	memcpy(g->sha, r->sha256, CV_SHA256_HEX);
}

static void do_archive(struct store *s, struct model *m, const char *dir,
	int loc, int month, int64_t now)
{
	char lname[16], mname[32];
	snprintf(lname, sizeof(lname), "L%d", loc);
	snprintf(mname, sizeof(mname), "2026-%02d", month + 1);
	struct archive_opts o = { .out_dir = dir,
		.location = lname,
		.month = mname,
		.actor = "prop",
		.level = 1,
		.now_ms = now };
	struct grab g = { .wrote = false };
	char *err = NULL;
	CHECK(archive_run(s, &o, grab_cb, &g, &err) == CV_OK);
	free(err);
	if (!g.wrote || m->n_arch == MAX_ARCH)
		return;
	struct march *a = &m->a[m->n_arch++];
	memset(a, 0, sizeof(*a));
	a->loc = loc;
	a->month = month;
	a->present = true;
	memcpy(a->path, g.path, sizeof(a->path));
	memcpy(a->sha, g.sha, CV_SHA256_HEX);
	for (int i = 0; i < N_CALLS; i++) {
		struct mcall *c = &m->c[i];
		if (c->loc != loc || c->month != month ||
			m->archived_version[i] >= c->version)
			continue;
		a->covers[i] = c->version;
		m->archived_version[i] = c->version;
	}
}

static bool held(const struct model *m, int i)
{
	const struct mcall *c = &m->c[i];
	for (int k = 0; k < m->n_holds; k++) {
		const struct mhold *h = &m->h[k];
		if (h->released)
			continue;
		if ((h->contact < 0 || h->contact == c->contact) &&
			(h->loc < 0 || h->loc == c->loc) &&
			(h->agent < 0 || h->agent == c->agent) &&
			(h->from_month < 0 || c->month >= h->from_month) &&
			(h->to_month < 0 || c->month <= h->to_month) &&
			(h->call < 0 || h->call == i))
			return true;
	}
	return false;
}

static bool may_go(const struct model *m, int i)
{
	const struct mcall *c = &m->c[i];
	/* now is 2026-07: keep N months keeps months >= 6 - N (0-based) */
	if (m->keep[c->loc] < 0 || c->month > 5 - m->keep[c->loc])
		return false;
	if (held(m, i))
		return false;
	for (int k = 0; k < m->n_arch; k++) {
		const struct march *a = &m->a[k];
		if (a->covers[i] == c->version && a->verified && a->present)
			return true;
	}
	return false;
}

static void place_holds(struct store *s, struct model *m)
{
	m->n_holds = (int)rnd(4);
	for (int k = 0; k < m->n_holds; k++) {
		struct mhold *h = &m->h[k];
		*h = (struct mhold){ -1, -1, -1, -1, -1, -1, false };
		char contact[8], loc[8], agent[8];
		char ids[1][16];
		const char *idp[1];
		struct store_hold sh = { .matter = "matter" };
		do {
			if (chance(40)) {
				h->contact = (int)rnd(4);
				snprintf(contact, sizeof(contact), "K%d",
					h->contact);
				sh.contact_id = contact;
			}
			if (chance(30)) {
				h->loc = (int)rnd(N_LOC);
				snprintf(loc, sizeof(loc), "L%d", h->loc);
				sh.location_id = loc;
			}
			if (chance(20)) {
				h->agent = (int)rnd(3);
				snprintf(agent, sizeof(agent), "A%d", h->agent);
				sh.agent_id = agent;
			}
			if (chance(30)) {
				h->from_month = (int)rnd(N_MONTH);
				h->to_month = h->from_month + (int)rnd(2);
				char f[32], t[32];
				snprintf(f, sizeof(f), "2026-%02d-01",
					h->from_month + 1);
				snprintf(t, sizeof(t), "2026-%02d-01",
					h->to_month + 2);
				sh.has_from = sh.has_to = true;
				cv_parse_iso8601(f, &sh.from_ms);
				cv_parse_iso8601(t, &sh.to_ms);
			}
			if (chance(30)) {
				h->call = (int)rnd(N_CALLS);
				snprintf(ids[0], sizeof(ids[0]), "%s",
					m->c[h->call].id);
				idp[0] = ids[0];
				sh.call_ids = idp;
				sh.n_calls = 1;
			}
		} while (h->contact < 0 && h->loc < 0 && h->agent < 0 &&
			 h->from_month < 0 && h->call < 0);
		int64_t id;
		CHECK(store_hold_add(s, &sh, "prop", &id, NULL) == CV_OK);
		if (chance(30)) {
			h->released = true;
			CHECK(store_hold_release(s, id, "prop", "done", NULL) ==
				CV_OK);
		}
	}
}

static void one_round(const char *dir, int round)
{
	char *db = xasprintf("%s/r%d.db", dir, round);
	char *out = xasprintf("%s/a%d", dir, round);
	struct store *s;
	struct model m;
	memset(&m, 0, sizeof(m));
	CHECK(store_open(&s, db, 0, NULL) == CV_OK);
	int64_t now;
	cv_parse_iso8601("2026-07-15T00:00:00Z", &now);
	for (int i = 0; i < N_CALLS; i++) {
		struct mcall *c = &m.c[i];
		snprintf(c->id, sizeof(c->id), "c%02d", i);
		c->loc = (int)rnd(N_LOC);
		c->month = (int)rnd(N_MONTH);
		c->day = 1 + (int)rnd(28);
		c->contact = (int)rnd(4);
		c->agent = (int)rnd(3);
		ingest_call(s, c);
	}
	for (int l = 0; l < N_LOC; l++) {
		m.keep[l] = chance(20) ? -1 : (int)rnd(6);
		if (m.keep[l] >= 0) {
			char name[8];
			snprintf(name, sizeof(name), "L%d", l);
			CHECK(store_ret_set_policy(s, name, m.keep[l], "prop",
				      NULL) == CV_OK);
		}
	}
	/* archive, change some calls, maybe archive again (supplements) */
	for (int pass = 0; pass < 2; pass++) {
		for (int l = 0; l < N_LOC; l++)
			for (int mo = 0; mo < N_MONTH; mo++)
				if (chance(70))
					do_archive(s, &m, out, l, mo, now);
		for (int i = 0; i < N_CALLS; i++)
			if (chance(15))
				ingest_call(s, &m.c[i]);
	}
	for (int k = 0; k < m.n_arch; k++) {
		struct march *a = &m.a[k];
		int n = 0;
		if (chance(70)) {
			a->verified = true;
			CHECK(store_ret_mark_verified(s, a->sha, now, &n,
				      NULL) == CV_OK);
			CHECK_INT(n, 1);
		}
		if (chance(10)) {
			a->present = false;
			unlink(a->path);
		} else if (chance(5)) {
			a->present = false; /* changed on disk */
			FILE *f = fopen(a->path, "ab");
			fputc('x', f);
			fclose(f);
		}
	}
	place_holds(s, &m);
	bool was_held[N_CALLS];
	for (int i = 0; i < N_CALLS; i++) {
		CHECK(store_hold_is_held(s, m.c[i].id, &was_held[i], NULL) ==
			CV_OK);
		CHECK_MSG(was_held[i] == held(&m, i), "round %d: hold of %s",
			round, m.c[i].id);
	}
	struct purge_opts po = { .actor = "prop", .now_ms = now };
	struct purge_stats st;
	char *err = NULL;
	CHECK(purge_run(s, &po, &st, &err) == CV_OK);
	free(err);
	int64_t gone = 0;
	for (int i = 0; i < N_CALLS; i++) {
		struct store_call sc;
		bool present = store_get_call(s, m.c[i].id, &sc, NULL) == CV_OK;
		store_call_finish(&sc);
		CHECK_MSG(present != may_go(&m, i),
			"round %d: %s present=%d, model says may go=%d", round,
			m.c[i].id, present, may_go(&m, i));
		CHECK_MSG(!(was_held[i] && !present),
			"round %d: held call %s purged", round, m.c[i].id);
		gone += !present;
		/* a tombstone exactly for each call that went */
		bool dead = !present;
		CHECK(store_tombstoned(s, m.c[i].id, NULL, &dead, NULL) ==
			CV_OK);
		CHECK_MSG(dead == !present,
			"round %d: %s tombstone=%d "
			"present=%d",
			round, m.c[i].id, dead, present);
		if (present && was_held[i]) {
			/* would it have gone without any hold? */
			int nh = m.n_holds;
			m.n_holds = 0;
			total_saved_by_hold += may_go(&m, i);
			m.n_holds = nh;
		}
		total_kept_unverified += present && !was_held[i] &&
					 m.archived_version[i] ==
						 m.c[i].version;
	}
	total_gone += gone;
	CHECK_INT(st.purged, gone);
	/* and nothing that went comes back by ingest */
	for (int i = 0; i < N_CALLS; i++) {
		bool dead = false;
		CHECK(store_tombstoned(s, m.c[i].id, NULL, &dead, NULL) ==
			CV_OK);
		if (!dead)
			continue;
		ingest_call(s, &m.c[i]);
		struct store_call sc;
		CHECK_MSG(store_get_call(s, m.c[i].id, &sc, NULL) ==
				  CV_ENOTFOUND,
			"round %d: %s came back", round, m.c[i].id);
		store_call_finish(&sc);
	}
	CHECK(store_check(s, NULL) == CV_OK);
	store_close(s);
	free(db);
	free(out);
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 20261127;
	int rounds = argc > 2 ? atoi(argv[2]) : rt_under_valgrind() ? 6 : 40;
	rng_state = seed ? seed : 1;
	char *dir = rt_tempdir();
	for (int r = 0; r < rounds; r++)
		one_round(dir, r);
	rt_rmrf(dir);
	free(dir);
	printf("seed %llu, %d rounds: %lld purged, %lld kept only by a hold, "
	       "%lld archived but kept\n",
		(unsigned long long)seed, rounds, (long long)total_gone,
		(long long)total_saved_by_hold,
		(long long)total_kept_unverified);
	/* the random states must reach every branch */
	CHECK(total_gone > 0);
	CHECK(total_saved_by_hold > 0);
	CHECK(total_kept_unverified > 0);
	return t_done();
}
