/*
 * retention_trigger.c
 *	  The row trigger that keeps retention windows on INSERT and UPDATE.
 *
 * enforce() installs it as
 *
 *	 BEFORE INSERT OR UPDATE ... FOR EACH ROW EXECUTE FUNCTION
 *		 privacy_tags.retention_trigger('<column>', '<tag>', ...)
 *
 * with one (column, tag) pair per tagged column that has a window.  The
 * windows travel in the trigger's arguments rather than being looked up by
 * relation: a trigger copied to a partition (or to a Citus shard) fires on a
 * relation of its own that carries no labels, and the arguments spare a
 * catalog lookup per row.  The label hooks rewrite the trigger whenever a
 * tag of an enforced table changes, so every session's next statement sees
 * the new windows (CREATE TRIGGER invalidates the relcache entry).
 *
 * The arguments are parsed once per backend and kept in a hash keyed by
 * trigger and relation, dropped by relcache invalidation.  Per transaction
 * each window gets two bounds in the anchor's own domain, so that a row's
 * check is one integer comparison; only anchors within a week or so of the
 * edge of the window take the exact, time-zone aware computation.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"		/* GetCurrentTransactionStartTimestamp */
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/syscache.h"
#include "utils/builtins.h"
#include "utils/varlena.h"
#include "utils/datum.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "pgtime.h"

#include "privacy_tag.h"
#include "privacy_tag_mask.h"
#include "retention.h"
#include "as_owner.h"
#include "citus.h"

/* privacy_tags.expired_writes */
int			pt_expired_writes = PT_EXPIRED_REFUSE;
/* privacy_tags.purging: set by the purge functions for their own writes */
bool		pt_purging = false;

static const struct config_enum_entry expired_writes_options[] = {
	{"refuse", PT_EXPIRED_REFUSE, false},
	{"apply", PT_EXPIRED_APPLY, false},
	{NULL, 0, false}
};

/*
 * One argument pair, resolved against the firing relation: a tagged column
 * (with a window, or consent-based) or a subject key ("@subject <type>").
 */
typedef struct RetentionColumn
{
	const char *name;
	AttrNumber	attnum;
	bool		has_window;
	const char *anchor;
	AttrNumber	anchor_attnum;
	Oid			anchor_type;	/* DATEOID, TIMESTAMPOID or TIMESTAMPTZOID */
	Interval	window;
	uint8		action;			/* PT_ACTION_DELETE or PT_ACTION_NULLIFY */
	uint8		mask;			/* PtMask: what an expired value becomes under 'apply' */
	char	   *mask_literal;	/* PT_MASK_LITERAL's text */
	bool		mask_known;		/* mask_value computed (not for hash) */
	Datum		mask_value;
	bool		mask_isnull;
	bool		consent;		/* basis=consent: needs an active consent */
	bool		objectable;		/* an objection can cover it (see objectable()) */
	char	   *tagtext;		/* the tag, for the objection check */
	Datum		purposes;		/* text[] of the tag's purposes */
	const char *subject_type;	/* non-NULL for a subject key */
	Oid			subject_typoutput;

	/*
	 * A column that reaches the subject's key through other tables ("@subject
	 * <type> via ..."): the query that looks the id up (one row of each table
	 * on the way, by its key), prepared on first use.
	 */
	char	   *lookup_sql;
	Oid			lookup_argtype;
	SPIPlanPtr	lookup_plan;

	/*
	 * Per transaction and time zone (per value of now() and of TimeZone):
	 * anchors at or below lo are expired, anchors at or above hi are not;
	 * only anchors in between need the exact (time-zone aware)
	 * computation.  In the anchor's own domain: DateADT or Timestamp(Tz),
	 * widened to int64.  See compute_bounds().
	 */
	bool		forever;		/* a window so long nothing ever expires */
	TimestampTz bounds_now;
	const pg_tz *bounds_tz;		/* and per time zone */
	bool		bounds_valid;
	int64		lo;
	int64		hi;
} RetentionColumn;

typedef struct RetentionPlan
{
	Oid			tgoid;
	Oid			relid;
	MemoryContext cxt;			/* holds the plan */
	int			refcount;		/* trigger calls running with the plan */
	bool		dead;			/* out of the cache: the last holder frees it */
	int			ncolumns;
	int			nsubjects;
	int			nlookups;		/* subject columns with a lookup */
	bool		nconsent;
	int			nobjectable;	/* columns an objection can cover */
	Oid			checker;		/* owner of privacy_tags.consents, if nsubjects */
	const char *relname;		/* the relation's name in messages (a shard's table's) */
	RetentionColumn columns[FLEXIBLE_ARRAY_MEMBER];
} RetentionPlan;

#define SUBJECT_PREFIX "@subject "
#define VIA_SEPARATOR " via "

/*
 * Plans live across statements in a backend-local hash keyed by trigger and
 * relation, dropped when the relation's relcache entry is invalidated
 * (renamed or dropped columns, a rewritten trigger).  An invalidation can
 * arrive in the middle of a trigger call: the row checks run SPI queries,
 * and any lock they acquire processes pending invalidations.  So a call pins
 * its plan (refcount) for its whole duration; the invalidation removes the
 * entry from the hash and frees the plan only if nobody holds it, else marks
 * it dead and the last holder frees it.
 */
typedef struct PlanKey
{
	Oid			tgoid;
	Oid			relid;
} PlanKey;

typedef struct PlanEntry
{
	PlanKey		key;
	RetentionPlan *plan;
} PlanEntry;

/*
 * What one statement knows beyond the plan, in the trigger's fn_extra (the
 * statement's memory): the plan itself, pinned for the whole statement (a
 * callback on that memory releases it when the statement ends, however it
 * ends), so that a row finds it without a hash lookup, a pin of its own or
 * an error handler.  An invalidation that drops the plan from the cache
 * meanwhile (generation changes, the plan is dead) makes the next row take
 * the cache's new plan, as it would without the statement's pin.
 */
typedef struct StatementState
{
	Oid			tgoid;
	Oid			relid;
	RetentionPlan *plan;		/* pinned, or NULL */
	uint64		generation;		/* plan_cache_generation when it was pinned */
	AttrNumber	last_attnum;	/* the last column a check reads */
	bool		restrictions_known;
	bool		any_restriction;
	bool		any_objection;	/* (known with the restrictions) */
	MemoryContextCallback release;	/* unpins plan */
} StatementState;

