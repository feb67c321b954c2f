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
 * The arguments are parsed once per statement and kept in fn_extra.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "privacy_tag.h"
#include "retention.h"

/* privacy_tags.expired_writes */
int			pt_expired_writes = PT_EXPIRED_REFUSE;
/* privacy_tags.purging: set by the purge functions for their own writes */
bool		pt_purging = false;

static const struct config_enum_entry expired_writes_options[] = {
	{"refuse", PT_EXPIRED_REFUSE, false},
	{"apply", PT_EXPIRED_APPLY, false},
	{NULL, 0, false}
};

/* One windowed column, resolved against the firing relation. */
typedef struct RetentionColumn
{
	const char *name;
	AttrNumber	attnum;
	const char *anchor;
	AttrNumber	anchor_attnum;
	Oid			anchor_type;	/* DATEOID, TIMESTAMPOID or TIMESTAMPTZOID */
	Interval	window;
	uint8		action;			/* PT_ACTION_DELETE or PT_ACTION_NULLIFY */
} RetentionColumn;

typedef struct RetentionPlan
{
	Oid			tgoid;
	Oid			relid;
	int			ncolumns;
	RetentionColumn columns[FLEXIBLE_ARRAY_MEMBER];
} RetentionPlan;

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

/* The trigger's arguments, parsed and resolved against rel. */
static RetentionPlan *
build_plan(Trigger *trigger, Relation rel, MemoryContext cxt)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	int			n = trigger->tgnargs / 2;
	RetentionPlan *plan;

	if (trigger->tgnargs % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" has an odd number of arguments",
						trigger->tgname, RelationGetRelationName(rel)),
				 errhint("Run privacy_tags.enforce() on the table again.")));

	plan = MemoryContextAllocZero(cxt, offsetof(RetentionPlan, columns) +
								  n * sizeof(RetentionColumn));
	plan->tgoid = trigger->tgoid;
	plan->relid = RelationGetRelid(rel);

	for (int i = 0; i < n; i++)
	{
		const char *colname = trigger->tgargs[2 * i];
		const char *tagtext = trigger->tgargs[2 * i + 1];
		PtParsed	tag;
		PtError		err;
		RetentionColumn *c = &plan->columns[plan->ncolumns];
		Oid			typid;

		if (!pt_parse(tagtext, strlen(tagtext), &tag, &err) || !tag.has_retain ||
			tag.anchor_len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("trigger \"%s\" on \"%s\" has an invalid window for column \"%s\"",
							trigger->tgname, RelationGetRelationName(rel), colname),
					 errhint("Run privacy_tags.enforce() on the table again.")));

		c->name = MemoryContextStrdup(cxt, colname);
		c->anchor = MemoryContextStrdup(cxt, tag.anchor);
		c->attnum = InvalidAttrNumber;
		c->anchor_attnum = InvalidAttrNumber;
		for (int a = 0; a < tupdesc->natts; a++)
		{
			Form_pg_attribute att = TupleDescAttr(tupdesc, a);

			if (att->attisdropped)
				continue;
			if (strcmp(NameStr(att->attname), colname) == 0)
				c->attnum = att->attnum;
			if (strcmp(NameStr(att->attname), tag.anchor) == 0)
				c->anchor_attnum = att->attnum;
		}
		if (c->attnum == InvalidAttrNumber || c->anchor_attnum == InvalidAttrNumber)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" named by trigger \"%s\" does not exist in \"%s\"",
							c->attnum == InvalidAttrNumber ? colname : tag.anchor,
							trigger->tgname, RelationGetRelationName(rel)),
					 errhint("A column was renamed or dropped; run privacy_tags.enforce() on the table again.")));
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
		plan->ncolumns++;
	}
	return plan;
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

/* retention_trigger(): refuse or expire values past their window. */
PG_FUNCTION_INFO_V1(retention_trigger);
Datum
retention_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	tuple;
	TupleDesc	tupdesc;
	RetentionPlan *plan;
	TimestampTz now;
	int			nnull = 0;
	int		   *nullcols = NULL;
	bool		skip = false;

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

	rel = trigdata->tg_relation;
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;

	if (pt_purging)
		return PointerGetDatum(tuple);

	plan = (RetentionPlan *) fcinfo->flinfo->fn_extra;
	if (plan == NULL || plan->tgoid != trigdata->tg_trigger->tgoid ||
		plan->relid != RelationGetRelid(rel))
	{
		if (plan != NULL)
			pfree(plan);
		plan = build_plan(trigdata->tg_trigger, rel, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = plan;
	}
	if (plan->ncolumns == 0)
		return PointerGetDatum(tuple);

	tupdesc = RelationGetDescr(rel);
	now = GetCurrentTransactionStartTimestamp();

	for (int i = 0; i < plan->ncolumns && !skip; i++)
	{
		RetentionColumn *c = &plan->columns[i];
		bool		isnull;
		Datum		anchor;
		TimestampTz expiry;

		/* nullify has nothing to do on a NULL value */
		if (c->action == PT_ACTION_NULLIFY)
		{
			(void) heap_getattr(tuple, c->attnum, tupdesc, &isnull);
			if (isnull)
				continue;
		}
		anchor = heap_getattr(tuple, c->anchor_attnum, tupdesc, &isnull);
		if (isnull)
			continue;			/* the clock has not started */
		expiry = expiry_of(anchor, c->anchor_type, &c->window);
		if (expiry > now)
			continue;

		if (pt_expired_writes == PT_EXPIRED_REFUSE)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("value of column \"%s\" of relation \"%s\" expired at %s, %s",
							c->name, RelationGetRelationName(rel),
							timestamptz_to_str(expiry), window_text(c)),
					 errdetail("The write would store a value that its retention window says must already be %s.",
							   c->action == PT_ACTION_NULLIFY ? "nulled" : "deleted"),
					 errhint("Write a later \"%s\", or set privacy_tags.expired_writes = 'apply' to %s instead.",
							 c->anchor,
							 c->action == PT_ACTION_NULLIFY ? "store NULL" : "skip the row")));

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
		return PointerGetDatum(NULL);
	if (nnull > 0)
	{
		Datum	   *values = palloc0(sizeof(Datum) * nnull);
		bool	   *nulls = palloc(sizeof(bool) * nnull);

		for (int i = 0; i < nnull; i++)
			nulls[i] = true;
		tuple = heap_modify_tuple_by_cols(tuple, tupdesc, nnull, nullcols, values, nulls);
	}
	return PointerGetDatum(tuple);
}

/*
 * Rewrite the retention trigger of an enforced table after a tag changed.
 * Called by the label hook before the new label is stored, so the change
 * (attnum gets label, NULL for removal) is passed along.
 */
void
retention_refresh(Oid relid, AttrNumber attnum, const char *label)
{
	Oid			argtypes[3] = {REGCLASSOID, INT2OID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			rc;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = Int16GetDatum(attnum);
	if (label)
		values[2] = CStringGetTextDatum(label);
	else
		nulls[2] = 'n';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT privacy_tags._refresh_enforcement($1, $2, $3)",
							   3, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not refresh the retention trigger: %s",
			 SPI_result_code_string(rc));
	SPI_finish();
}
