/*
 * purge.h
 *	  What purge() needs from C: the session's time zone, and the probes
 *	  that tell, per column, whether anything is expired at all.
 */
#ifndef PRIVACY_TAGS_PURGE_H
#define PRIVACY_TAGS_PURGE_H

#include "postgres.h"

extern void PurgeRelcacheInvalidate(Oid relid);

#endif							/* PRIVACY_TAGS_PURGE_H */
