/*
 * as_owner.c
 *	  The one place where privacy_tags changes who it runs as.
 *
 * Two directions, both narrow:
 *
 *	 down	every statement the engine runs against a user table (purge,
 *			erasure, access export, discover, enforce) runs as that table's
 *			owner inside a security-restricted operation, the way PostgreSQL's
 *			own maintenance commands run user code (ExecRefreshMatView in
 *			matview.c, vacuum_rel in vacuum.c): the owner's rights, no SET
 *			ROLE, no temporary objects, a fresh GUC nest level with a pinned
 *			search_path, so that triggers, domain checks, casts, defaults,
 *			generated and index expressions of the table never run with the
 *			rights of the extension's owner or of its caller.  Subject ids and
 *			other values travel as bound parameters: statement text holds
 *			identifiers and constants only, so no personal data reaches the
 *			server log through a statement or its CONTEXT line.
 *
 *	 up		the few entry points that any table owner may call and that need
 *			the extension's internal functions (enforce, unenforce, discover
 *			and the label hook's trigger refresh) call them as the extension's
 *			owner, passing the calling role along, so that the internal
 *			functions themselves are executable by nobody else.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/regproc.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "as_owner.h"
#include "citus.h"
#include "retention.h"

/* The role that owns relation relid. */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* The role that owns schema privacy_tags: the extension's owner. */
Oid
ExtensionOwner(void)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACENAME, CStringGetDatum("privacy_tags"));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "schema privacy_tags does not exist");
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * The statements run_as_owner() has prepared, kept per backend: the same
 * statement text on the same table as the same owner is parsed and planned
 * once (the plan cache re-plans it when what it reads changes).  Bounded:
 * when full, every plan is freed and the cache starts again (a purge's
 * statements carry their cut-offs as constants, so some texts are new).
 */
typedef struct StmtKey
{
	Oid			relid;
	Oid			owner;
	int			nargs;
	uint32		hash;
	int			len;
} StmtKey;

typedef struct StmtEntry
{
	StmtKey		key;
	char	   *sql;
	SPIPlanPtr	plan;
} StmtEntry;

#define STMT_CACHE_MAX 2048

static HTAB *stmt_cache = NULL;
static MemoryContext stmt_cache_cxt = NULL;

static void
stmt_cache_reset(void)
{
	HASH_SEQ_STATUS status;
	StmtEntry  *e;

	if (stmt_cache == NULL)
		return;
	hash_seq_init(&status, stmt_cache);
	while ((e = hash_seq_search(&status)) != NULL)
		if (e->plan != NULL)
			SPI_freeplan(e->plan);
	hash_destroy(stmt_cache);
	stmt_cache = NULL;
	MemoryContextReset(stmt_cache_cxt);
}

/*
 * The kept plan of sql on relid as owner (SPI connected, running as the
 * owner): prepared the first time.
 */