static HTAB *plan_cache = NULL;
static MemoryContext plan_cache_cxt = NULL;
/* bumped by every invalidation: tells a plan built meanwhile not to be kept */
static uint64 plan_cache_generation = 0;

static SPIPlanPtr consent_plan = NULL;
static SPIPlanPtr restriction_plan = NULL;
static SPIPlanPtr any_restriction_plan = NULL;
static SPIPlanPtr objection_plan = NULL;
static SPIPlanPtr any_objection_plan = NULL;

void
retention_init(void)
{
	DefineCustomEnumVariable("privacy_tags.expired_writes",
							 "What the retention trigger does with a write whose value is already past its window.",
							 "refuse raises an error (SQLSTATE 23514); apply carries out the column's expiry action instead.",
							 &pt_expired_writes,
							 PT_EXPIRED_REFUSE,
							 expired_writes_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("privacy_tags.purging",
							 "Set by the purge functions for their own writes; not for direct use.",
							 NULL,
							 &pt_purging,
							 false,
							 PGC_SUSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);
}

void
RetentionRelcacheInvalidate(Oid relid)
{
	HASH_SEQ_STATUS status;
	PlanEntry  *entry;

	plan_cache_generation++;
	if (plan_cache == NULL)
		return;
	hash_seq_init(&status, plan_cache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (relid == InvalidOid || entry->key.relid == relid)
		{
			RetentionPlan *plan = entry->plan;

			hash_search(plan_cache, &entry->key, HASH_REMOVE, NULL);
			/* never free a plan under a trigger call that runs with it */
			if (plan->refcount > 0)
				plan->dead = true;
			else
				MemoryContextDelete(plan->cxt);
		}
	}
}

/* A trigger call is done with plan: free it if it left the cache meanwhile. */
static void
release_plan(RetentionPlan *plan)
{
	Assert(plan->refcount > 0);
	if (--plan->refcount == 0 && plan->dead)
		MemoryContextDelete(plan->cxt);
}

/* Owner of privacy_tags.consents: the role the checks run as. */
static Oid
checker_role(void)
{
	Oid			nsp = get_namespace_oid("privacy_tags", false);
	Oid			relid = get_relname_relid("consents", nsp);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		elog(ERROR, "privacy_tags.consents does not exist");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Can an objection cover a column tagged tag?  On legitimate interests, or
 * with an opt-out purpose (direct_marketing, sale, sharing: see
 * privacy_tags.opt_out_purposes()) on any basis but a legal obligation.
 */
static bool
objectable(const PtParsed *tag)
{
	if (tag->basis == PT_BASIS_LEGAL_OBLIGATION)
		return false;
	if (tag->basis == PT_BASIS_LEGITIMATE_INTERESTS)
		return true;
	for (int k = 0; k < tag->npurposes; k++)
		if (strcmp(tag->purposes[k], "direct_marketing") == 0 || strcmp(tag->purposes[k], "sale") == 0 ||
			strcmp(tag->purposes[k], "sharing") == 0)
			return true;
	return false;
}

/*
 * "@subject <type> via <steps>": the steps are quoted identifiers joined by
 * dots, four per table on the way (schema, table, the column the previous
 * value is compared with, the column that gives the next value), and the
 * last value is the subject's id.  The query is built here from the names
 * alone (every name quoted, the operators qualified), so what a trigger's
 * arguments can make it run is one lookup by key per table; it runs as the
 * owner of the trigger's table (see lookup_subject()).  false if the steps
 * do not parse.
 */
static bool
build_lookup(RetentionColumn *c, const char *steps, MemoryContext cxt)
{
	char	   *raw = pstrdup(steps);
	List	   *names;
	int			n;
	StringInfoData buf;
	int			i;

	if (!SplitIdentifierString(raw, '.', &names))
		return false;
	n = list_length(names);
	if (n == 0 || n % 4 != 0 || n / 4 > 8)
		return false;
	initStringInfo(&buf);
	appendStringInfo(&buf, "SELECT s%d.%s FROM ", n / 4,
					 quote_identifier(list_nth(names, n - 1)));
	for (i = 0; i < n / 4; i++)
		appendStringInfo(&buf, "%s%s.%s s%d", i ? ", " : "",
						 quote_identifier(list_nth(names, 4 * i)),
						 quote_identifier(list_nth(names, 4 * i + 1)), i + 1);
	appendStringInfoString(&buf, " WHERE ");
	for (i = 0; i < n / 4; i++)
	{
		appendStringInfo(&buf, "%ss%d.%s OPERATOR(pg_catalog.=) ", i ? " AND " : "", i + 1,
						 quote_identifier(list_nth(names, 4 * i + 2)));
		if (i == 0)
			appendStringInfoString(&buf, "$1");
		else
			appendStringInfo(&buf, "s%d.%s", i, quote_identifier(list_nth(names, 4 * i - 1)));
	}
	appendStringInfoString(&buf, " LIMIT 1");
	c->lookup_sql = MemoryContextStrdup(cxt, buf.data);
	return true;
}

/* The plan's context goes: so do the lookups' prepared statements. */
static void
free_lookup_plans(void *arg)
{
	RetentionPlan *plan = arg;

	for (int i = 0; i < plan->ncolumns; i++)
		if (plan->columns[i].lookup_plan != NULL)
		{
			SPI_freeplan(plan->columns[i].lookup_plan);
			plan->columns[i].lookup_plan = NULL;
		}
}

/*
 * The id of the subject that value of column s reaches through the other
 * tables, as text, or NULL when no row is found.  Run as the owner of the
 * trigger's table in a security-restricted operation, with the search path
 * and row-level security of the extension's other statements on user
 * tables: the lookup reads only what that owner can read.
 */
typedef struct Lookup
{
	RetentionColumn *s;
	Datum		value;
	MemoryContext caller;
	char	   *result;
} Lookup;

/* As the table's owner (RunAsOwner()): the lookup's one row. */
static void
run_lookup(void *arg)
{
	Lookup	   *l = arg;
	RetentionColumn *s = l->s;
	int			rc;

	if (s->lookup_plan == NULL)
	{
		SPIPlanPtr	p = OwnerPrepare(s->lookup_sql, 1, &s->lookup_argtype);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		s->lookup_plan = p;
	}
	rc = OwnerExecutePlan(s->lookup_plan, s->lookup_sql, &l->value, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "privacy_tags subject lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (id != NULL)
			l->result = MemoryContextStrdup(l->caller, id);
	}
}

static char *
lookup_subject(RetentionColumn *s, Relation rel, Datum value)
{
	Lookup		l;

	l.s = s;
	l.value = value;
	l.caller = CurrentMemoryContext;
	l.result = NULL;
	RunAsOwner(rel->rd_rel->relowner, run_lookup, &l);
	return l.result;
}

/*
 * The trigger's arguments, parsed and resolved against rel.  The plan's
 * context is made a child of the caller's (short-lived) context, so that an
 * error below takes it along; the caller moves it under plan_cache_cxt once
 * the plan is complete.
 */
static RetentionPlan *
build_plan(Trigger *trigger, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			n = trigger->tgnargs / 2;
	RetentionPlan *plan;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "privacy_tags retention plan",
											  ALLOCSET_SMALL_SIZES);

	if (trigger->tgnargs % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" has an odd number of arguments",
						trigger->tgname, RelationGetRelationName(rel)),
				 errhint("Run privacy_tags.enforce() on the table again.")));

	plan = MemoryContextAllocZero(cxt, offsetof(RetentionPlan, columns) +
								  n * sizeof(RetentionColumn));
	plan->cxt = cxt;
	plan->tgoid = trigger->tgoid;
	plan->relid = RelationGetRelid(rel);
	plan->relname = MemoryContextStrdup(cxt, PtMessageRelationName(rel, trigger->tgname));

	for (int i = 0; i < n; i++)
	{
		const char *colname = trigger->tgargs[2 * i];
		const char *tagtext = trigger->tgargs[2 * i + 1];
		PtParsed	tag;
		PtError		err;
		RetentionColumn *c = &plan->columns[plan->ncolumns];
		bool		is_subject = strncmp(tagtext, SUBJECT_PREFIX, strlen(SUBJECT_PREFIX)) == 0;
		const char *via = is_subject ? strstr(tagtext, VIA_SEPARATOR) : NULL;
		size_t		subject_len = via ? (size_t) (via - tagtext) : strlen(tagtext);
		PtSubject	subject;
		Oid			typid;
		bool		varlena;

		if (is_subject ?
			(!pt_parse_subject(tagtext + strlen(SUBJECT_PREFIX),
							   subject_len - strlen(SUBJECT_PREFIX), &subject, &err) ||
			 subject.collected_at[0] != '\0' ||
			 (via != NULL && !build_lookup(c, via + strlen(VIA_SEPARATOR), cxt))) :
			(!pt_parse(tagtext, strlen(tagtext), &tag, &err) ||
			 (tag.has_retain && tag.anchor_len == 0) ||
			 (!tag.has_retain && tag.basis != PT_BASIS_CONSENT && !objectable(&tag))))
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("trigger \"%s\" on \"%s\" has an invalid argument for column \"%s\"",
							trigger->tgname, RelationGetRelationName(rel), colname),
					 errhint("Run privacy_tags.enforce() on the table again.")));

		c->name = MemoryContextStrdup(cxt, colname);
		c->attnum = InvalidAttrNumber;
		c->anchor_attnum = InvalidAttrNumber;
		c->anchor = is_subject ? NULL : MemoryContextStrdup(cxt, tag.anchor);
		for (int a = 0; a < tupdesc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, a);

			if (att->attisdropped)
				continue;
			if (strcmp(NameStr(att->attname), colname) == 0)
				c->attnum = att->attnum;
			if (c->anchor && strcmp(NameStr(att->attname), c->anchor) == 0)
				c->anchor_attnum = att->attnum;
		}
		if (c->attnum == InvalidAttrNumber ||
			(!is_subject && tag.has_retain && c->anchor_attnum == InvalidAttrNumber))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" named by trigger \"%s\" does not exist in \"%s\"",
							c->attnum == InvalidAttrNumber ? colname : c->anchor,
							trigger->tgname, RelationGetRelationName(rel)),
					 errhint("A column was renamed or dropped; run privacy_tags.enforce() on the table again.")));

		if (is_subject)
		{
			c->subject_type = MemoryContextStrdup(cxt, subject.type);
			getTypeOutputInfo(TupleDescAttr(tupdesc, c->attnum - 1)->atttypid,
							  &c->subject_typoutput, &varlena);
			c->lookup_argtype = TupleDescAttr(tupdesc, c->attnum - 1)->atttypid;
			if (c->lookup_sql != NULL && plan->nlookups++ == 0)
			{
				MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));

				cb->func = free_lookup_plans;
				cb->arg = plan;
				MemoryContextRegisterResetCallback(cxt, cb);
			}
			plan->nsubjects++;
			plan->ncolumns++;
			continue;
		}

		c->has_window = tag.has_retain;
		if (tag.has_retain)
		{
			typid = getBaseType(TupleDescAttr(tupdesc, c->anchor_attnum - 1)->atttypid);
			if (typid != DATEOID && typid != TIMESTAMPOID && typid != TIMESTAMPTZOID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("anchor column \"%s\" of \"%s\" is not a date or timestamp",
								tag.anchor, RelationGetRelationName(rel)),
						 errhint("Retag the column with a date or timestamp anchor.")));
			c->anchor_type = typid;
			c->window.month = tag.months;
			c->window.day = tag.days;
			c->window.time = tag.usecs;
			c->action = tag.action;
			c->mask = tag.mask;
			if (tag.mask == PT_MASK_LITERAL)
				c->mask_literal = MemoryContextStrdup(cxt, tag.mask_literal);
			/* beyond timestamp range from any anchor: never expires */
			c->forever = tag.months > 12 * 100000 || tag.days > 36500000 ||
				tag.usecs / PT_USECS_PER_HOUR > INT64CONST(876000000);
		}
		c->consent = tag.basis == PT_BASIS_CONSENT;
		c->objectable = objectable(&tag);
		if (c->objectable)
		{
			c->tagtext = MemoryContextStrdup(cxt, tagtext);
			plan->nobjectable++;
		}
		if (c->consent)
		{
			MemoryContext old = MemoryContextSwitchTo(cxt);
			Datum	   *elems = palloc(sizeof(Datum) * Max(tag.npurposes, 1));

			for (int k = 0; k < tag.npurposes; k++)
				elems[k] = CStringGetTextDatum(tag.purposes[k]);
			c->purposes = PointerGetDatum(construct_array(elems, tag.npurposes, TEXTOID,
														  -1, false, TYPALIGN_INT));
			MemoryContextSwitchTo(old);
			plan->nconsent = true;
		}
		plan->ncolumns++;
	}
	/* the role the subject checks run as, looked up once with the plan */
	if (plan->nsubjects > 0)
		plan->checker = checker_role();
	return plan;
}

