/* simdata.c — see simdata.h */
#include "simdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "util.h"

#define HEX "0123456789abcdef"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

uint64_t sim_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

double sim_randf(uint64_t *state)
{
	return (double)(sim_rand(state) >> 11) / 9007199254740992.0;
}

int64_t sim_range(uint64_t *state, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)(sim_rand(state) % (uint64_t)(hi - lo + 1));
}

void sim_randstr(uint64_t *state, const char *alphabet, size_t n, char *out)
{
	size_t k = strlen(alphabet);
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[sim_rand(state) % k];
	out[n] = '\0';
}

static const char *pick(uint64_t *rng, const char *const *list, size_t n)
{
	return list[sim_rand(rng) % n];
}
#define PICK(rng, arr) pick(rng, arr, CV_ARRAY_LEN(arr))

static const char *const BUSINESSES[] = { "Acme Roofing", "Bright Dental",
	"Cedar Plumbing", "Delta Law Group", "Evergreen Clinic",
	"Fox Auto Repair", "Granite Realty", "Harbor Insurance" };
static const char *const AGENT_NAMES[] = { "Front Desk", "After Hours",
	"Billing", "Scheduler", "Intake", "Support Line" };
static const char *const BOT_LINES[] = {
	"Thanks for calling %s, how can I help you today?",
	"I can help with that. Could you give me your full name, please?",
	"Thank you. And what is the best number to reach you at?",
	"Let me check the calendar for the next available appointment.",
	"I have Thursday at 10 AM or Friday at 2 PM. Which works better?",
	"Our cancellation fee is 25 dollars if you cancel within 24 hours.",
	"I understand. Let me transfer you to a manager who can help.",
	"Is there anything else I can help you with today?",
	"I've booked that for you; you'll get a text confirmation shortly.",
	"Our office hours are Monday through Friday, 8 to 5.",
};
static const char *const HUMAN_LINES[] = {
	"Hi, I'm calling about a roof leak.",
	"Sure, it's Maria Lopez.",
	"You can reach me at 512 555 0143.",
	"Thursday works for me.",
	"I'd like to ask about a refund for my last invoice.",
	"What's the cancellation policy?",
	"Can I speak to a manager, please?",
	"My email is priya@example.com.",
	"No, that's all. Thank you so much.",
	"I was charged twice, I don't think that's right.",
	"Hello?",
};
static const char *const TOPICS[] = { "a roof leak", "a billing question",
	"an appointment", "a refund", "an estimate", "insurance coverage" };
static const char *const OUTCOMES[] = { "appointment booked",
	"transferred to a manager", "refund requested", "question answered",
	"caller hung up" };
static const char *const ACTION_TYPES[] = { "CALL_TRANSFER", "DATA_EXTRACTION",
	"IN_CALL_DATA_EXTRACTION", "WORKFLOW_TRIGGER", "SMS",
	"APPOINTMENT_BOOKING", "CUSTOM_ACTION", "KNOWLEDGE_BASE" };

static void iso(int64_t ms, char out[32])
{
	cv_format_iso8601(ms, out);
}

static json_t *jiso(int64_t ms)
{
	char b[32];
	iso(ms, b);
	return json_string(b);
}

static json_t *jrandstr(uint64_t *rng, const char *alpha, size_t n)
{
	char b[64];
	sim_randstr(rng, alpha, n, b);
	return json_string(b);
}