static SPIPlanPtr
cached_plan(Oid relid, Oid owner, const char *sql, int nargs, Oid *argtypes)
{
	StmtKey		key;
	StmtEntry  *e;
	bool		found;
	SPIPlanPtr	plan;

	if (stmt_cache == NULL)
	{
		HASHCTL		ctl;

		if (stmt_cache_cxt == NULL)
			stmt_cache_cxt = AllocSetContextCreate(CacheMemoryContext, "privacy_tags owner statements",
												   ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(StmtKey);
		ctl.entrysize = sizeof(StmtEntry);
		ctl.hcxt = stmt_cache_cxt;
		stmt_cache = hash_create("privacy_tags owner statements", 256, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.relid = relid;
	key.owner = owner;
	key.nargs = nargs;
	key.len = strlen(sql);
	key.hash = hash_bytes((const unsigned char *) sql, key.len);
	e = hash_search(stmt_cache, &key, HASH_FIND, &found);
	if (found && strcmp(e->sql, sql) == 0)
		return e->plan;
	plan = OwnerPrepare(sql, nargs, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare a statement on relation %u: %s",
			 relid, SPI_result_code_string(SPI_result));
	if (found)
		return plan;			/* (a hash collision: this call alone) */
	if (hash_get_num_entries(stmt_cache) >= STMT_CACHE_MAX)
		stmt_cache_reset();
	SPI_keepplan(plan);
	if (stmt_cache == NULL)
		return cached_plan(relid, owner, sql, nargs, argtypes);
	e = hash_search(stmt_cache, &key, HASH_ENTER, &found);
	e->sql = MemoryContextStrdup(stmt_cache_cxt, sql);
	e->plan = plan;
	return plan;
}

List	   *pt_purge_targets = NIL;
bool		pt_in_own_statement = false;

/*
 * A purge or erasure statement on relid is about to run: the tables it may
 * write without the trigger's checks are relid's tree and what its foreign
 * keys cascade into.  Read before the switch to the table's owner, who may
 * not call the extension's internal functions.
 */
/* set_purge_targets()'s answers, per relation, until a relcache invalidation */
typedef struct TargetsEntry
{
	Oid			relid;
	List	   *targets;
} TargetsEntry;

static HTAB *targets_cache = NULL;
static MemoryContext targets_cxt = NULL;

void
OwnerRelcacheInvalidate(Oid relid)
{
	if (targets_cache != NULL)
	{
		hash_destroy(targets_cache);
		targets_cache = NULL;
		MemoryContextReset(targets_cxt);
	}
}

static void
set_purge_targets(Oid relid)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];
	List	   *targets = NIL;
	MemoryContext old;
	MemoryContext caller;
	TargetsEntry *e;
	bool		found;
	int			rc;

	if (targets_cache == NULL)
	{
		HASHCTL		ctl;

		if (targets_cxt == NULL)
		{
			targets_cxt = AllocSetContextCreate(CacheMemoryContext, "privacy_tags purge targets",
												ALLOCSET_SMALL_SIZES);
		}
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TargetsEntry);
		ctl.hcxt = targets_cxt;
		targets_cache = hash_create("privacy_tags purge targets", 64, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	/*
	 * (a copy for the statement: an invalidation while it runs resets the
	 * cache, not what the trigger reads)
	 */
	e = hash_search(targets_cache, &relid, HASH_FIND, &found);
	if (found)
	{
		pt_purge_targets = list_copy(e->targets);
		return;
	}

	values[0] = ObjectIdGetDatum(relid);
	caller = CurrentMemoryContext;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT x::pg_catalog.oid FROM pg_catalog.unnest("
							   "privacy_tags._cascade_tables($1) OPERATOR(pg_catalog.||) "
							   "coalesce(pg_catalog.pg_partition_root($1), $1)) x",
							   1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read what relation %u cascades into", relid);
	old = MemoryContextSwitchTo(caller);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			targets = lappend_oid(targets, DatumGetObjectId(d));
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
	/* kept, unless an invalidation during the query dropped the cache */
	if (targets_cache != NULL)
	{
		e = hash_search(targets_cache, &relid, HASH_ENTER, &found);
		old = MemoryContextSwitchTo(targets_cxt);
		e->targets = list_copy(targets);
		MemoryContextSwitchTo(old);
	}
	pt_purge_targets = targets;
}

/*
 * Run sql with text parameters $1..$n as the owner of relid, in a
 * security-restricted operation.  With want_value, the statement must return
 * one column of type jsonb; its value in the first row (NULL without rows)
 * is returned in the caller's memory context, else the number of rows
 * processed.
 */
/* One statement of run_as_owner(), run as the owner (RunAsOwner()). */
typedef struct OwnerStatement
{
	Oid			relid;
	Oid			owner;
	const char *sql;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *values;
	char	   *nulls;
	bool		want_value;
	Datum		result;
	bool		isnull;
} OwnerStatement;

static void
run_owner_statement(void *arg)
{
	OwnerStatement *st = arg;
	int			rc;

	pt_in_own_statement = pt_purging;
	rc = OwnerExecutePlan(cached_plan(st->relid, st->owner, st->sql, st->nargs, st->argtypes),
						  st->sql, st->values, st->nulls, false, 0);
	pt_in_own_statement = false;
	if (rc < 0)
		elog(ERROR, "could not run a statement on relation %u: %s",
			 st->relid, SPI_result_code_string(rc));
	if (st->want_value)
	{
		if (SPI_tuptable == NULL || SPI_tuptable->tupdesc->natts != 1 ||
			SPI_gettypeid(SPI_tuptable->tupdesc, 1) != JSONBOID)
			elog(ERROR, "statement on relation %u must return one jsonb column", st->relid);
		if (SPI_processed > 0)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
										  SPI_tuptable->tupdesc, 1, &st->isnull);

			if (!st->isnull)
				st->result = SPI_datumTransfer(d, false, -1);
		}
	}
	else
	{
		st->result = Int64GetDatum((int64) SPI_processed);
		st->isnull = false;
	}
}

static Datum
run_as_owner(Oid relid, const char *sql, ArrayType *params, bool want_value,
			 bool *isnull)
{
	OwnerStatement st;
	bool	   *valnulls = NULL;

	memset(&st, 0, sizeof(st));
	st.relid = relid;
	st.owner = relation_owner(relid);
	st.sql = sql;
	st.want_value = want_value;
	st.isnull = true;
	if (params != NULL)
	{
		if (ARR_NDIM(params) > 1 || ARR_ELEMTYPE(params) != TEXTOID)
			elog(ERROR, "statement parameters must be a one-dimensional text array");
		deconstruct_array(params, TEXTOID, -1, false, TYPALIGN_INT,
						  &st.values, &valnulls, &st.nargs);
		st.argtypes = palloc(sizeof(Oid) * Max(st.nargs, 1));
		st.nulls = palloc(Max(st.nargs, 1));
		for (int i = 0; i < st.nargs; i++)
		{
			st.argtypes[i] = TEXTOID;
			st.nulls[i] = valnulls[i] ? 'n' : ' ';
		}
	}

	/* (as the caller, the extension's owner: the catalogs and our functions) */
	if (pt_purging)
		set_purge_targets(relid);
	/* on a Citus table the shards' triggers must know it too (citus.c) */
	if (pt_purging && PtCitusTable(relid))
		PtCitusPurgingOnWorkers();
	RunAsOwner(st.owner, run_owner_statement, &st);
	*isnull = st.isnull;
	return st.result;
}

/*
 * Call fn(arg) as role owner in a security-restricted operation, with the
 * search path and row-level security of run_as_owner() and SPI connected:
 * for a batch of statements on tables of one owner (fn runs them with
 * SPI_execute_plan and keeps what it needs with SPI_datumTransfer or in
 * its own memory context).  The role switch and the settings cost once.
 */
void
RunAsOwner(Oid owner, void (*fn) (void *arg), void *arg)
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION | SECURITY_NOFORCE_RLS);
	save_nestlevel = NewGUCNestLevel();
	PG_TRY();
	{
		/*
		 * Row-level security: the owner's own table is read whole (the
		 * NOFORCE flag above); a policy of another owner's table that a
		 * statement reads would run that owner's code as this one, so it
		 * makes the statement fail instead (as pg_dump does).
		 */
		(void) set_config_option("row_security", "off",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		/*
		 * What the statement's names mean does not depend on the owner (the
		 * extension's SECURITY DEFINER callers have this path already: no
		 * need to set it again, and invalidate the namespace cache).
		 */
		if (namespace_search_path == NULL ||
			strcmp(namespace_search_path, "pg_catalog, pg_temp") != 0)
			(void) set_config_option("search_path", "pg_catalog, pg_temp",
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		fn(arg);
		SPI_finish();
	}
	PG_CATCH();
	{
		/* (the transaction's abort pops the GUC nest level and SPI) */
		pt_in_own_statement = false;
		SetUserIdAndSecContext(save_userid, save_sec_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	AtEOXact_GUC(false, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/* The role that owns relation relid (for RunAsOwner()). */
Oid
RelationOwner(Oid relid)
{
	return relation_owner(relid);
}

/*
 * _owner_exec(rel, stmt, params): run a statement as rel's owner in a
 * security-restricted operation; returns the number of rows it processed.
 */
PG_FUNCTION_INFO_V1(privacy_tags_owner_exec);
Datum
privacy_tags_owner_exec(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		elog(ERROR, "_owner_exec: relation and statement must not be NULL");
	n = run_as_owner(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
					 PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), false, &isnull);
	PG_RETURN_DATUM(n);
}

/*
 * _owner_query(rel, stmt, params): run a query that returns one jsonb
 * column as rel's owner in a security-restricted operation; returns the
 * value of its first row (NULL without rows).
 */
PG_FUNCTION_INFO_V1(privacy_tags_owner_query);
Datum
privacy_tags_owner_query(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		v;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		elog(ERROR, "_owner_query: relation and statement must not be NULL");
	v = run_as_owner(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)),
					 PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2), true, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(v);
}

/*
 * Set up a set-returning function's result in materialize mode: the
 * tuplestore its rows go into (in *cxt, the query's memory) and their
 * descriptor.  (InitMaterializedSRF does this from PostgreSQL 15 on.)
 */
Tuplestorestate *
MaterializedResult(FunctionCallInfo fcinfo, TupleDesc *tupdesc, MemoryContext *cxt)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Tuplestorestate *store;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	*cxt = rsinfo->econtext->ecxt_per_query_memory;
	old = MemoryContextSwitchTo(*cxt);
	*tupdesc = CreateTupleDescCopy(desc);
	store = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = store;
	rsinfo->setDesc = *tupdesc;
	return store;
}

/*
 * Run "SELECT [* FROM] privacy_tags.<name>($1, ..., $n, caller)" as the
 * extension's owner, with the calling role as the last argument: the
 * internal function decides what the caller may do.  With store, every row
 * goes into it (in the memory context store_cxt); else the first column of
 * the first row is returned.
 */
static Datum
call_as_extension_owner(const char *name, int nargs, Oid *argtypes, Datum *values,
						const char *nulls, Tuplestorestate *store, MemoryContext store_cxt,
						bool *isnull)
{
	Oid			save_userid;
	int			save_sec_context;
	StringInfoData sql;
	Oid		   *types = palloc(sizeof(Oid) * (nargs + 1));
	Datum	   *vals = palloc(sizeof(Datum) * (nargs + 1));
	char	   *nls = palloc(nargs + 2);
	Datum		result = (Datum) 0;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %sprivacy_tags.%s(", store ? "* FROM " : "",
					 quote_identifier(name));
	for (int i = 0; i < nargs; i++)
	{
		types[i] = argtypes[i];
		vals[i] = values[i];
		nls[i] = nulls ? nulls[i] : ' ';
		appendStringInfo(&sql, "$%d, ", i + 1);
	}
	types[nargs] = REGROLEOID;
	vals[nargs] = ObjectIdGetDatum(GetUserId());
	nls[nargs] = ' ';
	nls[nargs + 1] = '\0';
	appendStringInfo(&sql, "$%d)", nargs + 1);

	*isnull = true;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(ExtensionOwner(), save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		int			rc;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		rc = SPI_execute_with_args(sql.data, nargs + 1, types, vals, nls, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not call privacy_tags.%s: %s", name, SPI_result_code_string(rc));
		if (store)
		{
			MemoryContext old = MemoryContextSwitchTo(store_cxt);

			for (uint64 r = 0; r < SPI_processed; r++)
				tuplestore_puttuple(store, SPI_tuptable->vals[r]);
			MemoryContextSwitchTo(old);
		}
		else if (SPI_processed > 0)
		{
			Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, 0);
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);

			if (!*isnull)
				result = SPI_datumTransfer(d, att->attbyval, att->attlen);
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		SetUserIdAndSecContext(save_userid, save_sec_context);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return result;
}

/* privacy_tags.<name>(args..., caller) as the extension's owner: one value. */
Datum
CallInternal(const char *name, int nargs, Oid *argtypes, Datum *values,
			 const char *nulls, bool *isnull)
{
	return call_as_extension_owner(name, nargs, argtypes, values, nulls, NULL, NULL, isnull);
}

/*
 * The body of the public functions that any role may call but that do their
 * work through internal ones: privacy_tags.f(args) calls
 * privacy_tags._f(args, caller) as the extension's owner.  A set-returning
 * f returns every row of _f.
 */
PG_FUNCTION_INFO_V1(privacy_tags_call_internal);
Datum
privacy_tags_call_internal(PG_FUNCTION_ARGS)
{
	Oid			fn = fcinfo->flinfo->fn_oid;
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	Form_pg_proc proc;
	char	   *internal;
	int			nargs;
	Oid		   *argtypes;
	Datum	   *values;
	char	   *nulls;
	bool		retset;
	bool		isnull;
	Datum		d;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fn);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	internal = psprintf("_%s", NameStr(proc->proname));
	nargs = proc->pronargs;
	retset = proc->proretset;
	argtypes = palloc(sizeof(Oid) * Max(nargs, 1));
	memcpy(argtypes, proc->proargtypes.values, sizeof(Oid) * nargs);
	ReleaseSysCache(tup);

	values = palloc(sizeof(Datum) * Max(nargs, 1));
	nulls = palloc(Max(nargs, 1));
	for (int i = 0; i < nargs; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}

	if (retset)
	{
		TupleDesc	tupdesc;
		MemoryContext per_query;
		Tuplestorestate *store = MaterializedResult(fcinfo, &tupdesc, &per_query);

		(void) call_as_extension_owner(internal, nargs, argtypes, values, nulls,
									   store, per_query, &isnull);
		return (Datum) 0;
	}

	d = CallInternal(internal, nargs, argtypes, values, nulls, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/*
 * The statements the extension runs as a table's owner are text naming
 * tables, types and functions; PostgreSQL parses a kept statement again
 * whenever its plan is invalidated, and a name may by then mean something
 * else: a table renamed away and a view put in its place (by the owner's
 * own code, running in the middle of an export or erasure, or by a schema
 * renamed in another session) would have the view's functions run as the
 * role the statement runs as, the owner of another table, possibly a
 * superuser.  So every parse of one of these statements (prepared, or
 * parsed again for a new plan) is checked before anything is rewritten,
 * planned or run: it may read tables only (no view, materialized view or
 * set-returning function), and call functions (operators, casts, domains'
 * checks) of trusted roles only: a superuser, the extension's owner, or the
 * role it runs as.  A statement that fails the check fails, naming what it
 * found.
 */
static const char *checked_sql = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;

static bool
trusted_role(Oid role)
{
	return role == GetUserId() || superuser_arg(role) || role == ExtensionOwner();
}

static void
check_function(Oid fn)
{
	HeapTuple	tup;
	Form_pg_proc proc;

	if (!OidIsValid(fn))
		return;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fn);
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (!trusted_role(proc->proowner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("privacy_tags: a statement run as role \"%s\" would call function %s of role \"%s\"",
						GetUserNameFromId(GetUserId(), false),
						format_procedure(fn), GetUserNameFromId(proc->proowner, false)),
				 errhint("A name in the statement now means another object (a table, schema or type renamed?); run it again.")));
	ReleaseSysCache(tup);
}

static void
check_type(Oid type)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for type %u", type);
	owner = ((Form_pg_type) GETSTRUCT(tup))->typowner;
	ReleaseSysCache(tup);
	if (!trusted_role(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("privacy_tags: a statement run as role \"%s\" would check domain %s of role \"%s\"",
						GetUserNameFromId(GetUserId(), false),
						format_type_be(type), GetUserNameFromId(owner, false)),
				 errhint("A name in the statement now means another object (a table, schema or type renamed?); run it again.")));
}

static bool
check_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, check_walker, context, QTW_EXAMINE_RTES_BEFORE);
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION &&
			rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE &&
			rte->relkind != RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy_tags: a statement run as role \"%s\" would read %s, which is not a table",
							GetUserNameFromId(GetUserId(), false),
							quote_qualified_identifier(get_namespace_name(get_rel_namespace(rte->relid)),
													   get_rel_name(rte->relid))),
					 errhint("A name in the statement now means another object (a table or schema renamed?); run it again.")));
		if (rte->rtekind == RTE_FUNCTION || rte->rtekind == RTE_TABLEFUNC)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy_tags: a statement run as role \"%s\" would read from a function",
							GetUserNameFromId(GetUserId(), false))));
		return false;
	}
	if (IsA(node, FuncExpr))
		check_function(((FuncExpr *) node)->funcid);
	else if (IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr))
		check_function(get_opcode(((OpExpr *) node)->opno));
	else if (IsA(node, ScalarArrayOpExpr))
		check_function(get_opcode(((ScalarArrayOpExpr *) node)->opno));
	else if (IsA(node, Aggref))
		check_function(((Aggref *) node)->aggfnoid);
	else if (IsA(node, WindowFunc))
		check_function(((WindowFunc *) node)->winfnoid);
	else if (IsA(node, CoerceToDomain))
		check_type(((CoerceToDomain *) node)->resulttype);
	return expression_tree_walker(node, check_walker, context);
}

