/*
 * discover.c
 *	  SQL wrapper of the value recognisers used by discover().
 */
#include "postgres.h"

#if PG_VERSION_NUM >= 160000
#include "varatt.h"				/* VARSIZE and friends: in postgres.h before 16 */
#endif

#include "fmgr.h"
#include "utils/builtins.h"

#include "value_match.h"

/* value_kind(text): what the value looks like (pt_value_kind_names) or NULL. */
PG_FUNCTION_INFO_V1(privacy_tags_value_kind);
Datum
privacy_tags_value_kind(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	PtValueKind k = pt_value_kind(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));

	if (k == PT_VALUE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pt_value_kind_names[k]));
}
