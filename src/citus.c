/*
 * citus.c
 *	  What privacy_tags does differently when Citus is loaded.
 *
 * Nothing here runs unless the citus library is loaded in the backend (its
 * settings exist); without Citus every function below returns at once.
 *
 * On a Citus cluster a distributed table's rows live in shards on the
 * workers, and the retention trigger, copied to every shard with its
 * arguments, fires there.  So:
 *
 * - create_distributed_table() and create_reference_table() of an enforced
 *	 table are let through Citus's check for triggers (the retention trigger
 *	 is safe on shards: it reads nothing but its arguments and the
 *	 extension's reference tables), and the rows already in the table are
 *	 copied into the shards as they are: the trigger is disabled for the
 *	 copy and enabled again on every shard after it (a purge, not a refusal,
 *	 is what expired rows that are already stored get).
 * - The extension's own statements on distributed tables (purge, erasure)
 *	 carry privacy_tags.purging to the shards, as Citus propagates a SET
 *	 LOCAL; the next statement of the transaction that is not one of them
 *	 turns it off there again before it runs (so a purge that ends its
 *	 transaction costs no round trip for that).
 * - privacy_tags.expired_writes, as the coordinator has it, reaches the
 *	 shards for each statement of a transaction block (or of a function).
 *	 A statement outside of one runs on the workers with their own setting:
 *	 Citus propagates SET LOCAL inside transaction blocks only.
 * - Messages name the distributed table, not the shard; the refusals that
 *	 Citus passes on from a COPY into shards (COPY, INSERT ... SELECT) without
 *	 their SQLSTATE and hint get them back.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "citus.h"
#include "retention.h"

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * privacy_tags.expired_writes as last sent to the workers in transaction
 * propagated_xact (until then: their default, refuse).
 */
static LocalTransactionId propagated_xact = InvalidLocalTransactionId;
static int	propagated_expired_writes = PT_EXPIRED_REFUSE;
static bool propagating = false;

/*
 * What the workers have of privacy_tags.purging in transaction purging_xact
 * (in any other: off): off, on, or not known (a subtransaction that may
 * have sent one of them was rolled back).
 */
typedef enum WorkersPurging
{
	WORKERS_PURGING_OFF,
	WORKERS_PURGING_ON,
	WORKERS_PURGING_UNKNOWN
} WorkersPurging;

static LocalTransactionId purging_xact = InvalidLocalTransactionId;
static WorkersPurging workers_purging = WORKERS_PURGING_OFF;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static LocalTransactionId
current_lxid(void)
{
#if PG_VERSION_NUM >= 170000
	return MyProc->vxid.lxid;
#else
	return MyProc->lxid;
#endif
}

#define RETENTION_TRIGGER "privacy_tags_retention"

/* Is the citus library loaded in this backend? */
bool
PtCitusLoaded(void)
{
	return GetConfigOption("citus.enable_unsafe_triggers", true, false) != NULL;
}

/*
 * The answers of PtCitusTable(), per relation, until the relation's
 * relcache entry is invalidated (create_distributed_table() and
 * undistribute_table() rewrite or alter the table, which invalidates it).
 */
typedef struct CitusTableEntry
{
	Oid			relid;
	bool		citus;
} CitusTableEntry;

static HTAB *citus_tables = NULL;

void
PtCitusRelcacheInvalidate(Oid relid)
{
	if (citus_tables == NULL)
		return;
	if (OidIsValid(relid))
		(void) hash_search(citus_tables, &relid, HASH_REMOVE, NULL);
	else
	{
		hash_destroy(citus_tables);
		citus_tables = NULL;
	}
}

/*
 * Is relid a table in Citus's metadata (distributed, reference or local
 * table added to it)?  false without Citus.
 */
