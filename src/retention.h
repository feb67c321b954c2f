/*
 * retention.h
 *	  Retention windows: the row trigger and its settings.
 */
#ifndef PRIVACY_TAGS_RETENTION_H
#define PRIVACY_TAGS_RETENTION_H

#include "postgres.h"

typedef enum PtExpiredWrites
{
	PT_EXPIRED_REFUSE,
	PT_EXPIRED_APPLY
} PtExpiredWrites;

extern int	pt_expired_writes;
extern bool pt_purging;

/*
 * While a purge or erasure statement of the extension runs (privacy_tags.
 * purging on, inside _owner_exec/_owner_query): the tables it may write,
 * the statement's table and what its foreign keys cascade into (tree
 * roots).  The trigger skips its checks there only.
 */
extern List *pt_purge_targets;
extern bool pt_in_own_statement;

extern void retention_init(void);
extern void RetentionRelcacheInvalidate(Oid relid);
extern void retention_refresh(Oid relid, AttrNumber attnum, const char *label, bool subject);

#endif							/* PRIVACY_TAGS_RETENTION_H */