/*
 * Run a boolean query on the extension's own tables as their owner (the
 * writer need not be able to read consents or restrictions), as the
 * referential-integrity triggers do.
 */
static bool
run_check(Oid owner, SPIPlanPtr *planp, const char *sql, int nargs, Oid *argtypes,
		  Datum *values)
{
	Oid			save_userid;
	int			save_sec;
	bool		result = false;
	bool		isnull;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (*planp == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		*planp = plan;
	}
	rc = SPI_execute_plan(*planp, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "privacy_tags check failed: %s", SPI_result_code_string(rc));
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
	return !isnull && result;
}

/*
 * The keyed hash of mask=hash for a value (as text), as purge and erasure
 * compute it: 32 hexadecimal digits, keyed with the audit key, which only
 * its owner can read.
 */
static char *
run_hash(Oid owner, Datum value)
{
	static SPIPlanPtr hash_plan = NULL;
	Oid			save_userid;
	int			save_sec;
	Oid			argtypes[1] = {TEXTOID};
	char	   *result;
	char	   *text;
	int			rc;
	MemoryContext caller = CurrentMemoryContext;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (hash_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(k.opad "
									   "OPERATOR(pg_catalog.||) pg_catalog.sha256(k.ipad OPERATOR(pg_catalog.||) "
									   "pg_catalog.convert_to($1, 'UTF8'))), 'hex'), 32) "
									   "FROM privacy_tags.audit_key k ORDER BY k.generated_at LIMIT 1",
									   1, argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		hash_plan = plan;
	}
	rc = SPI_execute_plan(hash_plan, &value, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "privacy_tags could not compute a mask: %s", SPI_result_code_string(rc));
	text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	result = MemoryContextStrdup(caller, text ? text : "");
	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec);
	return result;
}