bool
PtCitusTable(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	bool		result = false;
	CitusTableEntry *entry;
	bool		found;

	if (!PtCitusLoaded() ||
		!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	if (citus_tables == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(CitusTableEntry);
		ctl.hcxt = CacheMemoryContext;
		citus_tables = hash_create("privacy_tags Citus tables", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(citus_tables, &relid, HASH_FIND, &found);
	if (found)
		return entry->citus;
	values[0] = ObjectIdGetDatum(relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition "
							  "WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							  1, argtypes, values, NULL, true, 1) == SPI_OK_SELECT)
		result = SPI_processed > 0;
	SPI_finish();
	/* (the query may have processed an invalidation that dropped the hash) */
	if (citus_tables != NULL)
	{
		entry = hash_search(citus_tables, &relid, HASH_ENTER, &found);
		entry->citus = result;
	}
	return result;
}

/*
 * SET LOCAL name = value on the workers: on every worker connection of the
 * transaction, open and yet to be opened, through Citus's propagation of
 * SET LOCAL (citus.propagate_set_commands = 'local' for this command).  The
 * setting here does not change.  The role the workers' connections run as
 * must be allowed to set the parameter.
 */
void
PtCitusSetOnWorkers(const char *name, const char *value)
{
	int			nestlevel;
	char	   *stmt;

	if (!PtCitusLoaded())
		return;
	stmt = psprintf("SET LOCAL %s TO %s", name, quote_literal_cstr(value));
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("citus.propagate_set_commands", "local",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(stmt, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", stmt);
	SPI_finish();
	/* here both settings go back; Citus has sent the SET LOCAL on */
	AtEOXact_GUC(false, nestlevel);
}

/*
 * Is this a worker running a command that the coordinator propagated (DDL
 * propagation off, and this node not the coordinator)?  Labels that
 * arrive so were checked on the coordinator, against its categories, and
 * the table's trigger was rewritten there and on the shards: the label
 * hooks store them as they are.
 */
bool
PtCitusPropagatedCommand(void)
{
	const char *ddl;
	bool		result = false;

	if (!PtCitusLoaded())
		return false;
	ddl = GetConfigOption("citus.enable_ddl_propagation", true, false);
	if (ddl == NULL || strcmp(ddl, "off") != 0)
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT NOT pg_catalog.citus_is_coordinator()", true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		bool		isnull;

		result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) &&
			!isnull;
	}
	SPI_finish();
	return result;
}

/*
 * Before one of the extension's own statements on a Citus table:
 * privacy_tags.purging on on the workers, unless it is already.
 */
void
PtCitusPurgingOnWorkers(void)
{
	LocalTransactionId xact = current_lxid();

	if (purging_xact == xact && workers_purging == WORKERS_PURGING_ON)
		return;
	PtCitusSetOnWorkers("privacy_tags.purging", "on");
	purging_xact = xact;
	workers_purging = WORKERS_PURGING_ON;
}

/*
 * Before any other statement that may write: privacy_tags.purging off on
 * the workers again, if the extension's statements turned it on in this
 * transaction (and the coordinator is not purging itself), and
 * privacy_tags.expired_writes as the coordinator has it.
 */
static void
settings_to_workers(void)
{
	LocalTransactionId xact = current_lxid();
	int			have = propagated_xact == xact ? propagated_expired_writes : PT_EXPIRED_REFUSE;
	volatile bool expired_writes = pt_expired_writes != have;
	volatile bool purging_off = purging_xact == xact && workers_purging != WORKERS_PURGING_OFF && !pt_purging;

	/* (outside a transaction block Citus sends nothing: it then costs nothing) */
	if (propagating || (!expired_writes && !purging_off) || !PtCitusLoaded())
		return;
	propagating = true;
	PG_TRY();
	{
		if (expired_writes)
			PtCitusSetOnWorkers("privacy_tags.expired_writes",
								pt_expired_writes == PT_EXPIRED_APPLY ? "apply" : "refuse");
		if (purging_off)
			PtCitusSetOnWorkers("privacy_tags.purging", "off");
	}
	PG_FINALLY();
	{
		propagating = false;
	}
	PG_END_TRY();
	propagated_xact = xact;
	propagated_expired_writes = pt_expired_writes;
	if (purging_off)
		workers_purging = WORKERS_PURGING_OFF;
}

/* A rolled back subtransaction may have undone a SET LOCAL on the workers. */
static void
pt_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && purging_xact == current_lxid())
		workers_purging = WORKERS_PURGING_UNKNOWN;
	if (event == SUBXACT_EVENT_ABORT_SUB && propagated_xact == current_lxid())
		propagated_expired_writes = -1;	/* unknown: sent again */
}

/*
 * The name to give a relation in messages: a shard of a distributed table
 * (relation "customers_102008" with trigger "privacy_tags_retention_102008",
 * as Citus names the copies) is called by its table's name.
 */
const char *
PtMessageRelationName(Relation rel, const char *tgname)
{
	const char *name = RelationGetRelationName(rel);
	const char *suffix = strrchr(name, '_');
	size_t		n;

	if (suffix == NULL || suffix == name || suffix[1] == '\0' ||
		strspn(suffix + 1, "0123456789") != strlen(suffix + 1) || tgname == NULL ||
		strncmp(tgname, RETENTION_TRIGGER, strlen(RETENTION_TRIGGER)) != 0 ||
		strcmp(tgname + strlen(RETENTION_TRIGGER), suffix) != 0)
		return name;
	n = suffix - name;
	return pnstrdup(name, n);
}

/* Is funcid Citus's create_distributed_table() or create_reference_table()? */
static bool
distributes_table(Oid funcid)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	result = proc->pronamespace == PG_CATALOG_NAMESPACE &&
		proc->prolang == ClanguageId &&
		(strcmp(NameStr(proc->proname), "create_distributed_table") == 0 ||
		 strcmp(NameStr(proc->proname), "create_reference_table") == 0);
	ReleaseSysCache(tup);
	return result;
}

/*
 * Does relid have the retention trigger, enabled, and no other trigger of
 * its own (Citus's check for triggers is then let through for it only)?
 */
static bool
enforced_alone(Oid relid)
{
	Relation	rel;
	bool		found = false;
	bool		others = false;

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return false;
	if (rel->trigdesc != NULL)
		for (int i = 0; i < rel->trigdesc->numtriggers; i++)
		{
			Trigger    *t = &rel->trigdesc->triggers[i];

			if (t->tgisinternal)
				continue;
			if (strcmp(t->tgname, RETENTION_TRIGGER) == 0 && t->tgenabled != TRIGGER_DISABLED)
				found = true;
			else
				others = true;
		}
	relation_close(rel, AccessShareLock);
	return found && !others;
}

/* The enforced tables that the calls of create_distributed_table() in node distribute. */
static bool
distributed_tables_walker(Node *node, List **relids)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) node;
		Node	   *arg = f->args != NIL ? linitial(f->args) : NULL;

		if (arg != NULL && IsA(arg, Const) && !((Const *) arg)->constisnull &&
			(((Const *) arg)->consttype == REGCLASSOID || ((Const *) arg)->consttype == OIDOID) &&
			distributes_table(f->funcid))
		{
			Oid			relid = DatumGetObjectId(((Const *) arg)->constvalue);

			if (enforced_alone(relid))
				*relids = list_append_unique_oid(*relids, relid);
		}
	}
	return expression_tree_walker(node, distributed_tables_walker, (void *) relids);
}

