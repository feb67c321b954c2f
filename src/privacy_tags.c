/*
 * privacy_tags.c
 *	  Library entry point: registers the label providers, the rename
 *	  follower and settings.
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "citus.h"
#include "as_owner.h"
#include "purge.h"
#include "subject_graph.h"
#include "renames.h"
#include "retention.h"
#include "tagging.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* privacy_tags.request_retention: closed requests are purged after it (minutes) */
static int	pt_request_retention = 3 * 365 * 24 * 60;

/*
 * One relcache callback for every cache of the library (the trigger's
 * plans, the subject graphs, the statements' cascade targets, what is a
 * Citus table, the purge probes): the backend has room for few callbacks,
 * shared with every other extension.
 */
static void
relcache_callback(Datum arg, Oid relid)
{
	RetentionRelcacheInvalidate(relid);
	SubjectGraphRelcacheInvalidate(relid);
	OwnerRelcacheInvalidate(relid);
	PtCitusRelcacheInvalidate(relid);
	PurgeRelcacheInvalidate(relid);
}

/*
 * A schema renamed changes what the names in the cached statements mean
 * (the purge probes name their tables by schema and name, too, and the
 * order of a purge of all is by those names), and a cast created or
 * dropped whether a subject type's ids can be looked up safely, without
 * any relcache invalidation: everything cached goes.
 */
static void
catalog_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	relcache_callback(arg, InvalidOid);
}

void
_PG_init(void)
{
	CacheRegisterRelcacheCallback(relcache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, catalog_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(CASTSOURCETARGET, catalog_callback, (Datum) 0);
	tagging_init();
	retention_init();
	renames_init();
	citus_init();
	OwnerStatementsInit();
	DefineCustomIntVariable("privacy_tags.request_retention",
							"How long the register keeps a closed data-subject request.",
							"purge() and run_purge() delete requests closed longer ago; the audit log keeps its entries.",
							&pt_request_retention,
							3 * 365 * 24 * 60, 24 * 60, INT_MAX,
							PGC_SUSET, GUC_UNIT_MIN,
							NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("privacy_tags");
#else
	EmitWarningsOnPlaceholders("privacy_tags");
#endif
}

/* _load(): does nothing; calling it loads the library (and its providers). */
PG_FUNCTION_INFO_V1(privacy_tags_load);
Datum
privacy_tags_load(PG_FUNCTION_ARGS)
{
	PG_RETURN_VOID();
}

/* _base_type(type): the type itself, or the base type of a domain. */
PG_FUNCTION_INFO_V1(privacy_tags_base_type);
Datum
privacy_tags_base_type(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(getBaseType(PG_GETARG_OID(0)));
}

/*
 * _normalize_id(type, id): the id as a value of type (looking through a
 * domain) and back to text, by the type's own input and output functions:
 * never a cast, which could be a function of the type's owner, and never a
 * domain's checks.
 */
PG_FUNCTION_INFO_V1(privacy_tags_normalize_id);
Datum
privacy_tags_normalize_id(PG_FUNCTION_ARGS)
{
	Oid			type = getBaseType(PG_GETARG_OID(0));
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Oid			typinput;
	Oid			typioparam;
	Oid			typoutput;
	bool		varlena;
	Datum		value;

	getTypeInputInfo(type, &typinput, &typioparam);
	getTypeOutputInfo(type, &typoutput, &varlena);
	value = OidInputFunctionCall(typinput, id, typioparam, -1);
	PG_RETURN_TEXT_P(cstring_to_text(OidOutputFunctionCall(typoutput, value)));
}

/* _type_not_null(type): whether type is a domain that (or whose base domains) forbids NULL. */
PG_FUNCTION_INFO_V1(privacy_tags_type_not_null);
Datum
privacy_tags_type_not_null(PG_FUNCTION_ARGS)
{
	Oid			typid = PG_GETARG_OID(0);

	for (int depth = 0; depth < 64; depth++)
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		Form_pg_type typ;
		bool		notnull;
		bool		domain;

		if (!HeapTupleIsValid(tup))
			break;
		typ = (Form_pg_type) GETSTRUCT(tup);
		domain = typ->typtype == TYPTYPE_DOMAIN;
		notnull = domain && typ->typnotnull;
		typid = typ->typbasetype;
		ReleaseSysCache(tup);
		if (notnull)
			PG_RETURN_BOOL(true);
		if (!domain)
			break;
	}
	PG_RETURN_BOOL(false);
}
