/*
 * privacy_tags.c
 *	  Library entry point: registers the label providers, the rename
 *	  follower and settings.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "renames.h"
#include "retention.h"
#include "tagging.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	tagging_init();
	retention_init();
	renames_init();

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
