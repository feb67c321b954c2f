/*-------------------------------------------------------------------------
 *
 * jsonb_write.h
 *	  Writing jsonb's binary form directly: containers whose children are
 *	  bytes already in that form (rows of a table's statement, parts of
 *	  another document), without building a JsonbValue tree of them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PRIVACY_TAGS_JSONB_WRITE_H
#define PRIVACY_TAGS_JSONB_WRITE_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* One child of a container: its JEntry type and its bytes. */
typedef struct JbChild
{
	uint32		type;			/* JENTRY_ISSTRING, JENTRY_ISCONTAINER, ... */
	const char *data;			/* string bytes, a numeric, a JsonbContainer */
	uint32		len;			/* bytes of data, no padding */
} JbChild;

extern int	JbPad(StringInfo buf);
extern uint32 JbPut(StringInfo buf, const JbChild *c);
extern void JbChildren(const JsonbContainer *jc, JbChild *out);
extern int	JbCompareKeys(const void *a, const void *b);
extern uint32 JbEntry(uint32 type, uint32 len, uint32 total, int index);
extern void JbCheckLength(uint64 len);

#endif
