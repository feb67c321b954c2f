/*
 * as_owner.h
 *	  Running statements as a table's owner, and internal functions as the
 *	  extension's owner.
 */
#ifndef PRIVACY_TAGS_AS_OWNER_H
#define PRIVACY_TAGS_AS_OWNER_H

#include "postgres.h"

#include "fmgr.h"
#include "executor/spi.h"
#include "utils/tuplestore.h"

extern Oid	ExtensionOwner(void);
extern void OwnerRelcacheInvalidate(Oid relid);
extern Tuplestorestate *MaterializedResult(FunctionCallInfo fcinfo, TupleDesc *tupdesc,
										  MemoryContext *cxt);
extern void RunAsOwner(Oid owner, void (*fn) (void *arg), void *arg);
extern Oid	RelationOwner(Oid relid);
extern void OwnerStatementsInit(void);
extern SPIPlanPtr OwnerPrepare(const char *sql, int nargs, Oid *argtypes);
extern SPIPlanPtr OwnerPrepareCursor(const char *sql, int nargs, Oid *argtypes,
									 int cursorOptions);
extern int	OwnerExecutePlan(SPIPlanPtr plan, const char *sql, Datum *values, const char *nulls,
							 bool read_only, long count);
extern Portal OwnerCursorOpen(SPIPlanPtr plan, const char *sql, Datum *values, const char *nulls,
							  bool read_only);
extern Datum CallInternal(const char *name, int nargs, Oid *argtypes, Datum *values,
						  const char *nulls, bool *isnull);

#endif							/* PRIVACY_TAGS_AS_OWNER_H */
