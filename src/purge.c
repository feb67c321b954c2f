/*
 * purge.c
 *	  What purge() needs from C: whether the session's time zone keeps one
 *	  offset from UTC for ever (then adding days to a timestamp is exact, and
 *	  a window's cut-off is one constant).
 */
#include "postgres.h"

#include "fmgr.h"
#include "pgtime.h"

/* Whether the session's time zone has one fixed offset from UTC (UTC, Etc/GMT+3, '+02:00', ...). */
PG_FUNCTION_INFO_V1(privacy_tags_fixed_timezone);
Datum
privacy_tags_fixed_timezone(PG_FUNCTION_ARGS)
{
	long int	gmtoff;

	PG_RETURN_BOOL(session_timezone != NULL &&
				   pg_get_timezone_offset(session_timezone, &gmtoff));
}
