/*-------------------------------------------------------------------------
 *
 * jsonb_write.c
 *	  Writing jsonb's binary form directly (utils/jsonb.h describes it): a
 *	  container is a header, one JEntry per child (keys first, then values,
 *	  for an object) and the children's data; numerics and containers start
 *	  on a 4-byte boundary, the padding counted in their JEntry's length;
 *	  every JB_OFFSET_STRIDE'th JEntry holds the end offset instead of the
 *	  length.  A container's data depends only on where it starts relative
 *	  to a 4-byte boundary, so one already written (a row's to_jsonb()) is
 *	  copied into another as it is: a large document is written once, not
 *	  rebuilt as a JsonbValue tree of every value (jsonb_agg() and
 *	  jsonb_build_object() do that, tens of bytes a value).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "jsonb_write.h"

/* Pad buf with zero bytes to a multiple of 4 (buf->data is MAXALIGNed). */
int
JbPad(StringInfo buf)
{
	int			pad = INTALIGN(buf->len) - buf->len;

	if (pad > 0)
	{
		static const char zeros[4] = {0, 0, 0, 0};

		appendBinaryStringInfo(buf, zeros, pad);
	}
	return pad;
}

/* Append one child's data; returns its length as its JEntry counts it. */
uint32
JbPut(StringInfo buf, const JbChild *c)
{
	uint32		pad = 0;

	if (c->type == JENTRY_ISNUMERIC || c->type == JENTRY_ISCONTAINER)
		pad = JbPad(buf);
	if (c->len > 0)
		appendBinaryStringInfo(buf, c->data, c->len);
	return pad + c->len;
}

/* The JEntry of child number index: its length, or at a stride its end. */
uint32
JbEntry(uint32 type, uint32 len, uint32 total, int index)
{
	if (index % JB_OFFSET_STRIDE == 0)
		return type | JENTRY_HAS_OFF | total;
	return type | len;
}

void
JbCheckLength(uint64 len)
{
	if (len > JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the document would exceed the maximum size of a jsonb value (%d bytes)",
						JENTRY_OFFLENMASK)));
}

/*
 * The children of container jc as they are stored: n for an array, keys
 * then values (2n) for an object.
 */
void
JbChildren(const JsonbContainer *jc, JbChild *out)
{
	int			n = JsonContainerSize(jc) * (JsonContainerIsObject(jc) ? 2 : 1);
	const char *base = (const char *) &jc->children[n];

	for (int i = 0; i < n; i++)
	{
		uint32		type = jc->children[i] & JENTRY_TYPEMASK;
		uint32		off = getJsonbOffset(jc, i);
		uint32		len = getJsonbLength(jc, i);

		if (type == JENTRY_ISNUMERIC || type == JENTRY_ISCONTAINER)
		{
			len -= INTALIGN(off) - off;
			off = INTALIGN(off);
		}
		out[i].type = type;
		out[i].data = base + off;
		out[i].len = len;
	}
}

/* jsonb's order of keys: shorter first, then bytewise (lengthCompareJsonbString). */
int
JbCompareKeys(const void *a, const void *b)
{
	const JbChild *x = a;
	const JbChild *y = b;

	if (x->len != y->len)
		return x->len > y->len ? 1 : -1;
	return memcmp(x->data, y->data, x->len);
}
