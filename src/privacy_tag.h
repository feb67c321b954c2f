/*
 * privacy_tag.h
 *	  The on-disk form of the privacy_tag type and helpers shared by the
 *	  extension's C files.
 */
#ifndef PRIVACY_TAG_H
#define PRIVACY_TAG_H

#include "postgres.h"

#include "fmgr.h"

#include "privacy_tag_parse.h"

/*
 * On-disk layout (alignment double, so the int64 is aligned):
 *
 *	header, then data[]: category NUL, anchor NUL, purposes "a,b" NUL
 *	version 2 only:		 mask kind (one byte), mask literal NUL
 *
 * Every byte is determined by the tag's value (canonical strings, zeroed
 * padding), so equality is a memcmp and hashing hashes the bytes.  The
 * version byte lets a later release change the layout and still read
 * values written by this one (pg_upgrade keeps the bytes as they are).
 *
 * Version 1 (1.0 and 1.1) has no mask.  Version 2 (1.2) adds it, and is
 * written only for a tag whose mask is not null: a tag without a mask keeps
 * the bytes 1.x wrote, so the version too is determined by the value (a
 * tag with a mask is never equal to one without), and values 1.x stored
 * compare, hash and index as they did.  Both versions are read.
 */
#define PRIVACY_TAG_DISK_VERSION_1	1	/* no mask */
#define PRIVACY_TAG_DISK_VERSION	2	/* with a mask trailer */
/* binary send/recv: a version byte, then the canonical text; 2 with a mask */
#define PRIVACY_TAG_SEND_VERSION_1	1
#define PRIVACY_TAG_SEND_VERSION	2

typedef struct PrivacyTag
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	uint8		version;		/* PRIVACY_TAG_DISK_VERSION */
	uint8		basis;			/* PtBasis */
	uint8		special;		/* PtSpecial */
	uint8		action;			/* PtAction */
	uint8		levels;			/* levels of the category path */
	uint8		npurposes;
	uint8		category_len;	/* bytes, at most 255 */
	uint8		anchor_len;		/* bytes, 0 when there is no anchor */
	uint16		purposes_len;	/* bytes of the comma-joined list */
	uint16		flags;			/* PT_FLAG_* */
	int32		months;			/* retention window */
	int32		days;
	int64		usecs;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} PrivacyTag;

#define PT_FLAG_RETAIN	0x0001

#define PT_CATEGORY(t)	((t)->data)
#define PT_ANCHOR(t)	((t)->data + (t)->category_len + 1)
#define PT_PURPOSES(t)	((t)->data + (t)->category_len + 1 + (t)->anchor_len + 1)
#define PT_HAS_RETAIN(t) (((t)->flags & PT_FLAG_RETAIN) != 0)
/* the mask trailer of version 2: kind byte, then the literal and its NUL */
#define PT_MASK_DATA(t) (PT_PURPOSES(t) + (t)->purposes_len + 1)
#define PT_MASK_KIND(t) \
	((t)->version >= PRIVACY_TAG_DISK_VERSION ? (uint8) PT_MASK_DATA(t)[0] : PT_MASK_NULL)
#define PT_MASK_LITERAL(t) \
	((t)->version >= PRIVACY_TAG_DISK_VERSION ? PT_MASK_DATA(t) + 1 : "")

#define DatumGetPrivacyTagP(X)	((PrivacyTag *) PG_DETOAST_DATUM(X))
#define PG_GETARG_PRIVACY_TAG_P(n)	DatumGetPrivacyTagP(PG_GETARG_DATUM(n))
#define PG_RETURN_PRIVACY_TAG_P(x)	PG_RETURN_POINTER(x)

/* privacy_tag_io.c */
#define PT_MAX_ECHO 200			/* bytes of user input quoted by a message */
extern const char *pt_echo(const char *str);
extern PrivacyTag *privacy_tag_from_parsed(const PtParsed *p);
extern char *privacy_tag_to_cstring(const PrivacyTag *tag);
extern void privacy_tag_check_version(const PrivacyTag *tag);
extern PrivacyTag *privacy_tag_parse_or_error(const char *str);

/* privacy_tag_ops.c */
extern bool privacy_tag_category_within(const char *cat, int catlen,
										const char *path, int pathlen);

#endif							/* PRIVACY_TAG_H */
