/*
 * citus.h
 *	  What privacy_tags does differently when Citus is loaded (citus.c).
 */
#ifndef PT_CITUS_H
#define PT_CITUS_H

#include "utils/relcache.h"

extern void citus_init(void);
extern void PtCitusRelcacheInvalidate(Oid relid);
extern bool PtCitusLoaded(void);
extern bool PtCitusTable(Oid relid);
extern bool PtCitusPropagatedCommand(void);
extern void PtCitusPurgingOnWorkers(void);
extern void PtCitusSetOnWorkers(const char *name, const char *value);
extern const char *PtMessageRelationName(Relation rel, const char *tgname);

#endif							/* PT_CITUS_H */