/*
 * A SELECT of create_distributed_table(<table>, ...) (the table a literal,
 * as it nearly always is): the enforced tables it distributes.
 */
static List *
distributed_enforced_tables(QueryDesc *queryDesc)
{
	List	   *relids = NIL;
	Plan	   *plan;

	if (queryDesc->operation != CMD_SELECT || queryDesc->plannedstmt == NULL ||
		queryDesc->plannedstmt->commandType != CMD_SELECT)
		return NIL;
	plan = queryDesc->plannedstmt->planTree;
	/* SELECT f(...): a Result node (under a ProjectSet for set-returning calls) */
	while (plan != NULL && IsA(plan, ProjectSet))
		plan = plan->lefttree;
	if (plan == NULL || !IsA(plan, Result) || plan->lefttree != NULL)
		return NIL;
	if (!PtCitusLoaded())
		return NIL;
	(void) distributed_tables_walker((Node *) queryDesc->plannedstmt->planTree->targetlist, &relids);
	return relids;
}

/* ALTER TABLE rel ENABLE/DISABLE TRIGGER privacy_tags_retention, as the caller. */
static void
set_trigger_enabled(Oid relid, bool enable)
{
	char	   *stmt = psprintf("ALTER TABLE %s %s TRIGGER " RETENTION_TRIGGER,
								quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
														   get_rel_name(relid)),
								enable ? "ENABLE" : "DISABLE");

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(stmt, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not run %s", stmt);
	SPI_finish();
}

/*
 * ExecutorRun: around create_distributed_table() of an enforced table, the
 * trigger is allowed (citus.enable_unsafe_triggers, for this statement)
 * and disabled while Citus copies the rows into the shards.
 */
