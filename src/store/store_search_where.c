/*
 * store_search_where.c — see store_search_int.h: the text condition and
 * the filters of a search as SQL over calls c, with their bound values.
 */
#include "store_search.h"
#include "store_search_int.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The next free value; a query past the bound in store_search.h is a
 * bug (search_parse bounds the terms), not something to bind past. */
static size_t arg_next(struct store_sql_args *a)
{
	if (a->n >= STORE_SQL_ARGS_MAX)
		abort();
	return a->n++;
}

void store_sql_arg_text(struct store_sql_args *a, const char *s)
{
	size_t k = arg_next(a);
	a->v[k].type = ARG_TEXT;
	a->v[k].s = s;
}

void store_sql_arg_int(struct store_sql_args *a, int64_t i)
{
	size_t k = arg_next(a);
	a->v[k].type = ARG_INT;
	a->v[k].i = i;
}

static void arg_real(struct store_sql_args *a, double d)
{
	size_t k = arg_next(a);
	a->v[k].type = ARG_REAL;
	a->v[k].d = d;
}

static void cond_arg(struct store_sql_args *a, const char *v,
	const char **labels, const char *label)
{
	if (labels)
		labels[a->n] = label;
	store_sql_arg_text(a, v);
}

void store_cond_sql(const struct search_cond *c, struct buf *sql,
	struct store_sql_args *a, const char **labels)
{
	switch (c->kind) {
	case SEARCH_COND_TEXT:
		buf_puts(sql, "c.rid IN (SELECT rowid FROM calls_fts WHERE "
			      "calls_fts MATCH ?)");
		cond_arg(a, c->match, labels, "calls_fts");
		return;
	case SEARCH_COND_DIGITS:
		buf_puts(sql, "c.rid IN (SELECT rowid FROM calls_digits WHERE "
			      "calls_digits MATCH ?");
		buf_puts(sql, c->whole ? " AND instr(digits, ?) > 0)" : ")");
		cond_arg(a, c->match, labels, "calls_digits");
		if (c->whole)
			cond_arg(a, c->whole, labels, "text");
		return;
	case SEARCH_COND_LITERAL:
		if (c->match) {
			buf_puts(sql, "c.rid IN (SELECT rowid FROM calls_fts "
				      "WHERE calls_fts MATCH ?) AND ");
			cond_arg(a, c->match, labels, "calls_fts");
		}
		buf_puts(sql, "(instr(c.summary, ?) > 0 OR "
			      "instr(c.transcript, ?) > 0)");
		cond_arg(a, c->whole, labels, "text");
		cond_arg(a, c->whole, labels, "text");
		return;
	case SEARCH_COND_AND:
	case SEARCH_COND_OR:
		buf_putc(sql, '(');
		for (size_t i = 0; i < c->n; i++) {
			if (i)
				buf_puts(sql, c->kind == SEARCH_COND_OR
						      ? " OR "
						      : " AND ");
			if (i >= c->n - c->n_neg)
				buf_puts(sql, "NOT ");
			store_cond_sql(&c->kids[i], sql, a, labels);
		}
		buf_putc(sql, ')');
		return;
	}
}

char *store_search_describe(const struct search_plan *pl)
{
	struct buf b;
	buf_init(&b);
	if (pl->fts) {
		buf_printf(&b, "fts: %s", pl->fts);
	} else if (pl->cond) {
		struct buf sql;
		struct store_sql_args a = { 0 };
		const char *labels[STORE_SQL_ARGS_MAX];
		buf_init(&sql);
		store_cond_sql(pl->cond, &sql, &a, labels);
		buf_printf(&b, "where: %s", sql.data);
		for (size_t i = 0; i < a.n; i++)
			buf_printf(&b, "\n  ?%zu %s: %s", i + 1, labels[i],
				a.v[i].s);
		buf_finish(&sql);
	} else {
		buf_puts(&b, "(no text condition)");
	}
	return buf_steal(&b);
}

void store_filter_sql(const struct search_filter *f, struct buf *sql,
	struct store_sql_args *a)
{
	if (!f)
		return;
	if (f->has_from) {
		buf_puts(sql, " AND c.created_at >= ?");
		store_sql_arg_int(a, f->from_ms);
	}
	if (f->has_to) {
		buf_puts(sql, " AND c.created_at <= ?");
		store_sql_arg_int(a, f->to_ms);
	}
	const struct {
		const char *v, *sql;
	} eq[] = {
		{ f->location, " AND c.location_id = ?" },
		{ f->contact, " AND c.contact_id = ?" },
		{ f->number_e164[0] ? f->number_e164 : NULL,
			" AND c.from_e164 = ?" },
		{ f->action, " AND instr(',' || c.action_types || ',',"
			     " ',' || ? || ',') > 0" },
	};
	for (size_t i = 0; i < CV_ARRAY_LEN(eq); i++) {
		if (eq[i].v) {
			buf_puts(sql, eq[i].sql);
			store_sql_arg_text(a, eq[i].v);
		}
	}
	if (f->agent && f->agent_resolved) {
		buf_puts(sql, " AND c.agent_id IN (");
		for (size_t i = 0; i < f->n_agent_ids; i++) {
			buf_puts(sql, i ? ", ?" : "?");
			store_sql_arg_text(a, f->agent_ids[i]);
		}
		buf_putc(sql, ')');
	} else if (f->agent) {
		buf_puts(sql,
			" AND (c.agent_id = ? OR c.agent_id IN (SELECT"
			" id FROM agents WHERE name = ? COLLATE NOCASE))");
		store_sql_arg_text(a, f->agent);
		store_sql_arg_text(a, f->agent);
	}
	if (f->has_min_duration) {
		buf_puts(sql, " AND c.duration >= ?");
		arg_real(a, f->min_duration);
	}
	if (f->has_max_duration) {
		buf_puts(sql, " AND c.duration <= ?");
		arg_real(a, f->max_duration);
	}
	if (f->trial == 1)
		buf_puts(sql, " AND c.trial_call = 1");
	else if (f->trial == 0)
		buf_puts(sql, " AND coalesce(c.trial_call, 0) = 0");
}

void store_bind_args(sqlite3_stmt *st, int first,
	const struct store_sql_args *a)
{
	for (size_t k = 0; k < a->n; k++) {
		int i = first + (int)k;
		switch (a->v[k].type) {
		case ARG_TEXT: store_bind_text(st, i, a->v[k].s); break;
		case ARG_INT: sqlite3_bind_int64(st, i, a->v[k].i); break;
		case ARG_REAL: sqlite3_bind_double(st, i, a->v[k].d); break;
		}
	}
}

enum cv_err store_resolve_agent(struct store *s, struct search_filter *f,
	char **errmsg)
{
	static const char sql[] =
		"SELECT DISTINCT id FROM agents WHERE id = ?1 OR"
		" name = ?1 COLLATE NOCASE ORDER BY id LIMIT 7";
	if (!f || !f->agent || f->agent_resolved)
		return CV_OK;
	size_t max = sizeof(f->agent_ids[0]);
	f->n_agent_ids = 0;
	snprintf(f->agent_ids[f->n_agent_ids++], max, "%s", f->agent);
	sqlite3_stmt *st = store_stmt(s, sql, errmsg);
	if (!st)
		return CV_EDB;
	sqlite3_bind_text(st, 1, f->agent, -1, SQLITE_STATIC);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		if (id && strcmp(id, f->agent) != 0)
			snprintf(f->agent_ids[f->n_agent_ids++], max, "%s", id);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_dberr(s, errmsg, "resolve agent");
	f->agent_resolved = true;
	return CV_OK;
}