static void make_agent(struct sim_location *l, int j, uint64_t *rng)
{
	struct sim_agent *a = &l->agents[j];
	sim_randstr(rng, HEX, 24, a->id);
	a->deleted = l->n_agents >= 3 && j == l->n_agents - 1;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(a->id));
	json_object_set_new(o, "locationId", json_string(l->id));
	char name[64];
	snprintf(name, sizeof(name), "%s %d",
		AGENT_NAMES[(size_t)j % CV_ARRAY_LEN(AGENT_NAMES)], j + 1);
	json_object_set_new(o, "agentName", json_string(name));
	json_object_set_new(o, "businessName", json_string(l->business));
	char welcome[128];
	snprintf(welcome, sizeof(welcome), BOT_LINES[0], l->business);
	json_object_set_new(o, "welcomeMessage", json_string(welcome));
	json_object_set_new(o, "agentPrompt",
		json_string("You are the receptionist. Be brief and polite."));
	json_object_set_new(o, "voiceId", jrandstr(rng, HEX, 24));
	json_object_set_new(o, "language", json_string("en-US"));
	json_object_set_new(o, "patienceLevel", json_string("medium"));
	json_object_set_new(o, "maxCallDuration",
		json_integer(sim_range(rng, 180, 900)));
	json_object_set_new(o, "sendUserIdleReminders", json_true());
	json_object_set_new(o, "reminderAfterIdleTimeSeconds",
		json_integer(sim_range(rng, 1, 20)));
	if (sim_randf(rng) < 0.7) {
		char num[24];
		snprintf(num, sizeof(num), "+1512555%04d",
			(int)sim_range(rng, 0, 9999));
		json_object_set_new(o, "inboundNumber", json_string(num));
	}
	json_object_set_new(o, "callEndWorkflowIds", json_array());
	json_object_set_new(o, "timezone", json_string("America/Chicago"));
	json_object_set_new(o, "isAgentAsBackupDisabled", json_false());
	json_object_set_new(o, "translation", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(o, "actions", json_array());
	a->obj = o;
}

static void make_location(struct simdata *sd, int i)
{
	struct sim_location *l = &sd->locs[i];
	uint64_t rng = sd->o.seed * 1000003ULL + (uint64_t)i * 7919ULL + 17;
	sim_rand(&rng);
	sim_randstr(&rng, ALNUM, 20, l->id);
	char u[33];
	sim_randstr(&rng, HEX, 32, u);
	snprintf(l->pit, sizeof(l->pit), "pit-%.8s-%.4s-4%.3s-8%.3s-%.12s", u,
		u + 8, u + 12, u + 15, u + 18);
	l->business = xstrdup(BUSINESSES[(size_t)i % CV_ARRAY_LEN(BUSINESSES)]);
	l->n_agents = sd->o.agents_per_location;
	l->agents = xcalloc((size_t)l->n_agents, sizeof(*l->agents));
	for (int j = 0; j < l->n_agents; j++)
		make_agent(l, j, &rng);
	l->n_contacts = sd->o.contacts_per_location;
	l->contacts = xcalloc((size_t)l->n_contacts, sizeof(*l->contacts));
	for (int j = 0; j < l->n_contacts; j++)
		sim_randstr(&rng, ALNUM, 20, l->contacts[j]);
}

static char *make_transcript(uint64_t *rng, const char *business)
{
	struct buf b;
	buf_init(&b);
	const char *sep = sim_randf(rng) < 0.6 ? " " : "";
	int turns = (int)sim_range(rng, 4, 12);
	for (int t = 0; t < turns; t++) {
		bool bot = t % 2 == 0 || sim_randf(rng) < 0.1;
		if (t)
			buf_putc(&b, '\n');
		buf_printf(&b, "%s:%s", bot ? "bot" : "human", sep);
		if (bot && t == 0)
			buf_printf(&b, BOT_LINES[0], business);
		else if (bot)
			buf_puts(&b,
				BOT_LINES[1 + sim_rand(rng) %
						      (CV_ARRAY_LEN(BOT_LINES) -
							      1)]);
		else
			buf_puts(&b, PICK(rng, HUMAN_LINES));
	}
	return buf_steal(&b);
}

