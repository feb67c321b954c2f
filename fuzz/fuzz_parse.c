/*
 * fuzz_parse.c
 *	  libFuzzer target for the privacy_tag text parsers.
 *
 * Every input is fed, unchanged and not NUL-terminated, to all three
 * parsers: pt_parse, pt_parse_subject and pt_parse_category.  On success the
 * result is checked for canonical round trip (format, re-parse, compare); on
 * failure the PtError is checked for a sane position and a non-empty,
 * NUL-terminated detail.  An input that could be a column name (no zero
 * byte, at most PT_MAX_IDENT bytes) is also written with pt_format_ident and
 * must parse back to itself as collected_at and as a retention anchor; one
 * that could be a mask literal (no zero byte, at most PT_MAX_MASK bytes) is
 * written with pt_format_mask and must parse back to itself as a mask.  Any
 * violated invariant calls abort(), which libFuzzer reports as a crash and
 * saves the input.
 *
 * Build and run with scripts/fuzz.sh (make fuzz).
 */
#include "privacy_tag_parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			fail(__LINE__, #cond); \
	} while (0)

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_parse.c:%d: invariant violated: %s\n", line, what);
	abort();
}

/* A heap copy of exactly len bytes, no NUL, so ASan catches over-reads. */
static char *
exact_copy(const char *s, size_t len)
{
	char	   *p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	memcpy(p, s, len);
	return p;
}

