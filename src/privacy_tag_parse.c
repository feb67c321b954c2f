/*
 * privacy_tag_parse.c
 *	  Parser and formatter for the text form of privacy_tag.
 *
 * Grammar (keys and keywords case-insensitive, blanks allowed between
 * tokens):
 *
 *	 tag      := category { ';' clause }
 *	 category := ident { '.' ident }		 ident := [a-z][a-z0-9_]*
 *	 clause   := 'basis' '=' word | 'special' '=' word
 *			   | 'purpose' '=' ident { ',' ident }
 *			   | 'retain' '=' quantity unit { quantity unit } [ 'after' column ]
 *			   | 'on_expiry' '=' ( 'delete' | 'nullify' )
 *			   | 'mask' '=' ( 'null' | 'redact' | 'hash' | literal )
 *	 column   := SQL identifier, double-quoted where needed
 *	 literal  := SQL string constant: single quotes, '' for a quote inside,
 *				 any bytes but NUL, at most 255 bytes unquoted
 *
 * Everything here is plain C: no palloc, no ereport.  The caller turns a
 * PtError into an ereport (server) or ignores it (fuzz target).
 */
#include "privacy_tag_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pt_basis_names[PT_BASIS_COUNT] = {
	NULL, "consent", "contract", "legal_obligation", "vital_interests",
	"public_task", "legitimate_interests"
};

const char *const pt_special_names[PT_SPECIAL_COUNT] = {
	NULL, "explicit_consent", "employment", "vital_interests", "nonprofit",
	"made_public", "legal_claims", "substantial_public_interest",
	"health_care", "public_health", "archiving_research"
};

const char *const pt_action_names[PT_ACTION_COUNT] = {
	NULL, "delete", "nullify"
};

const char *const pt_mask_names[PT_MASK_COUNT] = {
	"null", "redact", "hash", NULL
};

/* Interval units accepted after a quantity, with their scale. */
typedef enum PtUnitKind
{
	PT_UNIT_MONTHS,
	PT_UNIT_DAYS,
	PT_UNIT_USECS
} PtUnitKind;

typedef struct PtUnit
{
	const char *name;
	PtUnitKind	kind;
	int64_t		scale;
	int			slot;			/* for "given twice": year, month, ... */
} PtUnit;

static const PtUnit pt_units[] = {
	{"year", PT_UNIT_MONTHS, 12, 0}, {"years", PT_UNIT_MONTHS, 12, 0},
	{"yr", PT_UNIT_MONTHS, 12, 0}, {"yrs", PT_UNIT_MONTHS, 12, 0},
	{"y", PT_UNIT_MONTHS, 12, 0},
	{"month", PT_UNIT_MONTHS, 1, 1}, {"months", PT_UNIT_MONTHS, 1, 1},
	{"mon", PT_UNIT_MONTHS, 1, 1}, {"mons", PT_UNIT_MONTHS, 1, 1},
	{"week", PT_UNIT_DAYS, 7, 2}, {"weeks", PT_UNIT_DAYS, 7, 2},
	{"w", PT_UNIT_DAYS, 7, 2},
	{"day", PT_UNIT_DAYS, 1, 3}, {"days", PT_UNIT_DAYS, 1, 3},
	{"d", PT_UNIT_DAYS, 1, 3},
	{"hour", PT_UNIT_USECS, PT_USECS_PER_HOUR, 4},
	{"hours", PT_UNIT_USECS, PT_USECS_PER_HOUR, 4},
	{"hr", PT_UNIT_USECS, PT_USECS_PER_HOUR, 4},
	{"hrs", PT_UNIT_USECS, PT_USECS_PER_HOUR, 4},
	{"h", PT_UNIT_USECS, PT_USECS_PER_HOUR, 4},
	{"minute", PT_UNIT_USECS, PT_USECS_PER_MINUTE, 5},
	{"minutes", PT_UNIT_USECS, PT_USECS_PER_MINUTE, 5},
	{"min", PT_UNIT_USECS, PT_USECS_PER_MINUTE, 5},
	{"mins", PT_UNIT_USECS, PT_USECS_PER_MINUTE, 5},
	{"second", PT_UNIT_USECS, PT_USECS_PER_SEC, 6},
	{"seconds", PT_UNIT_USECS, PT_USECS_PER_SEC, 6},
	{"sec", PT_UNIT_USECS, PT_USECS_PER_SEC, 6},
	{"secs", PT_UNIT_USECS, PT_USECS_PER_SEC, 6},
	{"s", PT_UNIT_USECS, PT_USECS_PER_SEC, 6},
};
#define PT_UNIT_SLOTS 7

