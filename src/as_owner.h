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
extern Tuplestorestate *MaterializedResult(FunctionCallInfo fcinfo, TupleDesc *tupdesc,
										  MemoryContext *cxt);
extern Datum OwnerPlanValue(Oid relid, SPIPlanPtr *planp, const char *sql, int nargs, Oid *argtypes,
							Datum *values, const char *nulls, bool *isnull);
extern Datum CallInternal(const char *name, int nargs, Oid *argtypes, Datum *values,
						  const char *nulls, bool *isnull);

#endif							/* PRIVACY_TAGS_AS_OWNER_H */