static json_t *action_params(uint64_t *rng, const char *type)
{
	if (!strcmp(type, "CALL_TRANSFER"))
		return json_pack("{s:s,s:s,s:s,s:s,s:b}", "triggerPrompt",
			"caller asks for a person", "transferToType", "number",
			"transferToValue", "+15125550100", "triggerMessage",
			"Transferring you now.", "hearWhisperMessage", 1);
	if (!strcmp(type, "SMS"))
		return json_pack("{s:s,s:s,s:s}", "triggerPrompt",
			"caller wants a link", "triggerMessage",
			"Sending a text.", "messageBody",
			"Here is the link: https://example.com/b");
	if (!strcmp(type, "APPOINTMENT_BOOKING"))
		return json_pack("{s:o,s:i,s:i,s:i}", "calendarId",
			jrandstr(rng, ALNUM, 20), "daysOfOfferingDates", 3,
			"slotsPerDay", 2, "hoursBetweenSlots", 2);
	if (!strcmp(type, "WORKFLOW_TRIGGER"))
		return json_pack("{s:s,s:s,s:o}", "triggerPrompt", "on booking",
			"triggerMessage", "One moment.", "workflowId",
			jrandstr(rng, HEX, 24));
	if (!strcmp(type, "KNOWLEDGE_BASE"))
		return json_pack("{s:s,s:s,s:o,s:[]}", "triggerPrompt", "faq",
			"triggerMessage", "Let me look.", "knowledgeBaseId",
			jrandstr(rng, HEX, 24), "parameters");
	if (!strcmp(type, "CUSTOM_ACTION")) {
		char secret[40] = "sk_live_";
		sim_randstr(rng, ALNUM, 24, secret + 8);
		json_t *hdr = json_pack("[{s:s,s:o}]", "key", "X-Api-Key",
			"value", jrandstr(rng, ALNUM, 16));
		json_t *api =
			json_pack("{s:s,s:s,s:b,s:s,s:o,s:[{s:s,s:s,s:s,s:s}]}",
				"url", "https://api.example.com/lookup",
				"method", "POST", "authenticationRequired", 1,
				"authenticationValue", secret, "headers", hdr,
				"parameters", "name", "email", "description",
				"caller email", "type", "string", "example",
				"a@example.com");
		return json_pack("{s:s,s:s,s:o,s:[s]}", "triggerPrompt",
			"caller asks for order status", "triggerMessage",
			"Checking that.", "apiDetails", api,
			"responsePathsToExtract", "data.status");
	}
	return json_pack("{s:s,s:s,s:[s],s:b}", "contactFieldId", "email",
		"description", "caller email", "examples", "a@example.com",
		"overwriteExistingValue", 0);
}

static json_t *make_actions(uint64_t *rng, int64_t created, double duration)
{
	json_t *arr = json_array();
	int n = (int)(sim_rand(rng) % 5);
	n = n > 2 ? n - 2 : 0; /* 0,0,0,1,2 */
	for (int k = 0; k < n; k++) {
		const char *type = PICK(rng, ACTION_TYPES);
		int64_t trig = created +
			       sim_range(rng, 1000,
				       (int64_t)(duration * 1000) + 1000);
		json_t *a = json_object();
		json_object_set_new(a, "actionId", jrandstr(rng, HEX, 24));
		json_object_set_new(a, "actionType", json_string(type));
		char name[64];
		snprintf(name, sizeof(name), "%s step %d", type, k + 1);
		json_object_set_new(a, "actionName", json_string(name));
		json_object_set_new(a, "actionParameters",
			action_params(rng, type));
		json_object_set_new(a, "executedAt",
			jiso(trig + sim_range(rng, 200, 9000)));
		json_object_set_new(a, "triggerReceivedAt", jiso(trig));
		json_array_append_new(arr, a);
	}
	return arr;
}

static void add_translation(json_t *o, uint64_t *rng, const char *transcript)
{
	double r = sim_randf(rng);
	if (r < 0.12) {
		json_object_set_new(o, "translation", json_null());
	} else if (r < 0.18) {
		json_object_set_new(o, "translation",
			json_pack("{s:b,s:s}", "enabled", 1, "language", "es"));
	} else if (r < 0.24) {
		char *t = xasprintf("[es] %.60s", transcript);
		json_object_set_new(o, "translation",
			json_pack("{s:s}", "translatedTranscript", t));
		free(t);
	}
}

static json_t *make_call_obj(struct simdata *sd, struct sim_call *c,
	uint64_t *rng)
{
	struct sim_location *l = &sd->locs[c->loc];
	struct sim_agent *a = &l->agents[c->agent];
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(c->id));
	if (sim_randf(rng) < 0.9 && l->n_contacts > 0)
		json_object_set_new(o, "contactId",
			json_string(l->contacts[sim_rand(rng) %
						(uint64_t)l->n_contacts]));
	json_object_set_new(o, "agentId", json_string(a->id));
	json_object_set_new(o, "isAgentDeleted", json_boolean(a->deleted));
	if (sim_randf(rng) < 0.95) {
		char num[24];
		snprintf(num, sizeof(num), "+1512555%04d",
			(int)sim_range(rng, 0, 9999));
		json_object_set_new(o, "fromNumber", json_string(num));
	}
	json_object_set_new(o, "createdAt", jiso(c->created_ms));
	json_object_set_new(o, "duration",
		c->duration == (int64_t)c->duration
			? json_integer((json_int_t)c->duration)
			: json_real(c->duration));
	json_object_set_new(o, "trialCall", json_boolean(c->trial));
	json_object_set_new(o, "executedCallActions",
		make_actions(rng, c->created_ms, c->duration));
	if (sim_randf(rng) < 0.92) {
		char *s = xasprintf("Caller asked about %s; %s.",
			PICK(rng, TOPICS), PICK(rng, OUTCOMES));
		json_object_set_new(o, "summary", json_string(s));
		free(s);
	}
	char *t = make_transcript(rng, l->business);
	json_object_set_new(o, "transcript", json_string(t));
	add_translation(o, rng, t);
	free(t);
	if (sim_randf(rng) < 0.45)
		json_object_set_new(o, "extractedData",
			json_pack("{s:s,s:s}", "name", "Maria Lopez", "issue",
				PICK(rng, TOPICS)));
	if (sim_randf(rng) < 0.6)
		json_object_set_new(o, "messageId", jrandstr(rng, ALNUM, 20));
	if (sim_randf(rng) < 0.4)
		json_object_set_new(o, "agentTransferOccurred",
			json_boolean(sim_randf(rng) < 0.2));
	return o;
}

