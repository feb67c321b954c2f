/*
 * privacy_tag_parse.h
 *	  Parser and formatter for the text form of privacy_tag.
 *
 * This part of the extension is plain C with no server dependency, so that
 * the parser of untrusted text can be compiled on its own into a fuzz target
 * (see fuzz/).  The server side (privacy_tag_io.c) wraps it.
 */
#ifndef PRIVACY_TAG_PARSE_H
#define PRIVACY_TAG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_MAX_LEVELS		16		/* levels of a category path */
#define PT_MAX_CATEGORY		255		/* bytes of a category path */
#define PT_MAX_IDENT		63		/* bytes of a purpose or column name */
#define PT_MAX_PURPOSES		32		/* purposes in one tag */
#define PT_MAX_MASK			255		/* bytes of a mask literal, unquoted */
/* longest purpose list: 32 names of 63 bytes and 31 commas */
#define PT_MAX_PURPOSE_LIST (PT_MAX_PURPOSES * (PT_MAX_IDENT + 1))

#define PT_USECS_PER_SEC	INT64_C(1000000)
#define PT_USECS_PER_MINUTE (INT64_C(60) * PT_USECS_PER_SEC)
#define PT_USECS_PER_HOUR	(INT64_C(60) * PT_USECS_PER_MINUTE)

/* Legal bases, GDPR Art. 6(1)(a)-(f); 0 means "not stated". */
typedef enum PtBasis
{
	PT_BASIS_NONE = 0,
	PT_BASIS_CONSENT,
	PT_BASIS_CONTRACT,
	PT_BASIS_LEGAL_OBLIGATION,
	PT_BASIS_VITAL_INTERESTS,
	PT_BASIS_PUBLIC_TASK,
	PT_BASIS_LEGITIMATE_INTERESTS
} PtBasis;
#define PT_BASIS_COUNT 7

/* Conditions for special categories, GDPR Art. 9(2)(a)-(j); 0 = none. */
typedef enum PtSpecial
{
	PT_SPECIAL_NONE = 0,
	PT_SPECIAL_EXPLICIT_CONSENT,
	PT_SPECIAL_EMPLOYMENT,
	PT_SPECIAL_VITAL_INTERESTS,
	PT_SPECIAL_NONPROFIT,
	PT_SPECIAL_MADE_PUBLIC,
	PT_SPECIAL_LEGAL_CLAIMS,
	PT_SPECIAL_SUBSTANTIAL_PUBLIC_INTEREST,
	PT_SPECIAL_HEALTH_CARE,
	PT_SPECIAL_PUBLIC_HEALTH,
	PT_SPECIAL_ARCHIVING_RESEARCH
} PtSpecial;
#define PT_SPECIAL_COUNT 11

/* What happens when a retention window has passed; 0 = no window. */
typedef enum PtAction
{
	PT_ACTION_NONE = 0,
	PT_ACTION_DELETE,
	PT_ACTION_NULLIFY
} PtAction;
#define PT_ACTION_COUNT 3

/*
 * What a kept row gets instead of the value when it is erased or expires
 * with nullify; 0 (NULL) is the default and is not written out.
 */
typedef enum PtMask
{
	PT_MASK_NULL = 0,
	PT_MASK_REDACT,				/* a fixed value of the column's type */
	PT_MASK_HASH,				/* a keyed hash of the value: a pseudonym */
	PT_MASK_LITERAL				/* the quoted literal of the tag */
} PtMask;
#define PT_MASK_COUNT 4

extern const char *const pt_basis_names[PT_BASIS_COUNT];
extern const char *const pt_special_names[PT_SPECIAL_COUNT];
extern const char *const pt_action_names[PT_ACTION_COUNT];
/* "null", "redact", "hash"; NULL for PT_MASK_LITERAL */
extern const char *const pt_mask_names[PT_MASK_COUNT];

/* A parsed tag: every string canonical (lower case, purposes sorted). */
typedef struct PtParsed
{
	char		category[PT_MAX_CATEGORY + 1];
	int			category_len;
	int			levels;
	uint8_t		basis;			/* PtBasis */
	uint8_t		special;		/* PtSpecial */
	uint8_t		action;			/* PtAction; DELETE by default with retain */
	bool		has_retain;
	int32_t		months;			/* retention window, as in an Interval */
	int32_t		days;
	int64_t		usecs;
	char		anchor[PT_MAX_IDENT + 1];	/* anchor column, "" if none */
	int			anchor_len;
	int			npurposes;
	char		purposes[PT_MAX_PURPOSES][PT_MAX_IDENT + 1];
	uint8_t		mask;			/* PtMask; PT_MASK_NULL by default */
	int			mask_len;		/* bytes of mask_literal, 0 unless LITERAL */
	char		mask_literal[PT_MAX_MASK + 1];	/* unquoted, no NUL inside */
} PtParsed;

/* Where and why parsing failed. */
typedef struct PtError
{
	int			position;		/* 1-based character position */
	char		detail[160];	/* a full sentence naming the problem */
	const char *hint;			/* a full sentence, or NULL */
} PtError;

/*
 * Parse len bytes of text.  Returns true on success; on failure fills *err
 * and returns false.  Never reads past len, never allocates.
 */
extern bool pt_parse(const char *input, size_t len, PtParsed *out, PtError *err);

/*
 * Parse a category path alone (as accepted by the <@ operator and the
 * taxonomy).  Returns the path length, or -1 when it is not a valid path.
 */
extern int	pt_parse_category(const char *input, size_t len, char *out, PtError *err);

/* Write the canonical interval text ("1 year 6 months") into buf. */
extern size_t pt_format_interval(int32_t months, int32_t days, int64_t usecs,
								 char *buf, size_t bufsize);

/* Write an identifier, double-quoted where needed, into buf. */
extern size_t pt_format_ident(const char *name, char *buf, size_t bufsize);

/*
 * Write the canonical value of a mask clause (null, redact, hash, or the
 * literal in single quotes, '' for a quote) into buf; returns the length
 * needed.
 */
extern size_t pt_format_mask(uint8_t mask, const char *literal, size_t len,
							 char *buf, size_t bufsize);

/* Longest canonical mask value: every byte a quote, doubled, and the quotes. */
#define PT_MAX_MASK_TEXT	(2 * PT_MAX_MASK + 2)

/* Write the canonical text of a tag into buf; returns the length needed. */
extern size_t pt_format(const PtParsed *tag, char *buf, size_t bufsize);

/* A subject-key label: "<subject type> [; collected_at=<column>]". */
typedef struct PtSubject
{
	char		type[PT_MAX_IDENT + 1];
	char		collected_at[PT_MAX_IDENT + 1];	/* "" if none */
} PtSubject;

extern bool pt_parse_subject(const char *input, size_t len, PtSubject *out,
							 PtError *err);

/* Upper bound of pt_format's output for any tag, with its NUL. */
#define PT_MAX_TEXT 4096

#endif							/* PRIVACY_TAG_PARSE_H */
