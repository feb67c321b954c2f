/*
 * privacy_tag_mask.h
 *	  What a kept row gets instead of a value: the rules of mask=.
 */
#ifndef PRIVACY_TAG_MASK_H
#define PRIVACY_TAG_MASK_H

#include "postgres.h"

#include "privacy_tag.h"

/*
 * mask=hash writes this many lower-case hexadecimal digits (128 bits of the
 * keyed hash) into a text column, or the same 128 bits as a uuid.
 */
#define PT_MASK_HASH_LEN	32

extern const char *pt_mask_redact_value(Oid basetype);
extern bool pt_mask_hash_type(Oid basetype);
extern void pt_check_mask(const PrivacyTag *tag, const char *colname, Oid typid,
						  int32 typmod);

#endif							/* PRIVACY_TAG_MASK_H */
