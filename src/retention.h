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

extern void retention_init(void);
extern void retention_refresh(Oid relid, AttrNumber attnum, const char *label, bool subject);

#endif							/* PRIVACY_TAGS_RETENTION_H */