/*
 * Read attribute attnum of the row: through the trigger's slot when there is
 * one (it deforms the row once for all columns), else from the tuple.
 */
static inline Datum
row_getattr(TupleTableSlot *slot, HeapTuple tuple, TupleDesc tupdesc, AttrNumber attnum,
			bool *isnull)
{
	if (slot != NULL)
		return slot_getattr(slot, attnum, isnull);
	return heap_getattr(tuple, attnum, tupdesc, isnull);
}

/*
 * Is attribute att the same in the new row as in the old one?  Binary
 * equality (datum_image_eq), which is what "unchanged" means for an UPDATE
 * that did not touch the column: its value is copied as it is.  So the
 * same bytes settle it first, without fetching or decompressing anything:
 * an unchanged out-of-line value keeps its TOAST pointer, a compressed one
 * its compressed bytes.
 */
static inline bool
same_value(Form_pg_attribute att, Datum newval, Datum oldval)
{
	if (att->attlen == -1)
	{
		Pointer		a = DatumGetPointer(newval);
		Pointer		b = DatumGetPointer(oldval);

		if (VARATT_IS_EXTERNAL(a) == VARATT_IS_EXTERNAL(b) &&
			VARSIZE_ANY(a) == VARSIZE_ANY(b) &&
			memcmp(a, b, VARSIZE_ANY(a)) == 0)
			return true;
	}
	return datum_image_eq(newval, oldval, att->attbyval, att->attlen);
}

/*
 * The subject's type and id as text: the parameters of the checks.  false
 * when a column that reaches the subject through other tables reaches no
 * row (no subject: nothing to check).
 */
static bool
subject_args(RetentionColumn *s, Relation rel, Datum key, Datum *args)
{
	args[0] = CStringGetTextDatum(s->subject_type);
	if (s->lookup_sql != NULL)
	{
		char	   *id = lookup_subject(s, rel, key);

		if (id == NULL)
			return false;
		args[1] = CStringGetTextDatum(id);
		return true;
	}
	args[1] = CStringGetTextDatum(OidOutputFunctionCall(s->subject_typoutput, key));
	return true;
}

/*
 * Refuse a write to a restricted subject's row, or a consent-based value
 * written without consent.  is_old: the row is the old row of an UPDATE,
 * checked for restrictions only.  For the new row of an UPDATE, oldslot or
 * oldtuple is the old row (else both are NULL): a consent-based value that
 * the UPDATE leaves as it was, for the same subject, is not written by it
 * and needs no consent now (it may predate enforce(), or the consent may
 * have been withdrawn since: the erasure and purge deal with those, not a
 * write to another column).
 */