#if PG_VERSION_NUM >= 140000
static void
pt_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);
#else
static void
pt_post_parse_analyze(ParseState *pstate, Query *query)
{
	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query);
#endif
	if (checked_sql != NULL && pstate->p_sourcetext != NULL &&
		strcmp(pstate->p_sourcetext, checked_sql) == 0)
		(void) check_walker((Node *) query, NULL);
}

void
OwnerStatementsInit(void)
{
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = pt_post_parse_analyze;
}

/* SPI_prepare() of a statement run as a table's owner, checked. */
SPIPlanPtr
OwnerPrepare(const char *sql, int nargs, Oid *argtypes)
{
	return OwnerPrepareCursor(sql, nargs, argtypes, 0);
}

/* SPI_prepare_cursor() of one (purge's probes want a generic plan), checked. */
SPIPlanPtr
OwnerPrepareCursor(const char *sql, int nargs, Oid *argtypes, int cursorOptions)
{
	const char *save = checked_sql;
	SPIPlanPtr	plan;

	checked_sql = sql;
	PG_TRY();
	{
		plan = SPI_prepare_cursor(sql, nargs, argtypes, cursorOptions);
	}
	PG_FINALLY();
	{
		checked_sql = save;
	}
	PG_END_TRY();
	return plan;
}

/* SPI_execute_plan() of one: a new plan made for it is checked too. */
int
OwnerExecutePlan(SPIPlanPtr plan, const char *sql, Datum *values, const char *nulls,
				 bool read_only, long count)
{
	const char *save = checked_sql;
	int			rc;

	checked_sql = sql;
	PG_TRY();
	{
		rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	}
	PG_FINALLY();
	{
		checked_sql = save;
	}
	PG_END_TRY();
	return rc;
}

/* SPI_cursor_open() of one (its plan is made when it opens). */
Portal
OwnerCursorOpen(SPIPlanPtr plan, const char *sql, Datum *values, const char *nulls, bool read_only)
{
	const char *save = checked_sql;
	Portal		portal;

	checked_sql = sql;
	PG_TRY();
	{
		portal = SPI_cursor_open(NULL, plan, values, nulls, read_only);
	}
	PG_FINALLY();
	{
		checked_sql = save;
	}
	PG_END_TRY();
	return portal;
}