/* Append a call for location loc created at created_ms. */
static void add_call(struct simdata *sd, int loc, int64_t created_ms,
	uint64_t *rng, bool allow_deleted)
{
	if (sd->n_calls == sd->cap_calls) {
		sd->cap_calls = sd->cap_calls ? sd->cap_calls * 2 : 256;
		sd->calls = xrealloc(sd->calls,
			sd->cap_calls * sizeof(*sd->calls));
	}
	struct sim_call *c = &sd->calls[sd->n_calls];
	memset(c, 0, sizeof(*c));
	struct sim_location *l = &sd->locs[loc];
	c->loc = loc;
	c->created_ms = created_ms;
	snprintf(c->id, 9, "%08llx",
		(unsigned long long)(created_ms / 1000) & 0xffffffffULL);
	sim_randstr(rng, HEX, 16, c->id + 8);
	c->agent = (int)(sim_rand(rng) % (uint64_t)l->n_agents);
	if (!allow_deleted && l->agents[c->agent].deleted)
		c->agent = 0;
	c->trial = sim_randf(rng) < 0.05;
	c->duration = (double)sim_range(rng, 4, 900);
	if (sim_randf(rng) < 0.1)
		c->duration += 0.5;
	c->will_mutate = sim_randf(rng) < sd->o.mutate_share;
	c->obj = make_call_obj(sd, c, rng);
	sd->n_calls++;
}

static int64_t add_months(int64_t ms, int months)
{
	char b[32];
	cv_format_iso8601(ms, b);
	int y = atoi(b), m = atoi(b + 5) - 1 + months;
	y += m / 12;
	m %= 12;
	char s[16];
	snprintf(s, sizeof(s), "%04d-%02d-01", y, m + 1);
	int64_t out = ms;
	if (!cv_parse_iso8601(s, &out))
		return ms;
	return out;
}

struct simdata *simdata_create(const struct simdata_opts *o)
{
	struct simdata *sd = xcalloc(1, sizeof(*sd));
	sd->o = *o;
	if (sd->o.agents_per_location < 1)
		sd->o.agents_per_location = 1;
	if (sd->o.contacts_per_location < 1)
		sd->o.contacts_per_location = 1;
	sd->n_locs = o->locations;
	sd->locs = xcalloc((size_t)sd->n_locs, sizeof(*sd->locs));
	sd->end_ms = add_months(o->start_ms, o->months > 0 ? o->months : 1);
	int64_t span = sd->end_ms - o->start_ms;
	for (int i = 0; i < sd->n_locs; i++) {
		make_location(sd, i);
		uint64_t rng = o->seed * 31337ULL + (uint64_t)i * 104729ULL + 5;
		int n = o->calls_per_location;
		for (int k = 0; k < n; k++) {
			int64_t t = o->start_ms +
				    (int64_t)((double)span *
					      ((double)k + sim_randf(&rng)) /
					      n);
			/* deleted agents took calls only in the first half */
			add_call(sd, i, t, &rng, k < n / 2);
		}
	}
	sd->arrival_rng = o->seed * 2654435761ULL + 99;
	return sd;
}