static void
check_subject_rules(RetentionPlan *plan, bool any_restriction, bool any_objection, Relation rel,
					TupleTableSlot *slot, HeapTuple tuple, TupleTableSlot *oldslot, HeapTuple oldtuple,
					bool is_old)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	bool		has_old = oldslot != NULL || oldtuple != NULL;

	for (int i = 0; i < plan->ncolumns; i++)
	{
		RetentionColumn *s = &plan->columns[i];
		bool		isnull;
		Datum		key;
		Datum		args[3];
		bool		have_args = false;
		bool		same_subject = false;
		Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTARRAYOID};

		if (s->subject_type == NULL)
			continue;
		key = row_getattr(slot, tuple, tupdesc, s->attnum, &isnull);
		if (isnull)
			continue;			/* no subject, nothing to check */

		if (any_restriction)
		{
			if (!subject_args(s, rel, key, args))
				continue;		/* reaches no subject */
			have_args = true;
			if (run_check(plan->checker, &restriction_plan,
						  "SELECT EXISTS (SELECT FROM privacy_tags.restrictions "
						  "WHERE subject_type OPERATOR(pg_catalog.=) $1 "
						  "AND subject_id OPERATOR(pg_catalog.=) $2 AND lifted_at IS NULL)",
						  2, argtypes, args))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("processing of this %s is restricted: relation \"%s\" cannot be changed for them",
								s->subject_type, plan->relname),
						 errdetail("The subject in column \"%s\" is under a restriction of processing (GDPR Art. 18).",
								   s->name),
						 errhint("privacy_tags.lift_restriction() ends the restriction.")));
		}

		if (is_old || (!plan->nconsent && !(any_objection && plan->nobjectable > 0)))
			continue;
		if (has_old)
		{
			bool		oldnull;
			Datum		oldkey = row_getattr(oldslot, oldtuple, tupdesc, s->attnum, &oldnull);

			same_subject = !oldnull &&
				same_value(TupleDescAttr(tupdesc, s->attnum - 1), key, oldkey);
		}
		for (int k = 0; k < plan->ncolumns; k++)
		{
			RetentionColumn *c = &plan->columns[k];
			Datum		value;

			if (c->subject_type != NULL || !(c->consent || (any_objection && c->objectable)))
				continue;
			value = row_getattr(slot, tuple, tupdesc, c->attnum, &isnull);
			if (isnull)
				continue;
			if (same_subject)
			{
				bool		oldnull;
				Datum		oldvalue = row_getattr(oldslot, oldtuple, tupdesc, c->attnum, &oldnull);

				if (!oldnull &&
					same_value(TupleDescAttr(tupdesc, c->attnum - 1), value, oldvalue))
					continue;	/* not written by this UPDATE */
			}
			if (!have_args)
			{
				if (!subject_args(s, rel, key, args))
					break;		/* reaches no subject */
				have_args = true;
			}
			if (any_objection && c->objectable)
			{
				Datum		oargs[3];
				Oid			otypes[3] = {TEXTOID, TEXTOID, TEXTOID};

				oargs[0] = args[0];
				oargs[1] = args[1];
				oargs[2] = CStringGetTextDatum(c->tagtext);
				if (run_check(plan->checker, &objection_plan,
							  "SELECT privacy_tags._objected($1, $2, $3::privacy_tags.privacy_tag)",
							  3, otypes, oargs))
					ereport(ERROR,
							(errcode(ERRCODE_CHECK_VIOLATION),
							 errmsg("column \"%s\" of relation \"%s\" holds data for purposes this %s objects to",
									c->name, RelationGetRelationName(rel), s->subject_type),
							 errdetail("The subject in column \"%s\" has objected to every purpose of the column (GDPR Art. 21, or an opt-out of sale or sharing).",
									   s->name),
							 errhint("privacy_tags.withdraw_objection() ends the objection; or leave the column NULL.")));
			}
			if (!c->consent)
				continue;
			args[2] = c->purposes;
			if (!run_check(plan->checker, &consent_plan,
						   "SELECT EXISTS (SELECT FROM privacy_tags.consents "
						   "WHERE subject_type OPERATOR(pg_catalog.=) $1 "
						   "AND subject_id OPERATOR(pg_catalog.=) $2 AND withdrawn_at IS NULL "
						   "AND (pg_catalog.cardinality($3) OPERATOR(pg_catalog.=) 0 "
						   "OR purpose OPERATOR(pg_catalog.=) ANY ($3)))",
						   3, argtypes, args))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("column \"%s\" of relation \"%s\" holds consent-based data, and this %s has no active consent for it",
								c->name, plan->relname, s->subject_type),
						 errdetail("The subject in column \"%s\" has not given, or has withdrawn, consent for the column's purposes.",
								   s->name),
						 errhint("Record the consent with privacy_tags.grant_consent() first, or leave the column NULL.")));
		}
	}
}

/* When does a window that starts at anchor end? */
static TimestampTz
expiry_of(Datum anchor, Oid anchor_type, Interval *window)
{
	Datum		start;

	switch (anchor_type)
	{
		case DATEOID:
			start = DirectFunctionCall1(date_timestamptz, anchor);
			break;
		case TIMESTAMPOID:
			start = DirectFunctionCall1(timestamp_timestamptz, anchor);
			break;
		default:
			start = anchor;
			break;
	}
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval, start,
												   IntervalPGetDatum(window)));
}

static int64
anchor_int(Datum d, Oid type)
{
	return type == DATEOID ? (int64) DatumGetDateADT(d) : DatumGetInt64(d);
}

static Datum
int_anchor(int64 v, Oid type)
{
	return type == DATEOID ? DateADTGetDatum((DateADT) v) : Int64GetDatum(v);
}

/*
 * The largest difference between two UTC offsets of the session's time zone
 * over all of time, in seconds (0 for a fixed offset), or -1 if it cannot be
 * told.  Walked once per zone and backend (pg_tz structs are never freed, so
 * the pointer identifies the zone): some hundreds of transitions, up to the
 * year 2500, by when any zone's rule has repeated many times.
 */
static long
zone_offset_spread(void)
{
	static const pg_tz *cached_tz = NULL;
	static long cached_spread = -1;
	const pg_time_t end = INT64CONST(16725225600);	/* 2500-01-01 */
	pg_time_t	t = INT64CONST(-210866803200);	/* 4714-11-24 BC */
	long		gmtoff;
	long		min_off = 0,
				max_off = 0;
	long		spread = -1;

	if (session_timezone == cached_tz)
		return cached_spread;
	if (pg_get_timezone_offset(session_timezone, &gmtoff))
		spread = 0;
	else
	{
		for (int i = 0; i < 10000; i++)
		{
			long		before,
						after;
			int			before_isdst,
						after_isdst;
			pg_time_t	boundary;
			int			r = pg_next_dst_boundary(&t, &before, &before_isdst, &boundary,
												 &after, &after_isdst, session_timezone);

			if (r < 0)
				break;
			if (i == 0)
				min_off = max_off = before;
			min_off = Min(min_off, before);
			max_off = Max(max_off, before);
			if (r == 0 || boundary > end)
			{
				spread = max_off - min_off;
				break;
			}
			if (boundary <= t)
				break;
			min_off = Min(min_off, after);
			max_off = Max(max_off, after);
			t = boundary;
		}
	}
	cached_tz = session_timezone;
	cached_spread = spread;
	return spread;
}