#if PG_VERSION_NUM >= 180000
#define EXECUTOR_RUN_ARGS queryDesc, direction, count
static void
pt_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count)
#else
#define EXECUTOR_RUN_ARGS queryDesc, direction, count, execute_once
static void
pt_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
#endif
{
	List	   *relids = distributed_enforced_tables(queryDesc);
	int			nestlevel = 0;
	ListCell   *lc;

	if (relids != NIL)
	{
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("citus.enable_unsafe_triggers", "on",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		foreach(lc, relids)
			set_trigger_enabled(lfirst_oid(lc), false);
	}
	if (prev_ExecutorRun)
		prev_ExecutorRun(EXECUTOR_RUN_ARGS);
	else
		standard_ExecutorRun(EXECUTOR_RUN_ARGS);
	if (relids != NIL)
	{
		/* (now on every shard too) */
		foreach(lc, relids)
			set_trigger_enabled(lfirst_oid(lc), true);
		AtEOXact_GUC(true, nestlevel);
	}
}

/*
 * ExecutorStart: a statement that may write, in a transaction block or a
 * function, brings the workers' settings in line first (settings_to_workers).
 */
static void
pt_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (!(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		(queryDesc->operation != CMD_SELECT || queryDesc->plannedstmt->hasModifyingCTE))
		settings_to_workers();
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/* The SQLSTATE and hint of a refusal of the retention trigger, from its message. */
static bool
refusal_of(const char *message, int *sqlstate, const char **hint)
{
	const char *after;

	if (strncmp(message, "value of column \"", 17) == 0 && strstr(message, "\" expired at ") != NULL &&
		(after = strstr(message, " after ")) != NULL)
	{
		*sqlstate = ERRCODE_CHECK_VIOLATION;
		after += strlen(" after ");
		*hint = psprintf(*after == '"' ? "Write a later %s, or set %s to apply the column's expiry action instead." :
						 "Write a later \"%s\", or set %s to apply the column's expiry action instead.",
						 after, "privacy_tags.expired_writes = 'apply' (in a transaction block)");
		return true;
	}
	if (strncmp(message, "column \"", 8) == 0 && strstr(message, "\" holds consent-based data, and this ") != NULL)
	{
		*sqlstate = ERRCODE_CHECK_VIOLATION;
		*hint = "Record the consent with privacy_tags.grant_consent() first, or leave the column NULL.";
		return true;
	}
	if (strncmp(message, "processing of this ", 19) == 0 && strstr(message, " is restricted: relation \"") != NULL)
	{
		*sqlstate = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		*hint = "privacy_tags.lift_restriction() ends the restriction.";
		return true;
	}
	return false;
}

/*
 * emit_log_hook: Citus reports an error of a COPY into a shard (COPY, and
 * INSERT ... SELECT, which copies) with its message and detail only, as
 * XX000.  A refusal of the retention trigger gets its SQLSTATE and hint
 * back.
 */
static void
pt_emit_log_hook(ErrorData *edata)
{
	int			sqlstate;
	const char *hint;

	if (edata->elevel == ERROR && edata->sqlerrcode == ERRCODE_INTERNAL_ERROR &&
		edata->message != NULL && edata->hint == NULL && PtCitusLoaded() &&
		refusal_of(edata->message, &sqlstate, &hint))
	{
		edata->sqlerrcode = sqlstate;
		edata->hint = pstrdup(hint);
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* ProcessUtility: COPY FROM writes too. */
static void
pt_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
#if PG_VERSION_NUM >= 140000
				  bool readOnlyTree,
#endif
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, CopyStmt) && ((CopyStmt *) pstmt->utilityStmt)->is_from)
		settings_to_workers();
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString,
#if PG_VERSION_NUM >= 140000
							readOnlyTree,
#endif
							context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString,
#if PG_VERSION_NUM >= 140000
								readOnlyTree,
#endif
								context, params, queryEnv, dest, qc);
}

void
citus_init(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pt_ProcessUtility;
	RegisterSubXactCallback(pt_subxact_callback, NULL);
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = pt_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = pt_ExecutorRun;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = pt_emit_log_hook;
}

/*
 * _citus_loaded(): whether the citus library is loaded here (the SQL
 * functions ask before they read Citus's catalogs or settings).
 */
PG_FUNCTION_INFO_V1(privacy_tags_citus_loaded);
Datum
privacy_tags_citus_loaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PtCitusLoaded());
}