void simdata_destroy(struct simdata *sd)
{
	if (!sd)
		return;
	for (size_t i = 0; i < sd->n_calls; i++)
		json_decref(sd->calls[i].obj);
	free(sd->calls);
	for (int i = 0; i < SIM_QCACHE; i++)
		free(sd->cache[i].idx);
	for (int i = 0; i < sd->n_locs; i++) {
		struct sim_location *l = &sd->locs[i];
		for (int j = 0; j < l->n_agents; j++)
			json_decref(l->agents[j].obj);
		free(l->agents);
		free(l->contacts);
		free(l->business);
	}
	free(sd->locs);
	free(sd);
}

int simdata_find_location(const struct simdata *sd, const char *id)
{
	for (int i = 0; i < sd->n_locs; i++)
		if (!strcmp(sd->locs[i].id, id))
			return i;
	return -1;
}

#define MAX_ARRIVALS 1000000

void simdata_tick(struct simdata *sd, int64_t now_ms)
{
	if (sd->o.arrival_rate <= 0 || sd->n_locs == 0)
		return;
	if (!sd->t0_ms) {
		sd->t0_ms = now_ms;
		return;
	}
	size_t target = (size_t)((double)(now_ms - sd->t0_ms) / 1000.0 *
				 sd->o.arrival_rate);
	if (target > MAX_ARRIVALS)
		target = MAX_ARRIVALS;
	while (sd->arrived < target) {
		uint64_t *r = &sd->arrival_rng;
		int loc = (int)(sd->arrived % (size_t)sd->n_locs);
		int64_t t;
		if (sim_randf(r) < sd->o.arrival_backdate)
			t = sim_range(r, sd->o.start_ms, sd->end_ms - 1);
		else
			t = now_ms - sim_range(r, 0, 1500);
		add_call(sd, loc, t, r, false);
		sd->arrived++;
	}
}

static void mutate(struct simdata *sd, struct sim_call *c)
{
	json_t *s = json_object_get(c->obj, "summary");
	char *ns = xasprintf("%s Follow-up: summary revised after review.",
		json_is_string(s) ? json_string_value(s) : "Call completed.");
	json_object_set_new(c->obj, "summary", json_string(ns));
	free(ns);
	c->mutated = true;
	sd->mutations++;
}

static void apply_due(struct simdata *sd, struct sim_call *c, int64_t now)
{
	if (c->will_mutate && !c->mutated && c->first_served_ms &&
		now - c->first_served_ms >= sd->o.mutate_after_ms)
		mutate(sd, c);
}

json_t *simdata_serve(struct simdata *sd, size_t i, int64_t now_ms)
{
	struct sim_call *c = &sd->calls[i];
	if (!c->first_served_ms)
		c->first_served_ms = now_ms;
	else
		apply_due(sd, c, now_ms);
	return c->obj;
}