/*
 * Compute the per-transaction bounds of column c: anchors at or below lo
 * are expired, at or above hi are not, and the ones in between take the
 * exact computation.
 *
 * Expiry does not grow with the anchor.  Adding months keeps the time of
 * day and clamps the day of the month (January 28 23:00 goes to February
 * 28 23:00, the later January 31 01:00 to February 28 01:00), and each
 * conversion between UTC and local time can move a difference by the
 * zone's offset changes.  It does grow over enough distance: take anchors
 * a < b, b - a >= M.  timestamptz + interval converts to local time, adds
 * the months (local, clamped), converts to UTC and back, adds the days
 * (local, exact), converts to UTC and adds the time (exact); a date or
 * timestamp anchor is converted from local time first.  That is at most
 * five conversions, each of which changes b - a by at most R, the largest
 * difference between two offsets of the zone.  Adding months to local times
 * x <= y gives m(y) - m(x) >= min(y - x - 3 days, 27 days): in the same or
 * adjacent months the clamping and the months' lengths (28 to 31 days)
 * take at most 3 days off the difference; months further apart map to
 * months at least one whole month apart.  So
 *
 *	 expiry(b) - expiry(a) >= min(M - 2R - 3 days, 27 days) - 3R > 0
 *
 * whenever M > 3 days + 5R and R < 9 days.  In the tz database R is at most
 * about 26 hours (Pacific/Apia, and the Pacific zones that crossed the date
 * line), and for zones with DST of an hour and their local mean time
 * some minutes: M = 7 days covers R up to 19 hours; a bigger R gets a bigger
 * M, and a zone whose spread cannot be told (or R >= 9 days: POSIX zone
 * specifications allow that) sends every row to the exact path.
 *
 * Without months the clamping term goes: expiry(b) - expiry(a) >= M - 5R,
 * and M > 5R (plus an hour) is enough.
 *
 * So find lo0 with expiry(lo0) <= now and hi0 > lo0 with expiry(hi0) > now,
 * stepping a day at a time from now - window (a few steps: the exact edge
 * is within days of it).  Then every anchor a <= lo0 - M has expiry(a) <
 * expiry(lo0) <= now, and every anchor a >= hi0 + M has expiry(a) >
 * expiry(hi0) > now: lo = lo0 - M, hi = hi0 + M.
 */
static void
compute_bounds(RetentionColumn *c, TimestampTz now)
{
	const int64 day = c->anchor_type == DATEOID ? 1 : USECS_PER_DAY;
	long		spread = zone_offset_spread();
	int64		margin_days;
	TimestampTz start;
	Datum		guess;
	int64		lo,
				hi;
	int			steps;

	c->bounds_now = now;
	c->bounds_tz = session_timezone;
	c->bounds_valid = true;
	c->lo = PG_INT64_MIN;		/* until known: every row takes the exact path */
	c->hi = PG_INT64_MAX;
	if (spread < 0 || spread >= 9 * SECS_PER_DAY)
		return;
	margin_days = Max(7, (3 * SECS_PER_DAY + 5 * (int64) spread) / SECS_PER_DAY + 1);

	start = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													TimestampTzGetDatum(now),
													IntervalPGetDatum(&c->window)));
	switch (c->anchor_type)
	{
		case DATEOID:
			guess = DirectFunctionCall1(timestamptz_date, TimestampTzGetDatum(start));
			break;
		case TIMESTAMPOID:
			guess = DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(start));
			break;
		default:
			guess = TimestampTzGetDatum(start);
			break;
	}
	lo = anchor_int(guess, c->anchor_type);
	for (steps = 0; expiry_of(int_anchor(lo, c->anchor_type), c->anchor_type, &c->window) > now; steps++)
	{
		if (steps == 16)
			return;
		lo -= day;
	}
	hi = lo + day;
	for (steps = 0; expiry_of(int_anchor(hi, c->anchor_type), c->anchor_type, &c->window) <= now; steps++)
	{
		if (steps == 32)
			return;
		hi += day;
	}
	if (c->window.month == 0)
	{
		/*
		 * No months, no clamping: m(y) - m(x) = y - x above, so M > 5R is
		 * enough (an hour more for rounding): the exact path is left to the
		 * anchors within hours of the edge, not days.
		 */
		int64		margin = 5 * (int64) spread * USECS_PER_SEC + USECS_PER_HOUR;

		if (c->anchor_type == DATEOID)
			margin = (margin + USECS_PER_DAY - 1) / USECS_PER_DAY;
		c->lo = lo - margin;
		c->hi = hi + margin;
		return;
	}
	c->lo = lo - margin_days * day;
	c->hi = hi + margin_days * day;
}

/* Is the value anchored at anchor past its window at now? */
static bool
is_expired(RetentionColumn *c, Datum anchor, TimestampTz now, TimestampTz *expiry)
{
	int64		a = anchor_int(anchor, c->anchor_type);

	if (c->forever)
		return false;
	if (!c->bounds_valid || c->bounds_now != now || c->bounds_tz != session_timezone)
		compute_bounds(c, now);
	if (a >= c->hi)
		return false;
	if (a > c->lo || expiry != NULL)
	{
		TimestampTz e = expiry_of(anchor, c->anchor_type, &c->window);

		if (expiry)
			*expiry = e;
		return e <= now;
	}
	return true;
}

/* "3 years after last_contact_at" */
static char *
window_text(const RetentionColumn *c)
{
	char		iv[128];
	char		ident[2 * PT_MAX_IDENT + 3];

	pt_format_interval(c->window.month, c->window.day, c->window.time, iv, sizeof(iv));
	pt_format_ident(c->anchor, ident, sizeof(ident));
	return psprintf("%s after %s", iv, ident);
}

/*
 * The plan of trigger on rel, parsed once per backend, trigger and relation,
 * and pinned: the caller releases it with release_plan() in every exit path.
 */