/* Number of UTF-8 characters (bytes that are not continuation bytes). */
static int
count_chars(const uint8_t *s, size_t len)
{
	int			n = 0;

	for (size_t i = 0; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* Poison the error struct so a parser that fails without filling it shows. */
static void
poison_error(PtError *err)
{
	memset(err, 0x5A, sizeof(*err));
	err->position = -12345;
	err->hint = (const char *) (uintptr_t) 1;	/* must be overwritten */
}

/* Invariants of a PtError after a failed parse of len bytes. */
static void
check_error(const PtError *err, const uint8_t *data, size_t len)
{
	int			nchars = count_chars(data, len);

	CHECK(err->position >= 1);
	CHECK(err->position <= nchars + 1);
	CHECK(memchr(err->detail, '\0', sizeof(err->detail)) != NULL);
	CHECK(err->detail[0] != '\0');
	CHECK(err->hint != (const char *) (uintptr_t) 1);
	if (err->hint != NULL)
		CHECK(err->hint[0] != '\0' && strlen(err->hint) < 1024);
}

static bool
str_is_nul_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Internal consistency of a successful parse. */
static void
check_parsed(const PtParsed *p)
{
	CHECK(str_is_nul_terminated(p->category, sizeof(p->category)));
	CHECK(p->category_len >= 1 && p->category_len <= PT_MAX_CATEGORY);
	CHECK((size_t) p->category_len == strlen(p->category));
	CHECK(p->levels >= 1 && p->levels <= PT_MAX_LEVELS);
	{
		int			dots = 0;

		for (int i = 0; i < p->category_len; i++)
			dots += p->category[i] == '.';
		CHECK(dots + 1 == p->levels);
	}
	CHECK(p->basis < PT_BASIS_COUNT);
	CHECK(p->special < PT_SPECIAL_COUNT);
	CHECK(p->action < PT_ACTION_COUNT);
	CHECK(p->has_retain == (p->action != PT_ACTION_NONE));
	if (p->has_retain)
	{
		CHECK(p->months >= 0 && p->days >= 0 && p->usecs >= 0);
		CHECK(p->months != 0 || p->days != 0 || p->usecs != 0);
		CHECK(p->usecs % PT_USECS_PER_SEC == 0);
	}
	else
	{
		CHECK(p->months == 0 && p->days == 0 && p->usecs == 0);
		CHECK(p->anchor_len == 0);
	}
	CHECK(str_is_nul_terminated(p->anchor, sizeof(p->anchor)));
	CHECK(p->anchor_len >= 0 && p->anchor_len <= PT_MAX_IDENT);
	CHECK((size_t) p->anchor_len == strlen(p->anchor));
	CHECK(p->npurposes >= 0 && p->npurposes <= PT_MAX_PURPOSES);
	for (int i = 0; i < p->npurposes; i++)
	{
		CHECK(str_is_nul_terminated(p->purposes[i], sizeof(p->purposes[i])));
		CHECK(p->purposes[i][0] != '\0');
		if (i > 0)
			CHECK(strcmp(p->purposes[i - 1], p->purposes[i]) < 0);	/* sorted, unique */
	}
	CHECK(p->mask < PT_MASK_COUNT);
	CHECK(p->mask_len >= 0 && p->mask_len <= PT_MAX_MASK);
	CHECK(p->mask == PT_MASK_LITERAL || p->mask_len == 0);
	CHECK(p->mask_literal[p->mask_len] == '\0');
	CHECK(memchr(p->mask_literal, '\0', p->mask_len) == NULL);	/* no NUL inside */
}

/* Field-by-field equality of two parsed tags. */
static bool
parsed_equal(const PtParsed *a, const PtParsed *b)
{
	if (a->category_len != b->category_len || a->levels != b->levels ||
		strcmp(a->category, b->category) != 0)
		return false;
	if (a->basis != b->basis || a->special != b->special ||
		a->action != b->action || a->has_retain != b->has_retain)
		return false;
	if (a->months != b->months || a->days != b->days || a->usecs != b->usecs)
		return false;
	if (a->anchor_len != b->anchor_len || strcmp(a->anchor, b->anchor) != 0)
		return false;
	if (a->mask != b->mask || a->mask_len != b->mask_len ||
		memcmp(a->mask_literal, b->mask_literal, a->mask_len) != 0)
		return false;
	if (a->npurposes != b->npurposes)
		return false;
	for (int i = 0; i < a->npurposes; i++)
		if (strcmp(a->purposes[i], b->purposes[i]) != 0)
			return false;
	return true;
}

/* pt_format into a buffer of exactly bufsize bytes must be a clean prefix. */
static void
check_truncated_format(const PtParsed *p, const char *full, size_t fulllen,
					   size_t bufsize)
{
	char	   *buf = malloc(bufsize ? bufsize : 1);
	size_t		n;

	if (buf == NULL)
		abort();
	n = pt_format(p, buf, bufsize);
	CHECK(n == fulllen);
	if (bufsize > 0)
	{
		size_t		kept = fulllen < bufsize ? fulllen : bufsize - 1;

		CHECK(buf[kept] == '\0');
		CHECK(memcmp(buf, full, kept) == 0);
	}
	free(buf);
}

static void
fuzz_tag(const uint8_t *data, size_t size)
{
	PtParsed	parsed,
				again;
	PtError		err;
	char		text[PT_MAX_TEXT];
	char		text2[PT_MAX_TEXT];
	size_t		len,
				len2;
	char	   *copy;

	poison_error(&err);
	if (!pt_parse((const char *) data, size, &parsed, &err))
	{
		check_error(&err, data, size);
		return;
	}
	check_parsed(&parsed);

	/* canonical text fits PT_MAX_TEXT (with its NUL) */
	len = pt_format(&parsed, text, sizeof(text));
	CHECK(len < PT_MAX_TEXT);
	CHECK(strlen(text) == len);

	/* bounded output never overruns and always terminates */
	check_truncated_format(&parsed, text, len, 0);
	check_truncated_format(&parsed, text, len, 1);
	check_truncated_format(&parsed, text, len, len / 2 + 1);
	check_truncated_format(&parsed, text, len, len);
	check_truncated_format(&parsed, text, len, len + 1);

	/* canonical round trip: parse(format(x)) == x */
	copy = exact_copy(text, len);
	poison_error(&err);
	if (!pt_parse(copy, len, &again, &err))
	{
		fprintf(stderr, "canonical text does not parse: \"%s\"\n  %s\n",
				text, err.detail);
		fail(__LINE__, "re-parse of canonical text succeeds");
	}
	free(copy);
	check_parsed(&again);
	if (!parsed_equal(&parsed, &again))
	{
		fprintf(stderr, "canonical text re-parses differently: \"%s\"\n", text);
		fail(__LINE__, "parsed_equal(&parsed, &again)");
	}

	/* and the canonical text is a fixed point */
	len2 = pt_format(&again, text2, sizeof(text2));
	CHECK(len2 == len && strcmp(text, text2) == 0);

	/* the category alone parses as a category, to the same path */
	{
		char		cat[PT_MAX_CATEGORY + 1];
		int			clen;

		copy = exact_copy(parsed.category, parsed.category_len);
		poison_error(&err);
		clen = pt_parse_category(copy, parsed.category_len, cat, &err);
		free(copy);
		CHECK(clen == parsed.category_len);
		CHECK(strcmp(cat, parsed.category) == 0);
	}
}

static void
fuzz_category(const uint8_t *data, size_t size)
{
	char		cat[PT_MAX_CATEGORY + 1];
	char		cat2[PT_MAX_CATEGORY + 1];
	PtError		err;
	PtParsed	parsed;
	int			clen,
				clen2;
	char	   *copy;

	memset(cat, 0x5A, sizeof(cat));
	poison_error(&err);
	clen = pt_parse_category((const char *) data, size, cat, &err);
	if (clen < 0)
	{
		CHECK(clen == -1);
		check_error(&err, data, size);
		return;
	}
	CHECK(clen >= 1 && clen <= PT_MAX_CATEGORY);
	CHECK(str_is_nul_terminated(cat, sizeof(cat)));
	CHECK((size_t) clen == strlen(cat));

	/* canonical round trip */
	copy = exact_copy(cat, clen);
	poison_error(&err);
	clen2 = pt_parse_category(copy, clen, cat2, &err);
	free(copy);
	CHECK(clen2 == clen && strcmp(cat, cat2) == 0);

	/* a valid category is a valid tag with that category and nothing else */
	poison_error(&err);
	CHECK(pt_parse((const char *) data, size, &parsed, &err));
	CHECK(strcmp(parsed.category, cat) == 0);
	CHECK(parsed.basis == 0 && parsed.special == 0 && !parsed.has_retain &&
		  parsed.npurposes == 0);
}

static size_t
format_subject(const PtSubject *s, char *buf, size_t bufsize)
{
	char		ident[2 * PT_MAX_IDENT + 3];
	int			n;

	if (s->collected_at[0] == '\0')
		n = snprintf(buf, bufsize, "%s", s->type);
	else
	{
		pt_format_ident(s->collected_at, ident, sizeof(ident));
		n = snprintf(buf, bufsize, "%s; collected_at=%s", s->type, ident);
	}
	CHECK(n >= 0 && (size_t) n < bufsize);
	return (size_t) n;
}

static void
fuzz_subject(const uint8_t *data, size_t size)
{
	PtSubject	subj,
				again;
	PtError		err;
	char		text[256];
	char		text2[256];
	size_t		len;
	char	   *copy;

	poison_error(&err);
	if (!pt_parse_subject((const char *) data, size, &subj, &err))
	{
		check_error(&err, data, size);
		return;
	}
	CHECK(str_is_nul_terminated(subj.type, sizeof(subj.type)));
	CHECK(str_is_nul_terminated(subj.collected_at, sizeof(subj.collected_at)));
	CHECK(subj.type[0] >= 'a' && subj.type[0] <= 'z');

	len = format_subject(&subj, text, sizeof(text));
	copy = exact_copy(text, len);
	poison_error(&err);
	if (!pt_parse_subject(copy, len, &again, &err))
	{
		fprintf(stderr, "canonical subject does not parse: \"%s\"\n  %s\n",
				text, err.detail);
		fail(__LINE__, "re-parse of canonical subject succeeds");
	}
	free(copy);
	if (strcmp(subj.type, again.type) != 0 ||
		strcmp(subj.collected_at, again.collected_at) != 0)
	{
		fprintf(stderr, "canonical subject re-parses differently: \"%s\"\n", text);
		fail(__LINE__, "subject round trip");
	}
	format_subject(&again, text2, sizeof(text2));
	CHECK(strcmp(text, text2) == 0);
}

/*
 * Any column name (as set_subject() takes it, a NUL-free name of up to
 * PT_MAX_IDENT bytes) written by pt_format_ident parses back to itself, as
 * collected_at and as a retention anchor.
 */
static void
fuzz_ident(const uint8_t *data, size_t size)
{
	char		name[PT_MAX_IDENT + 1];
	char		quoted[2 * PT_MAX_IDENT + 3];
	char		text[sizeof(quoted) + 32];
	size_t		qlen;
	int			n;
	PtSubject	subj;
	PtParsed	parsed;
	PtError		err;
	char	   *copy;

	if (size == 0 || size > PT_MAX_IDENT || memchr(data, '\0', size) != NULL)
		return;
	memcpy(name, data, size);
	name[size] = '\0';
	qlen = pt_format_ident(name, quoted, sizeof(quoted));
	CHECK(qlen < sizeof(quoted) && strlen(quoted) == qlen);

	n = snprintf(text, sizeof(text), "t; collected_at=%s", quoted);
	CHECK(n > 0 && (size_t) n < sizeof(text));
	copy = exact_copy(text, n);
	poison_error(&err);
	if (!pt_parse_subject(copy, n, &subj, &err))
	{
		fprintf(stderr, "quoted name does not parse: \"%s\"\n  %s\n", text, err.detail);
		fail(__LINE__, "pt_parse_subject of a formatted name succeeds");
	}
	free(copy);
	CHECK(strcmp(subj.collected_at, name) == 0);

	n = snprintf(text, sizeof(text), "a; retain=1 day after %s", quoted);
	CHECK(n > 0 && (size_t) n < sizeof(text));
	copy = exact_copy(text, n);
	poison_error(&err);
	if (!pt_parse(copy, n, &parsed, &err))
	{
		fprintf(stderr, "quoted anchor does not parse: \"%s\"\n  %s\n", text, err.detail);
		fail(__LINE__, "pt_parse of a formatted anchor succeeds");
	}
	free(copy);
	CHECK(parsed.anchor_len == (int) size && strcmp(parsed.anchor, name) == 0);
}

/*
 * Any NUL-free string of up to PT_MAX_MASK bytes, written by
 * pt_format_mask as a literal, parses back to itself as a mask.
 */
static void
fuzz_mask_literal(const uint8_t *data, size_t size)
{
	char		quoted[PT_MAX_MASK_TEXT + 1];
	char		text[sizeof(quoted) + 16];
	size_t		qlen;
	int			n;
	PtParsed	parsed;
	PtError		err;
	char	   *copy;

	if (size > PT_MAX_MASK || memchr(data, '\0', size) != NULL)
		return;
	qlen = pt_format_mask(PT_MASK_LITERAL, (const char *) data, size, quoted, sizeof(quoted));
	CHECK(qlen <= PT_MAX_MASK_TEXT && strlen(quoted) == qlen);
	n = snprintf(text, sizeof(text), "a; mask=%s", quoted);
	CHECK(n > 0 && (size_t) n < sizeof(text));
	copy = exact_copy(text, n);
	poison_error(&err);
	if (!pt_parse(copy, n, &parsed, &err))
	{
		fprintf(stderr, "quoted mask does not parse: \"%s\"\n  %s\n", text, err.detail);
		fail(__LINE__, "pt_parse of a formatted mask literal succeeds");
	}
	free(copy);
	CHECK(parsed.mask == PT_MASK_LITERAL && parsed.mask_len == (int) size &&
		  memcmp(parsed.mask_literal, data, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_tag(data, size);
	fuzz_subject(data, size);
	fuzz_category(data, size);
	fuzz_ident(data, size);
	fuzz_mask_literal(data, size);
	return 0;
}