static bool in_list(const char *list, const char *v)
{
	if (!v)
		return false;
	size_t n = strlen(v);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k == n && !memcmp(p, v, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static bool has_action(const json_t *o, const char *types)
{
	json_t *acts = json_object_get(o, "executedCallActions");
	size_t k;
	json_t *a;
	json_array_foreach(acts, k, a)
	{
		if (in_list(types, json_string_value(
					   json_object_get(a, "actionType"))))
			return true;
	}
	return false;
}

static bool matches(const struct simdata *sd, const struct sim_call *c,
	const struct sim_filter *f)
{
	if (c->loc != f->loc)
		return false;
	if (f->agent_id &&
		strcmp(sd->locs[c->loc].agents[c->agent].id, f->agent_id))
		return false;
	if (f->contact_ids && !in_list(f->contact_ids,
				      json_string_value(json_object_get(c->obj,
					      "contactId"))))
		return false;
	if (f->call_type && (f->call_type == 2) != c->trial)
		return false;
	if (f->has_range &&
		(c->created_ms < f->start_ms || c->created_ms > f->end_ms))
		return false;
	if (f->action_types && !has_action(c->obj, f->action_types))
		return false;
	return true;
}

static int cmp_calls(const void *a, const void *b, void *ctx)
{
	const struct simdata *sd = ((const void *const *)ctx)[0];
	const struct sim_filter *f = ((const void *const *)ctx)[1];
	const struct sim_call *x = &sd->calls[*(const size_t *)a];
	const struct sim_call *y = &sd->calls[*(const size_t *)b];
	int r = 0;
	if (f->sort_by == 1 && x->duration != y->duration)
		r = x->duration < y->duration ? -1 : 1;
	else if (x->created_ms != y->created_ms)
		r = x->created_ms < y->created_ms ? -1 : 1;
	else
		r = strcmp(x->id, y->id);
	return f->ascend ? r : -r;
}

static bool cache_key(const struct sim_filter *f, char *key, size_t sz)
{
	int n = snprintf(key, sz, "%d|%s|%s|%d|%s|%d|%lld|%lld|%d|%d", f->loc,
		f->agent_id ? f->agent_id : "-",
		f->contact_ids ? f->contact_ids : "-", f->call_type,
		f->action_types ? f->action_types : "-", f->has_range,
		(long long)f->start_ms, (long long)f->end_ms, f->sort_by,
		f->ascend);
	return n > 0 && (size_t)n < sz;
}

static size_t *copy_idx(const size_t *v, size_t n)
{
	size_t *c = xmalloc((n + 1) * sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	return c;
}

void simdata_query(struct simdata *sd, const struct sim_filter *f, size_t **out,
	size_t *n)
{
	char key[400];
	bool cacheable = cache_key(f, key, sizeof(key));
	for (int i = 0; cacheable && i < SIM_QCACHE; i++) {
		struct sim_qcache *c = &sd->cache[i];
		if (c->idx && c->n_calls_at == sd->n_calls &&
			!strcmp(c->key, key)) {
			*out = copy_idx(c->idx, c->n);
			*n = c->n;
			return;
		}
	}
	size_t *v = xmalloc((sd->n_calls + 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < sd->n_calls; i++)
		if (matches(sd, &sd->calls[i], f))
			v[k++] = i;
	const void *ctx[2] = { sd, f };
	qsort_r(v, k, sizeof(*v), cmp_calls, (void *)ctx);
	if (cacheable) {
		struct sim_qcache *c = &sd->cache[sd->cache_next];
		sd->cache_next = (sd->cache_next + 1) % SIM_QCACHE;
		free(c->idx);
		snprintf(c->key, sizeof(c->key), "%s", key);
		c->n_calls_at = sd->n_calls;
		c->idx = copy_idx(v, k);
		c->n = k;
	}
	*out = v;
	*n = k;
}

long simdata_find_call(const struct simdata *sd, int loc, const char *id)
{
	for (size_t i = 0; i < sd->n_calls; i++)
		if (sd->calls[i].loc == loc && !strcmp(sd->calls[i].id, id))
			return (long)i;
	return -1;
}

static enum cv_err dump_to(struct simdata *sd, struct sink *s)
{
	int64_t now = cv_now_ms();
	enum cv_err rc = CV_OK;
	for (int loc = 0; loc < sd->n_locs && rc == CV_OK; loc++) {
		struct sim_filter f = { .loc = loc, .ascend = true };
		size_t *idx, n;
		simdata_query(sd, &f, &idx, &n);
		for (size_t k = 0; k < n && rc == CV_OK; k++) {
			struct sim_call *c = &sd->calls[idx[k]];
			apply_due(sd, c, now);
			json_t *o = json_deep_copy(c->obj);
			json_object_set_new(o, "locationId",
				json_string(sd->locs[loc].id));
			char *line = json_dumps(o, JSON_COMPACT);
			rc = sink_write(s, line, strlen(line));
			if (rc == CV_OK)
				rc = sink_write(s, "\n", 1);
			free(line);
			json_decref(o);
		}
		free(idx);
	}
	return rc;
}

int simdata_dump(struct simdata *sd, const char *path, char **errmsg)
{
	struct sink *s = NULL;
	if (sink_open_file(&s, path, 0600, errmsg) != CV_OK)
		return -1;
	enum cv_err rc = dump_to(sd, s);
	if (rc == CV_OK)
		rc = sink_commit(s, errmsg);
	else
		cv_error(errmsg, rc, "writing %s failed", path);
	sink_destroy(s);
	return rc == CV_OK ? 0 : -1;
}

char *simdata_dump_mem(struct simdata *sd, size_t *len)
{
	struct sink *s = sink_open_mem();
	if (dump_to(sd, s) != CV_OK)
		abort(); /* a memory sink fails only on OOM */
	const struct buf *b = sink_mem(s);
	char *out = xstrndup(b->data ? b->data : "", b->len);
	*len = b->len;
	sink_destroy(s);
	return out;
}

static void uuid4(uint64_t *rng, char out[37])
{
	char h[33];
	sim_randstr(rng, HEX, 32, h);
	snprintf(out, 37, "%.8s-%.4s-4%.3s-a%.3s-%.12s", h, h + 8, h + 12,
		h + 15, h + 18);
}

static json_t *webhook_action(const json_t *a)
{
	json_t *w = json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)a, key, v)
	{
		if (!strcmp(key, "actionId")) {
			json_object_set(w, "_id", v);
		} else if (!strcmp(key, "actionParameters")) {
			json_t *p = json_deep_copy(v);
			json_t *paths = json_object_get(p,
				"responsePathsToExtract");
			if (paths) {
				json_object_set(p, "selectedPaths", paths);
				json_object_del(p, "responsePathsToExtract");
			}
			json_object_set_new(w, key, p);
		} else {
			json_object_set(w, key, v);
		}
	}
	return w;
}

static json_t *webhook_translation(const json_t *t, const json_t *call)
{
	if (!json_is_object(t))
		return NULL;
	const char *tt = json_string_value(
		json_object_get(t, "translatedTranscript"));
	char *s = tt ? xstrdup(tt)
		     : xasprintf("[es] %.60s",
			       json_string_value(
				       json_object_get(call, "transcript")));
	json_t *o = json_pack("{s:s,s:s}", "transcript", s, "language", "es");
	free(s);
	return o;
}

json_t *simdata_webhook_body(const struct simdata *sd, size_t i, uint64_t *rng,
	int64_t now_ms)
{
	const struct sim_call *c = &sd->calls[i];
	json_t *w = json_object();
	char u[37];
	uuid4(rng, u);
	json_object_set_new(w, "type", json_string("VoiceAiCallEnd"));
	json_object_set_new(w, "locationId", json_string(sd->locs[c->loc].id));
	const char *key;
	json_t *v;
	json_object_foreach(c->obj, key, v)
	{
		if (!strcmp(key, "isAgentDeleted") ||
			!strcmp(key, "agentTransferOccurred"))
			continue;
		if (!strcmp(key, "translation")) {
			json_t *t = webhook_translation(v, c->obj);
			if (t)
				json_object_set_new(w, key, t);
		} else if (!strcmp(key, "executedCallActions")) {
			json_t *arr = json_array();
			size_t k;
			json_t *a;
			json_array_foreach(v, k, a)
				json_array_append_new(arr, webhook_action(a));
			json_object_set_new(w, key, arr);
		} else {
			json_object_set(w, key, v);
		}
	}
	json_object_set_new(w, "webhookId", json_string(u));
	json_object_set_new(w, "timestamp", jiso(now_ms));
	return w;
}

json_t *simdata_inbound_body(const struct simdata *sd, size_t i, uint64_t *rng,
	int64_t now_ms)
{
	const struct sim_call *c = &sd->calls[i];
	const char *msg = json_string_value(
		json_object_get(c->obj, "messageId"));
	char u[37], conv[21];
	uuid4(rng, u);
	sim_randstr(rng, ALNUM, 20, conv);
	json_t *w = json_object();
	json_object_set_new(w, "type", json_string("InboundMessage"));
	json_object_set_new(w, "locationId", json_string(sd->locs[c->loc].id));
	char *att = xasprintf("https://recordings.hlsim.invalid/%s.wav",
		msg ? msg : c->id);
	json_object_set_new(w, "attachments", json_pack("[s]", att));
	free(att);
	json_t *contact = json_object_get(c->obj, "contactId");
	if (contact)
		json_object_set(w, "contactId", contact);
	json_object_set_new(w, "conversationId", json_string(conv));
	json_object_set_new(w, "dateAdded",
		jiso(c->created_ms + (int64_t)(c->duration * 1000)));
	json_object_set_new(w, "direction", json_string("inbound"));
	json_object_set_new(w, "messageType", json_string("CALL"));
	if (msg)
		json_object_set_new(w, "messageId", json_string(msg));
	json_object_set_new(w, "status", json_string("completed"));
	json_object_set(w, "callDuration", json_object_get(c->obj, "duration"));
	json_object_set_new(w, "callStatus", json_string("completed"));
	json_t *from = json_object_get(c->obj, "fromNumber");
	if (from)
		json_object_set(w, "from", from);
	json_object_set_new(w, "to", json_string("+15125550100"));
	json_object_set_new(w, "messageTypeString", json_string("TYPE_CALL"));
	json_object_set_new(w, "timestamp", jiso(now_ms));
	json_object_set_new(w, "webhookId", json_string(u));
	return w;
}