static RetentionPlan *
get_plan(Trigger *trigger, Relation rel)
{
	PlanKey		key;
	PlanEntry  *entry;
	bool		found;
	RetentionPlan *plan;

	if (plan_cache == NULL)
	{
		HASHCTL		ctl;

		plan_cache_cxt = AllocSetContextCreate(CacheMemoryContext,
											   "privacy_tags retention plans",
											   ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(PlanKey);
		ctl.entrysize = sizeof(PlanEntry);
		ctl.hcxt = plan_cache_cxt;
		plan_cache = hash_create("privacy_tags retention plans", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.tgoid = trigger->tgoid;
	key.relid = RelationGetRelid(rel);
	entry = hash_search(plan_cache, &key, HASH_FIND, &found);
	if (found)
		plan = entry->plan;
	else
	{
		uint64		generation = plan_cache_generation;

		/* build first: an error must not leave an entry without a plan */
		plan = build_plan(trigger, rel);
		MemoryContextSetParent(plan->cxt, plan_cache_cxt);
		if (generation == plan_cache_generation)
		{
			entry = hash_search(plan_cache, &key, HASH_ENTER, &found);
			entry->plan = plan;
		}
		else
		{
			/*
			 * The catalog lookups of the build processed an invalidation
			 * that may postdate what the plan was built from: good for
			 * this call (it has the statement's trigger and relation), not
			 * to be kept.
			 */
			plan->dead = true;
		}
	}
	plan->refcount++;
	return plan;
}

/*
 * What an expired value of column c becomes under expired_writes = 'apply'
 * with the nullify action: NULL, or the tag's mask, as a purge writes it
 * (a fixed value of the column's type, the literal, or the keyed hash of
 * the value).
 */
static Datum
mask_of(RetentionPlan *plan, RetentionColumn *c, Relation rel, Datum value, bool *isnull)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), c->attnum - 1);

	*isnull = true;
	if (c->mask == PT_MASK_NULL)
		return (Datum) 0;
	if (c->mask == PT_MASK_HASH)
	{
		Oid			typoutput,
					typinput,
					typioparam;
		bool		varlena;
		char	   *hash;

		/* 32 hex digits: text as they are, a uuid read from them */
		getTypeOutputInfo(att->atttypid, &typoutput, &varlena);
		hash = run_hash(plan->checker != InvalidOid ? plan->checker : checker_role(),
						CStringGetTextDatum(OidOutputFunctionCall(typoutput, value)));
		/* a uuid pseudonym is of version 8, variant 8: told from originals */
		if (getBaseType(att->atttypid) == UUIDOID && strlen(hash) == PT_MASK_HASH_LEN)
		{
			hash[12] = '8';
			hash[16] = '8';
		}
		getTypeInputInfo(att->atttypid, &typinput, &typioparam);
		*isnull = false;
		return OidInputFunctionCall(typinput, hash, typioparam, att->atttypmod);
	}
	if (!c->mask_known)
	{
		const char *text = c->mask == PT_MASK_LITERAL ? c->mask_literal :
			pt_mask_redact_value(getBaseType(att->atttypid));
		Oid			typinput,
					typioparam;
		MemoryContext old;

		if (text == NULL)
			return (Datum) 0;	/* (refused when the column was tagged) */
		getTypeInputInfo(att->atttypid, &typinput, &typioparam);
		old = MemoryContextSwitchTo(plan->cxt);
		c->mask_value = datumCopy(OidInputFunctionCall(typinput, (char *) text, typioparam, att->atttypmod),
								  att->attbyval, att->attlen);
		MemoryContextSwitchTo(old);
		c->mask_isnull = false;
		c->mask_known = true;
	}
	*isnull = c->mask_isnull;
	return c->mask_value;
}

/*
 * The checks of one row against plan: returns the row to write (with
 * expired values nulled) or NULL to skip it.
 */
static HeapTuple
check_row(FunctionCallInfo fcinfo, RetentionPlan *plan)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel = trigdata->tg_relation;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	StatementState *state;
	TupleTableSlot *slot;
	TimestampTz now;
	int			nnull = 0;
	int		   *nullcols = NULL;
	bool		skip = false;

	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	slot = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newslot : trigdata->tg_trigslot;

	/* what this statement knows: whether anybody is restricted at all */
	state = (StatementState *) fcinfo->flinfo->fn_extra;
	if (plan->nsubjects > 0 && !state->restrictions_known)
	{
		Oid			argtypes[1] = {TEXTARRAYOID};
		Datum		types[1];
		Datum	   *elems = palloc(sizeof(Datum) * plan->nsubjects);
		int			n = 0;

		for (int i = 0; i < plan->ncolumns; i++)
			if (plan->columns[i].subject_type)
				elems[n++] = CStringGetTextDatum(plan->columns[i].subject_type);
		types[0] = PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
		/* once per statement: most of the time nobody is restricted */
		state->any_restriction =
			run_check(plan->checker, &any_restriction_plan,
					  "SELECT EXISTS (SELECT FROM privacy_tags.restrictions "
					  "WHERE subject_type OPERATOR(pg_catalog.=) ANY ($1) AND lifted_at IS NULL)",
					  1, argtypes, types);
		/* and whether anybody objects at all, when a column can be objected to */
		state->any_objection = plan->nobjectable > 0 &&
			run_check(plan->checker, &any_objection_plan,
					  "SELECT EXISTS (SELECT FROM privacy_tags.objections "
					  "WHERE subject_type OPERATOR(pg_catalog.=) ANY ($1) AND withdrawn_at IS NULL)",
					  1, argtypes, types);
		state->restrictions_known = true;
	}
	if (plan->ncolumns == 0)
		return tuple;

	if (plan->nsubjects > 0 && (state->any_restriction || plan->nconsent || state->any_objection))
	{
		bool		update = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event);

		check_subject_rules(plan, state->any_restriction, state->any_objection, rel, slot, tuple,
							update ? trigdata->tg_trigslot : NULL,
							update ? trigdata->tg_trigtuple : NULL, false);
		if (update && state->any_restriction)
			check_subject_rules(plan, state->any_restriction, false, rel, trigdata->tg_trigslot,
								trigdata->tg_trigtuple, NULL, NULL, true);
	}

	tupdesc = RelationGetDescr(rel);
	now = GetCurrentTransactionStartTimestamp();
	/* the row deformed once, up to the last column the checks read */
	if (slot != NULL)
		slot_getsomeattrs(slot, state->last_attnum);

	for (int i = 0; i < plan->ncolumns && !skip; i++)
	{
		RetentionColumn *c = &plan->columns[i];
		bool		isnull;
		Datum		anchor;
		TimestampTz expiry;

		if (!c->has_window)
			continue;
		/* nullify has nothing to do on a NULL value */
		if (c->action == PT_ACTION_NULLIFY)
		{
			(void) row_getattr(slot, tuple, tupdesc, c->attnum, &isnull);
			if (isnull)
				continue;
		}
		anchor = row_getattr(slot, tuple, tupdesc, c->anchor_attnum, &isnull);
		if (isnull)
			continue;			/* the clock has not started */
		if (!is_expired(c, anchor, now, NULL))
			continue;

		if (pt_expired_writes == PT_EXPIRED_REFUSE)
		{
			(void) is_expired(c, anchor, now, &expiry);
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("value of column \"%s\" of relation \"%s\" expired at %s, %s",
							c->name, plan->relname,
							timestamptz_to_str(expiry), window_text(c)),
					 errdetail("The write would store a value that its retention window says must already be %s.",
							   c->action == PT_ACTION_NULLIFY ? "nulled" : "deleted"),
					 errhint("Write a later \"%s\", or set privacy_tags.expired_writes = 'apply' to %s instead.",
							 c->anchor,
							 c->action == PT_ACTION_DELETE ? "skip the row" :
							 c->mask == PT_MASK_NULL ? "store NULL" : "store the column's mask")));
		}

		if (c->action == PT_ACTION_DELETE)
			skip = true;
		else
		{
			if (nullcols == NULL)
				nullcols = palloc(sizeof(int) * plan->ncolumns);
			nullcols[nnull++] = c->attnum;
		}
	}

	if (skip)
		return NULL;
	if (nnull > 0)
	{
		Datum	   *values = palloc0(sizeof(Datum) * nnull);
		bool	   *nulls = palloc(sizeof(bool) * nnull);

		for (int i = 0; i < nnull; i++)
		{
			RetentionColumn *c = NULL;
			bool		isnull;
			Datum		value;

			for (int k = 0; k < plan->ncolumns; k++)
				if (plan->columns[k].attnum == nullcols[i] && plan->columns[k].has_window &&
					plan->columns[k].subject_type == NULL)
					c = &plan->columns[k];
			value = row_getattr(slot, tuple, tupdesc, nullcols[i], &isnull);
			values[i] = c ? mask_of(plan, c, rel, value, &nulls[i]) : (Datum) 0;
			if (c == NULL)
				nulls[i] = true;
		}
		tuple = heap_modify_tuple_by_cols(tuple, tupdesc, nnull, nullcols, values, nulls);
	}
	return tuple;
}