/* Keys of a clause, in canonical output order. */
enum
{
	KEY_BASIS,
	KEY_SPECIAL,
	KEY_PURPOSE,
	KEY_RETAIN,
	KEY_ON_EXPIRY,
	KEY_MASK,
	KEY_COUNT
};
static const char *const pt_key_names[KEY_COUNT] = {
	"basis", "special", "purpose", "retain", "on_expiry", "mask"
};

/* The state of one parse. */
typedef struct PtScan
{
	const char *s;
	size_t		len;
	size_t		pos;
	PtError    *err;
} PtScan;

static const char *const hint_grammar =
"A tag reads: <category> [; basis=<basis>] [; special=<condition>] "
"[; purpose=<name>[,<name>...]] [; retain=<interval> [after <column>]] "
"[; on_expiry=delete|nullify] [; mask=null|redact|hash|'<literal>'].";

static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline char
to_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char) (c + ('a' - 'A')) : c;
}

/* 1-based character position of byte offset off (UTF-8 aware). */
static int
char_position(const char *s, size_t off)
{
	int			n = 1;

	for (size_t i = 0; i < off; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* Record an error at byte offset off; always returns false. */
static bool
fail_at(PtScan *sc, size_t off, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool
fail_at(PtScan *sc, size_t off, const char *hint, const char *fmt, ...)
{
	va_list		ap;
	int			n;
	char		what[120];

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (what[0] >= 'a' && what[0] <= 'z')
		what[0] = (char) (what[0] - ('a' - 'A'));
	sc->err->position = char_position(sc->s, off);
	n = snprintf(sc->err->detail, sizeof(sc->err->detail), "%s at position %d.",
				 what, sc->err->position);
	(void) n;
	sc->err->hint = hint;
	return false;
}

/*
 * Describe the character at the current position for an error message:
 * "end of input", or the character itself (a whole UTF-8 sequence).
 */
static void
describe_char(PtScan *sc, size_t off, char *buf, size_t bufsize)
{
	unsigned char c;
	size_t		n = 1;

	if (off >= sc->len)
	{
		snprintf(buf, bufsize, "end of input");
		return;
	}
	c = (unsigned char) sc->s[off];
	if (c < 0x20 || c == 0x7F)
	{
		snprintf(buf, bufsize, "control character 0x%02X", c);
		return;
	}
	if (c >= 0xC0)
		while (off + n < sc->len && n < 4 &&
			   ((unsigned char) sc->s[off + n] & 0xC0) == 0x80)
			n++;
	snprintf(buf, bufsize, "\"%.*s\"", (int) n, sc->s + off);
}

static void
skip_blanks(PtScan *sc)
{
	while (sc->pos < sc->len && is_blank(sc->s[sc->pos]))
		sc->pos++;
}

static inline bool
at_end(PtScan *sc)
{
	return sc->pos >= sc->len;
}

/*
 * Read one identifier [a-z][a-z0-9_]* (case-folded) into out (room for
 * PT_MAX_IDENT+1 or maxlen+1 bytes).  what names it in errors.
 */
static bool
scan_ident(PtScan *sc, char *out, size_t maxlen, int *outlen, const char *what)
{
	size_t		start = sc->pos;
	size_t		n = 0;
	char		ch[24];

	if (at_end(sc) || !is_alpha(sc->s[sc->pos]))
	{
		describe_char(sc, sc->pos, ch, sizeof(ch));
		if (!at_end(sc) && (is_digit(sc->s[sc->pos]) || sc->s[sc->pos] == '_'))
			return fail_at(sc, sc->pos, "Names start with a letter a-z.",
						   "%s must start with a letter, found %s", what, ch);
		return fail_at(sc, sc->pos, NULL, "expected %s, found %s", what, ch);
	}
	while (!at_end(sc))
	{
		char		c = sc->s[sc->pos];

		if (!(is_alpha(c) || is_digit(c) || c == '_'))
			break;
		if (n >= maxlen)
			return fail_at(sc, start, NULL, "%s is longer than %d bytes",
						   what, (int) maxlen);
		out[n++] = to_lower(c);
		sc->pos++;
	}
	out[n] = '\0';
	*outlen = (int) n;
	return true;
}

/* Read a bare word of letters, digits and '_' (for keys and enum values). */
static size_t
scan_word(PtScan *sc, char *out, size_t outsize)
{
	size_t		n = 0;

	while (!at_end(sc))
	{
		char		c = sc->s[sc->pos];

		if (!(is_alpha(c) || is_digit(c) || c == '_'))
			break;
		if (n + 1 < outsize)
			out[n] = to_lower(c);
		n++;
		sc->pos++;
	}
	out[n < outsize ? n : outsize - 1] = '\0';
	return n;
}

/* Category path: ident { '.' ident }, at most 16 levels and 255 bytes. */
static bool
scan_category(PtScan *sc, PtParsed *out)
{
	size_t		start = sc->pos;
	int			n = 0;
	int			levels = 0;
	char		ch[24];

	for (;;)
	{
		char		level[PT_MAX_CATEGORY + 1];
		int			llen;

		if (!scan_ident(sc, level, PT_MAX_CATEGORY, &llen,
						levels == 0 ? "a category" : "a category level"))
			return false;
		if (++levels > PT_MAX_LEVELS)
			return fail_at(sc, start, "Use a shorter category path.",
						   "category has more than %d levels", PT_MAX_LEVELS);
		if (n + (levels > 1) + llen > PT_MAX_CATEGORY)
			return fail_at(sc, start, "Use a shorter category path.",
						   "category is longer than %d bytes", PT_MAX_CATEGORY);
		if (levels > 1)
			out->category[n++] = '.';
		memcpy(out->category + n, level, llen);
		n += llen;
		if (at_end(sc) || sc->s[sc->pos] != '.')
			break;
		sc->pos++;
	}
	out->category[n] = '\0';
	out->category_len = n;
	out->levels = levels;

	if (!at_end(sc) && !is_blank(sc->s[sc->pos]) && sc->s[sc->pos] != ';')
	{
		describe_char(sc, sc->pos, ch, sizeof(ch));
		return fail_at(sc, sc->pos,
					   "Category levels are made of letters a-z, digits and \"_\", separated by \".\".",
					   "unexpected %s in category", ch);
	}
	return true;
}

/* Look word up in a NULL-first table of names; returns index or 0. */
static int
lookup_name(const char *const *names, int count, const char *word)
{
	for (int i = 1; i < count; i++)
		if (strcmp(names[i], word) == 0)
			return i;
	return 0;
}

static bool
scan_enum(PtScan *sc, const char *const *names, int count, const char *what,
		  const char *hint, uint8_t *out)
{
	size_t		start = sc->pos;
	char		word[64];
	size_t		n = scan_word(sc, word, sizeof(word));
	int			v;

	if (n == 0)
	{
		char		ch[24];

		describe_char(sc, sc->pos, ch, sizeof(ch));
		return fail_at(sc, start, hint, "expected %s, found %s", what, ch);
	}
	v = (n < sizeof(word)) ? lookup_name(names, count, word) : 0;
	if (v == 0)
		return fail_at(sc, start, hint, "unknown %s \"%.40s%s\"", what, word,
					   n > 40 ? "..." : "");
	*out = (uint8_t) v;
	return true;
}

static int
cmp_purpose(const void *a, const void *b)
{
	return strcmp((const char *) a, (const char *) b);
}

/* purpose=ident{,ident}: sorted, no duplicates. */
static bool
scan_purposes(PtScan *sc, PtParsed *out)
{
	for (;;)
	{
		size_t		start = sc->pos;
		int			len;

		if (out->npurposes >= PT_MAX_PURPOSES)
			return fail_at(sc, start, NULL, "more than %d purposes",
						   PT_MAX_PURPOSES);
		if (!scan_ident(sc, out->purposes[out->npurposes], PT_MAX_IDENT, &len,
						"a purpose"))
			return false;
		for (int i = 0; i < out->npurposes; i++)
			if (strcmp(out->purposes[i], out->purposes[out->npurposes]) == 0)
				return fail_at(sc, start, "List each purpose once.",
							   "purpose \"%s\" is listed twice",
							   out->purposes[i]);
		out->npurposes++;
		skip_blanks(sc);
		if (at_end(sc) || sc->s[sc->pos] != ',')
			break;
		sc->pos++;
		skip_blanks(sc);
	}
	qsort(out->purposes, out->npurposes, sizeof(out->purposes[0]), cmp_purpose);
	return true;
}

/* A column name: "quoted" (with "" for a quote) or a plain SQL identifier. */
static bool
scan_column(PtScan *sc, PtParsed *out)
{
	size_t		start = sc->pos;
	int			n = 0;
	char		ch[24];

	if (!at_end(sc) && sc->s[sc->pos] == '"')
	{
		sc->pos++;
		for (;;)
		{
			char		c;

			if (at_end(sc))
				return fail_at(sc, start, "Close the quoted column name with \".",
							   "unterminated quoted column name");
			c = sc->s[sc->pos];
			if (c == '"')
			{
				if (sc->pos + 1 < sc->len && sc->s[sc->pos + 1] == '"')
					sc->pos++;
				else
				{
					sc->pos++;
					break;
				}
			}
			else if (c == '\0')
				return fail_at(sc, sc->pos, NULL,
							   "zero byte in quoted column name");
			if (n >= PT_MAX_IDENT)
				return fail_at(sc, start, NULL,
							   "column name is longer than %d bytes", PT_MAX_IDENT);
			out->anchor[n++] = c;
			sc->pos++;
		}
		if (n == 0)
			return fail_at(sc, start, NULL, "empty quoted column name");
	}
	else
	{
		unsigned char c0 = at_end(sc) ? 0 : (unsigned char) sc->s[sc->pos];

		if (!(is_alpha((char) c0) || c0 == '_' || c0 >= 0x80))
		{
			describe_char(sc, sc->pos, ch, sizeof(ch));
			return fail_at(sc, sc->pos,
						   "Name the date or timestamp column the window counts from, e.g. retain=3 years after last_contact_at.",
						   "expected a column name after \"after\", found %s", ch);
		}
		while (!at_end(sc))
		{
			unsigned char c = (unsigned char) sc->s[sc->pos];

			if (!(is_alpha((char) c) || is_digit((char) c) || c == '_' ||
				  c == '$' || c >= 0x80))
				break;
			if (n >= PT_MAX_IDENT)
				return fail_at(sc, start, NULL,
							   "column name is longer than %d bytes", PT_MAX_IDENT);
			out->anchor[n++] = to_lower((char) c);
			sc->pos++;
		}
	}
	out->anchor[n] = '\0';
	out->anchor_len = n;
	return true;
}

/*
 * mask=null|redact|hash|'<literal>': the kind case-insensitive, the literal
 * an SQL string constant ('' for a quote), kept unquoted.
 */
static bool
scan_mask(PtScan *sc, PtParsed *out)
{
	size_t		start = sc->pos;
	static const char *hint_mask =
	"Masks are null, redact, hash, or a literal in single quotes, e.g. mask='n/a'.";

	if (!at_end(sc) && sc->s[sc->pos] == '\'')
	{
		int			n = 0;

		sc->pos++;
		for (;;)
		{
			char		c;

			if (at_end(sc))
				return fail_at(sc, start,
							   "Close the literal with a single quote; write '' for a quote inside it.",
							   "unterminated mask literal");
			c = sc->s[sc->pos];
			if (c == '\'')
			{
				if (sc->pos + 1 < sc->len && sc->s[sc->pos + 1] == '\'')
					sc->pos++;
				else
				{
					sc->pos++;
					break;
				}
			}
			else if (c == '\0')
				return fail_at(sc, sc->pos, NULL, "zero byte in mask literal");
			if (n >= PT_MAX_MASK)
				return fail_at(sc, start, "Use a shorter literal.",
							   "mask literal is longer than %d bytes", PT_MAX_MASK);
			out->mask_literal[n++] = c;
			sc->pos++;
		}
		out->mask_literal[n] = '\0';
		out->mask_len = n;
		out->mask = PT_MASK_LITERAL;
		return true;
	}
	else
	{
		char		word[16];
		size_t		n = scan_word(sc, word, sizeof(word));
		char		ch[24];

		if (n == 0)
		{
			describe_char(sc, sc->pos, ch, sizeof(ch));
			return fail_at(sc, start, hint_mask, "expected a mask, found %s", ch);
		}
		if (n < sizeof(word))
			for (int i = 0; i < PT_MASK_COUNT; i++)
				if (pt_mask_names[i] != NULL && strcmp(pt_mask_names[i], word) == 0)
				{
					out->mask = (uint8_t) i;
					return true;
				}
		return fail_at(sc, start, hint_mask, "unknown mask kind \"%.15s%s\"",
					   word, n >= sizeof(word) ? "..." : "");
	}
}

/* retain=<quantity unit>... [after column] */
static bool
scan_retain(PtScan *sc, PtParsed *out)
{
	size_t		start = sc->pos;
	bool		seen[PT_UNIT_SLOTS] = {false};
	int64_t		months = 0,
				days = 0,
				usecs = 0;
	int			nparts = 0;
	static const char *hint_interval =
	"Write the window as quantities with units, e.g. retain=3 years, retain=18 months, retain=30 days.";

	for (;;)
	{
		size_t		qstart = sc->pos;
		int64_t		q = 0;
		char		word[16];
		size_t		ustart,
					n;
		const PtUnit *unit = NULL;
		char		ch[24];

		skip_blanks(sc);
		qstart = sc->pos;
		if (at_end(sc) || sc->s[sc->pos] == ';')
		{
			if (nparts == 0)
				return fail_at(sc, qstart, hint_interval,
							   "expected a retention interval, found %s",
							   at_end(sc) ? "end of input" : "\";\"");
			break;
		}
		if (!is_digit(sc->s[sc->pos]))
		{
			if (nparts > 0)
			{
				/* "after" ends the interval */
				size_t		save = sc->pos;

				n = scan_word(sc, word, sizeof(word));
				if (n == 5 && strcmp(word, "after") == 0)
				{
					if (at_end(sc) || !(is_blank(sc->s[sc->pos]) || sc->s[sc->pos] == '"'))
					{
						describe_char(sc, sc->pos, ch, sizeof(ch));
						return fail_at(sc, sc->pos, NULL,
									   "expected a column name after \"after\", found %s", ch);
					}
					skip_blanks(sc);
					if (!scan_column(sc, out))
						return false;
					break;
				}
				sc->pos = save;
			}
			describe_char(sc, sc->pos, ch, sizeof(ch));
			if (sc->s[sc->pos] == '-')
				return fail_at(sc, sc->pos, "The retention window must be positive.",
							   "negative quantity in retention interval");
			return fail_at(sc, sc->pos, hint_interval,
						   nparts == 0 ? "expected a number in retention interval, found %s"
						   : "expected a number or \"after\" in retention interval, found %s",
						   ch);
		}
		while (!at_end(sc) && is_digit(sc->s[sc->pos]))
		{
			q = q * 10 + (sc->s[sc->pos] - '0');
			if (q > INT32_MAX)
				return fail_at(sc, qstart, NULL,
							   "quantity is out of range in retention interval");
			sc->pos++;
		}
		if (!at_end(sc) && sc->s[sc->pos] == '.')
			return fail_at(sc, sc->pos, hint_interval,
						   "fractional quantity in retention interval");
		skip_blanks(sc);
		ustart = sc->pos;
		n = scan_word(sc, word, sizeof(word));
		if (n == 0)
		{
			describe_char(sc, sc->pos, ch, sizeof(ch));
			return fail_at(sc, ustart, hint_interval,
						   "expected a unit after %lld, found %s", (long long) q, ch);
		}
		if (n < sizeof(word))
			for (size_t i = 0; i < sizeof(pt_units) / sizeof(pt_units[0]); i++)
				if (strcmp(pt_units[i].name, word) == 0)
				{
					unit = &pt_units[i];
					break;
				}
		if (unit == NULL)
			return fail_at(sc, ustart,
						   "Units are years, months, weeks, days, hours, minutes and seconds.",
						   "unknown unit \"%.15s%s\" in retention interval",
						   word, n >= sizeof(word) ? "..." : "");
		if (seen[unit->slot])
			return fail_at(sc, ustart, hint_interval,
						   "unit \"%s\" is given twice in retention interval", word);
		seen[unit->slot] = true;
		switch (unit->kind)
		{
			case PT_UNIT_MONTHS:
				months += q * unit->scale;
				break;
			case PT_UNIT_DAYS:
				days += q * unit->scale;
				break;
			case PT_UNIT_USECS:
				usecs += q * unit->scale;
				break;
		}
		/* hours too: pt_format writes usecs as whole hours, minutes, seconds */
		if (months > INT32_MAX || days > INT32_MAX ||
			usecs / PT_USECS_PER_HOUR > INT32_MAX)
			return fail_at(sc, qstart, NULL,
						   "retention interval is out of range");
		nparts++;
		if (!at_end(sc) && !is_blank(sc->s[sc->pos]) && sc->s[sc->pos] != ';')
		{
			describe_char(sc, sc->pos, ch, sizeof(ch));
			return fail_at(sc, sc->pos, hint_interval,
						   "unexpected %s in retention interval", ch);
		}
	}
	if (months == 0 && days == 0 && usecs == 0)
		return fail_at(sc, start, "The retention window must be positive.",
					   "retention interval is zero");
	out->has_retain = true;
	out->months = (int32_t) months;
	out->days = (int32_t) days;
	out->usecs = usecs;
	return true;
}

bool
pt_parse(const char *input, size_t len, PtParsed *out, PtError *err)
{
	PtScan		sc = {input, len, 0, err};
	bool		seen[KEY_COUNT] = {false};
	size_t		expiry_pos = 0;

	memset(out, 0, sizeof(*out));
	err->position = 0;
	err->detail[0] = '\0';
	err->hint = NULL;

	skip_blanks(&sc);
	if (at_end(&sc))
		return fail_at(&sc, sc.pos, hint_grammar, "empty tag");
	if (!scan_category(&sc, out))
		return false;
	skip_blanks(&sc);

	while (!at_end(&sc))
	{
		char		key[24];
		size_t		kstart;
		size_t		n;
		int			k;
		char		ch[24];

		if (sc.s[sc.pos] != ';')
		{
			describe_char(&sc, sc.pos, ch, sizeof(ch));
			return fail_at(&sc, sc.pos, hint_grammar,
						   "expected \";\", found %s", ch);
		}
		sc.pos++;
		skip_blanks(&sc);
		kstart = sc.pos;
		if (at_end(&sc) || sc.s[sc.pos] == ';')
			return fail_at(&sc, kstart, hint_grammar, "empty clause");
		n = scan_word(&sc, key, sizeof(key));
		if (n == 0)
		{
			describe_char(&sc, sc.pos, ch, sizeof(ch));
			return fail_at(&sc, kstart, hint_grammar, "expected a key, found %s", ch);
		}
		k = KEY_COUNT;
		if (n < sizeof(key))
			for (k = 0; k < KEY_COUNT; k++)
				if (strcmp(pt_key_names[k], key) == 0)
					break;
		if (k == KEY_COUNT)
			return fail_at(&sc, kstart,
						   "Keys are basis, special, purpose, retain, on_expiry and mask.",
						   "unknown key \"%.20s%s\"", key, n >= sizeof(key) ? "..." : "");
		if (seen[k])
			return fail_at(&sc, kstart, "Give each key once.",
						   "key \"%s\" is given twice", key);
		seen[k] = true;
		skip_blanks(&sc);
		if (at_end(&sc) || sc.s[sc.pos] != '=')
		{
			describe_char(&sc, sc.pos, ch, sizeof(ch));
			return fail_at(&sc, sc.pos, hint_grammar,
						   "expected \"=\" after \"%s\", found %s", key, ch);
		}
		sc.pos++;
		skip_blanks(&sc);

		switch (k)
		{
			case KEY_BASIS:
				if (!scan_enum(&sc, pt_basis_names, PT_BASIS_COUNT, "legal basis",
							   "Legal bases are consent, contract, legal_obligation, vital_interests, public_task and legitimate_interests.",
							   &out->basis))
					return false;
				break;
			case KEY_SPECIAL:
				if (!scan_enum(&sc, pt_special_names, PT_SPECIAL_COUNT,
							   "special-category condition",
							   "Conditions are explicit_consent, employment, vital_interests, nonprofit, made_public, legal_claims, substantial_public_interest, health_care, public_health and archiving_research.",
							   &out->special))
					return false;
				break;
			case KEY_PURPOSE:
				if (!scan_purposes(&sc, out))
					return false;
				break;
			case KEY_RETAIN:
				if (!scan_retain(&sc, out))
					return false;
				break;
			case KEY_ON_EXPIRY:
				expiry_pos = kstart;
				if (!scan_enum(&sc, pt_action_names, PT_ACTION_COUNT, "expiry action",
							   "Expiry actions are delete and nullify.",
							   &out->action))
					return false;
				break;
			case KEY_MASK:
				if (!scan_mask(&sc, out))
					return false;
				break;
		}
		skip_blanks(&sc);
	}

	if (seen[KEY_ON_EXPIRY] && !out->has_retain)
		return fail_at(&sc, expiry_pos,
					   "Add a window, e.g. retain=30 days after created_at.",
					   "an on_expiry clause is given without retain");
	if (out->has_retain && out->action == PT_ACTION_NONE)
		out->action = PT_ACTION_DELETE;
	return true;
}

bool
pt_parse_subject(const char *input, size_t len, PtSubject *out, PtError *err)
{
	PtScan		sc = {input, len, 0, err};
	PtParsed	tmp;
	int			n;
	char		key[24];
	char		ch[24];
	static const char *hint =
	"A subject label reads: <subject type> [; collected_at=<column>].";

	memset(out, 0, sizeof(*out));
	skip_blanks(&sc);
	if (!scan_ident(&sc, out->type, PT_MAX_IDENT, &n, "a subject type"))
		return false;
	skip_blanks(&sc);
	if (at_end(&sc))
		return true;
	if (sc.s[sc.pos] != ';')
	{
		describe_char(&sc, sc.pos, ch, sizeof(ch));
		return fail_at(&sc, sc.pos, hint, "expected \";\", found %s", ch);
	}
	sc.pos++;
	skip_blanks(&sc);
	if (scan_word(&sc, key, sizeof(key)) != 12 || strcmp(key, "collected_at") != 0)
		return fail_at(&sc, sc.pos, hint, "expected \"collected_at\"");
	skip_blanks(&sc);
	if (at_end(&sc) || sc.s[sc.pos] != '=')
	{
		describe_char(&sc, sc.pos, ch, sizeof(ch));
		return fail_at(&sc, sc.pos, hint, "expected \"=\", found %s", ch);
	}
	sc.pos++;
	skip_blanks(&sc);
	if (!scan_column(&sc, &tmp))
		return false;
	memcpy(out->collected_at, tmp.anchor, tmp.anchor_len + 1);
	skip_blanks(&sc);
	if (!at_end(&sc))
	{
		describe_char(&sc, sc.pos, ch, sizeof(ch));
		return fail_at(&sc, sc.pos, hint, "unexpected %s after the column name", ch);
	}
	return true;
}

int
pt_parse_category(const char *input, size_t len, char *out, PtError *err)
{
	PtScan		sc = {input, len, 0, err};
	PtParsed	tmp;

	tmp.category_len = 0;
	if (!scan_category(&sc, &tmp))
		return -1;
	if (!at_end(&sc))
	{
		char		ch[24];

		describe_char(&sc, sc.pos, ch, sizeof(ch));
		fail_at(&sc, sc.pos, NULL, "unexpected %s in category", ch);
		return -1;
	}
	memcpy(out, tmp.category, tmp.category_len + 1);
	return tmp.category_len;
}

/* Append to a bounded buffer, tracking the length that would be needed. */
typedef struct PtOut
{
	char	   *buf;
	size_t		size;
	size_t		len;
} PtOut;

static void
out_append(PtOut *o, const char *s, size_t n)
{
	if (o->len < o->size)
	{
		size_t		room = o->size - o->len;

		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void
out_str(PtOut *o, const char *s)
{
	out_append(o, s, strlen(s));
}

static void
out_part(PtOut *o, long long q, const char *one, const char *many)
{
	char		num[32];
	int			n = snprintf(num, sizeof(num), "%s%lld ", o->len > 0 ? " " : "", q);

	out_append(o, num, n);
	out_str(o, q == 1 ? one : many);
}

static size_t
out_finish(PtOut *o)
{
	if (o->size > 0)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
	return o->len;
}

size_t
pt_format_interval(int32_t months, int32_t days, int64_t usecs,
				   char *buf, size_t bufsize)
{
	PtOut		o = {buf, bufsize, 0};
	int64_t		h = usecs / PT_USECS_PER_HOUR;
	int64_t		m = (usecs % PT_USECS_PER_HOUR) / PT_USECS_PER_MINUTE;
	int64_t		s = (usecs % PT_USECS_PER_MINUTE) / PT_USECS_PER_SEC;

	if (months / 12)
		out_part(&o, months / 12, "year", "years");
	if (months % 12)
		out_part(&o, months % 12, "month", "months");
	if (days)
		out_part(&o, days, "day", "days");
	if (h)
		out_part(&o, h, "hour", "hours");
	if (m)
		out_part(&o, m, "minute", "minutes");
	if (s)
		out_part(&o, s, "second", "seconds");
	return out_finish(&o);
}

size_t
pt_format_ident(const char *name, char *buf, size_t bufsize)
{
	PtOut		o = {buf, bufsize, 0};
	bool		safe = (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';

	for (const char *p = name; *p && safe; p++)
		safe = (*p >= 'a' && *p <= 'z') || is_digit(*p) || *p == '_';
	if (safe)
		out_str(&o, name);
	else
	{
		out_append(&o, "\"", 1);
		for (const char *p = name; *p; p++)
		{
			if (*p == '"')
				out_append(&o, "\"", 1);
			out_append(&o, p, 1);
		}
		out_append(&o, "\"", 1);
	}
	return out_finish(&o);
}

size_t
pt_format_mask(uint8_t mask, const char *literal, size_t len,
			   char *buf, size_t bufsize)
{
	PtOut		o = {buf, bufsize, 0};

	if (mask != PT_MASK_LITERAL)
		out_str(&o, pt_mask_names[mask < PT_MASK_LITERAL ? mask : PT_MASK_NULL]);
	else
	{
		size_t		from = 0;

		out_append(&o, "'", 1);
		/* copy runs up to and including each quote, then double it */
		for (size_t i = 0; i < len; i++)
			if (literal[i] == '\'')
			{
				out_append(&o, literal + from, i + 1 - from);
				out_append(&o, "'", 1);
				from = i + 1;
			}
		out_append(&o, literal + from, len - from);
		out_append(&o, "'", 1);
	}
	return out_finish(&o);
}

size_t
pt_format(const PtParsed *tag, char *buf, size_t bufsize)
{
	PtOut		o = {buf, bufsize, 0};

	out_append(&o, tag->category, tag->category_len);
	if (tag->basis)
	{
		out_str(&o, "; basis=");
		out_str(&o, pt_basis_names[tag->basis]);
	}
	if (tag->special)
	{
		out_str(&o, "; special=");
		out_str(&o, pt_special_names[tag->special]);
	}
	if (tag->npurposes > 0)
	{
		out_str(&o, "; purpose=");
		for (int i = 0; i < tag->npurposes; i++)
		{
			if (i > 0)
				out_append(&o, ",", 1);
			out_str(&o, tag->purposes[i]);
		}
	}
	if (tag->has_retain)
	{
		char		tmp[256];

		out_str(&o, "; retain=");
		pt_format_interval(tag->months, tag->days, tag->usecs, tmp, sizeof(tmp));
		out_str(&o, tmp);
		if (tag->anchor_len > 0)
		{
			out_str(&o, " after ");
			pt_format_ident(tag->anchor, tmp, sizeof(tmp));
			out_str(&o, tmp);
		}
		out_str(&o, "; on_expiry=");
		out_str(&o, pt_action_names[tag->action]);
	}
	if (tag->mask != PT_MASK_NULL)
	{
		char		tmp[PT_MAX_MASK_TEXT + 1];

		out_str(&o, "; mask=");
		out_append(&o, tmp, pt_format_mask(tag->mask, tag->mask_literal,
										   tag->mask_len, tmp, sizeof(tmp)));
	}
	return out_finish(&o);
}