/* The statement is over (or aborted): unpin its plan. */
static void
statement_release(void *arg)
{
	StatementState *state = (StatementState *) arg;

	if (state->plan != NULL)
	{
		RetentionPlan *plan = state->plan;

		state->plan = NULL;
		release_plan(plan);
	}
}

/*
 * The plan of the trigger call's statement, from the cache, pinned in
 * fn_extra for the rest of the statement (replacing the one it had, for
 * another relation or dropped from the cache).  What the statement knew
 * about restrictions is forgotten with another relation.
 */
static StatementState *
statement_plan(FunctionCallInfo fcinfo, TriggerData *trigdata)
{
	StatementState *state = (StatementState *) fcinfo->flinfo->fn_extra;
	Oid			relid = RelationGetRelid(trigdata->tg_relation);
	RetentionPlan *plan;

	if (state == NULL)
	{
		state = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(StatementState));
		state->release.func = statement_release;
		state->release.arg = state;
		MemoryContextRegisterResetCallback(fcinfo->flinfo->fn_mcxt, &state->release);
		fcinfo->flinfo->fn_extra = state;
	}
	if (state->tgoid != trigdata->tg_trigger->tgoid || state->relid != relid)
		state->restrictions_known = false;
	/* the new plan pinned before the old one goes, in case they are one */
	plan = get_plan(trigdata->tg_trigger, trigdata->tg_relation);
	statement_release(state);
	state->plan = plan;
	state->generation = plan_cache_generation;
	state->tgoid = trigdata->tg_trigger->tgoid;
	state->relid = relid;
	state->last_attnum = 0;
	for (int i = 0; i < plan->ncolumns; i++)
		if (plan->columns[i].has_window)
			state->last_attnum = Max(state->last_attnum,
									 Max(plan->columns[i].attnum, plan->columns[i].anchor_attnum));
	return state;
}

/* Is relid (or the root of its partition tree) a target of the running purge statement? */
static bool
purge_target(Oid relid)
{
	Oid			root = relid;

	if (get_rel_relispartition(relid))
	{
		List	   *ancestors = get_partition_ancestors(relid);

		root = llast_oid(ancestors);
	}
	return list_member_oid(pt_purge_targets, root);
}

/* retention_trigger(): refuse or expire values past their window. */
PG_FUNCTION_INFO_V1(retention_trigger);
Datum
retention_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	StatementState *state;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("retention_trigger: not called by trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("retention_trigger: must be fired before insert or update, for each row")));

	/*
	 * The extension's own purge and erasure statements write (delete, null,
	 * mask, cascade) without the checks: only on the tables the running
	 * statement may write, its own and what its foreign keys cascade into.
	 * A write that a user trigger fired by the statement makes anywhere
	 * else is checked as any other.  (Outside such a statement, with
	 * purging on, is the SQL of 1.1, not yet updated, which writes without
	 * _owner_exec; 1.2 writes nothing else on user tables while purging.)
	 */
	if (pt_purging &&
		(!pt_in_own_statement || purge_target(RelationGetRelid(trigdata->tg_relation))))
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
							   trigdata->tg_newtuple : trigdata->tg_trigtuple);

	/* the statement's plan, pinned until the statement ends */
	state = (StatementState *) fcinfo->flinfo->fn_extra;
	if (state == NULL || state->plan == NULL ||
		state->tgoid != trigdata->tg_trigger->tgoid ||
		state->relid != RelationGetRelid(trigdata->tg_relation) ||
		(state->generation != plan_cache_generation && state->plan->dead))
		state = statement_plan(fcinfo, trigdata);
	return PointerGetDatum(check_row(fcinfo, state->plan));
}

/*
 * Rewrite the retention trigger of an enforced table after a tag changed.
 * Called by the label hook before the new label is stored, so the change
 * (attnum gets label, NULL for removal) is passed along.  The rewrite is an
 * internal function, called as the extension's owner; it changes the
 * table's trigger as the table's owner.
 */
void
retention_refresh(Oid relid, AttrNumber attnum, const char *label, bool subject)
{
	Oid			argtypes[5] = {REGCLASSOID, INT2OID, TEXTOID, BOOLOID, REGROLEOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	List	   *name = list_make2(makeString("privacy_tags"), makeString("_refresh_enforcement"));

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int16GetDatum(attnum);
	if (label)
		values[2] = CStringGetTextDatum(label);
	else
		nulls[2] = 'n';
	values[3] = BoolGetDatum(subject);
	if (OidIsValid(LookupFuncName(name, 5, argtypes, true)))
	{
		(void) CallInternal("_refresh_enforcement", 4, argtypes, values, nulls, &isnull);
		return;
	}

	/* versions before 1.2 (not yet updated): the refresh runs as the caller */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT privacy_tags._refresh_enforcement($1, $2, $3, $4)",
							  4, argtypes, values, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not refresh the retention trigger");
	SPI_finish();
}
