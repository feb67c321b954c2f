/*
 * fuzz_value.c
 *	  libFuzzer target for the value recognisers (src/value_match.c) that
 *	  discover() runs on sampled column values.
 *
 * Every input is fed, unchanged and not NUL-terminated, to pt_value_kind
 * and pt_luhn_ok.  Checked for each input:
 *
 *	- the kind is within the enum, has a name unless NONE, and is the same
 *	  on a second call and with blanks and tabs added around the value;
 *	- a value with a zero byte, or longer than 254 bytes once trimmed, is
 *	  NONE;
 *	- IPv4 and IPv6 agree exactly with inet_pton(3) (the recognisers are
 *	  as strict as glibc: no leading zeros, "::" for at least one group);
 *	- any other kind has the shape its recogniser documents (checked here
 *	  independently: a card or personnummer passes a reference Luhn check,
 *	  an email has one @ and an alphabetic top-level domain, ...);
 *	- pt_luhn_ok agrees with a reference Luhn check, and the check digit
 *	  computed for any digit string is the only one that passes;
 *	- values built from the input to be valid (an address printed by
 *	  inet_ntop, a card or personnummer with a computed check digit, a
 *	  phone number, an email address) are recognised as their kind, and
 *	  the same with a wrong check digit are not.
 *
 * Any violated invariant calls abort(), which libFuzzer reports as a crash
 * and saves the input.  Build and run with scripts/fuzz.sh (make fuzz).
 */
#include "value_match.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			fail(__LINE__, #cond); \
	} while (0)

/* the value being checked, for the failure message */
static const char *cur_value;
static size_t cur_len;

static void
fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_value.c:%d: invariant violated: %s\n", line, what);
	if (cur_value != NULL)
	{
		fprintf(stderr, "  value (%zu bytes): \"", cur_len);
		for (size_t i = 0; i < cur_len; i++)
		{
			unsigned char c = (unsigned char) cur_value[i];

			if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
				fputc(c, stderr);
			else
				fprintf(stderr, "\\x%02x", c);
		}
		fprintf(stderr, "\"\n");
	}
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

/* pt_value_kind on an exact-size heap copy, checked to be an enum value. */
static PtValueKind
kind_of(const char *s, size_t len)
{
	char	   *copy = exact_copy(s, len);
	const char *saved = cur_value;
	size_t		saved_len = cur_len;
	PtValueKind k;

	cur_value = copy;
	cur_len = len;
	k = pt_value_kind(copy, len);
	CHECK((int) k >= 0 && (int) k < PT_VALUE_KINDS);
	CHECK((k == PT_VALUE_NONE) == (pt_value_kind_names[k] == NULL));
	free(copy);
	cur_value = saved;
	cur_len = saved_len;
	return k;
}

static PtValueKind
kind_of_str(const char *s)
{
	return kind_of(s, strlen(s));
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Reference Luhn: double every second digit from the right. */
static bool
ref_luhn(const char *d, size_t n)
{
	int			sum = 0;
	bool		dbl = false;

	if (n == 0)
		return false;
	for (size_t i = n; i-- > 0;)
	{
		int			v;

		if (!is_digit(d[i]))
			return false;
		v = d[i] - '0';
		if (dbl)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

/* The check digit that makes d[0..n) followed by it Luhn valid. */
static char
luhn_check_digit(const char *d, size_t n)
{
	int			sum = 0;
	bool		dbl = true;		/* the check digit itself is not doubled */

	for (size_t i = n; i-- > 0;)
	{
		int			v = d[i] - '0';

		if (dbl)
			v = v * 2 > 9 ? v * 2 - 9 : v * 2;
		sum += v;
		dbl = !dbl;
	}
	return (char) ('0' + (10 - sum % 10) % 10);
}

/* Digits of s (and how many), keeping at most max; -1 when more. */
static int
collect_digits(const char *s, size_t len, char *out, int max)
{
	int			n = 0;

	for (size_t i = 0; i < len; i++)
		if (is_digit(s[i]))
		{
			if (n >= max)
				return -1;
			out[n++] = s[i];
		}
	return n;
}

/* --- shape of each kind, checked independently of value_match.c ---------- */

static void
check_email(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t		local,
				last_dot = 0,
				dots = 0,
				label = 0;

	CHECK(len >= 6 && len <= 254);
	CHECK(at != NULL);
	local = (size_t) (at - s);
	CHECK(memchr(at + 1, '@', len - local - 1) == NULL);
	CHECK(local >= 1 && local <= 64);
	CHECK(s[0] != '.' && s[local - 1] != '.');
	for (size_t i = 0; i < local; i++)
		CHECK(is_alpha(s[i]) || is_digit(s[i]) ||
			  (s[i] != '\0' && strchr("._%+-'", s[i]) != NULL));
	for (size_t i = local + 1; i < len; i++)
	{
		if (s[i] == '.')
		{
			CHECK(label > 0);
			label = 0;
			dots++;
			last_dot = i;
			continue;
		}
		CHECK(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-');
		label++;
	}
	CHECK(dots >= 1 && label >= 2);
	for (size_t i = last_dot + 1; i < len; i++)
		CHECK(is_alpha(s[i]));
}

static void
check_personnummer(const char *s, size_t len)
{
	char		d[13];
	int			n = collect_digits(s, len, d, 12);
	const char *p;
	int			month,
				day;

	CHECK(n == 10 || n == 12);
	/* all digits, or one separator before the last four */
	if ((size_t) n != len)
	{
		CHECK((size_t) n + 1 == len);
		CHECK(s[len - 5] == '-' || s[len - 5] == '+');
		CHECK(len - 5 == 6 || len - 5 == 8);
	}
	if (n == 12)
		CHECK(memcmp(d, "18", 2) == 0 || memcmp(d, "19", 2) == 0 ||
			  memcmp(d, "20", 2) == 0);
	p = d + (n - 10);
	month = (p[2] - '0') * 10 + (p[3] - '0');
	day = (p[4] - '0') * 10 + (p[5] - '0');
	CHECK(month >= 1 && month <= 12);
	CHECK((day >= 1 && day <= 31) || (day >= 61 && day <= 91));
	CHECK(ref_luhn(p, 10));
}

static void
check_card(const char *s, size_t len)
{
	char		d[20];
	int			n = collect_digits(s, len, d, 19);
	bool		same = true;

	CHECK(n >= 13 && n <= 19);
	CHECK(is_digit(s[0]) && is_digit(s[len - 1]));
	for (size_t i = 1; i < len; i++)
		if (!is_digit(s[i]))
			CHECK((s[i] == ' ' || s[i] == '-') && is_digit(s[i - 1]));
	for (int i = 1; i < n; i++)
		if (d[i] != d[0])
			same = false;
	CHECK(!same);
	CHECK(ref_luhn(d, n));
}

static void
check_phone(const char *s, size_t len)
{
	int			digits = 0,
				seps = 0,
				parens = 0;

	CHECK(len >= 7 && len <= 24);
	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (is_digit(c))
			digits++;
		else if (c == '+')
			CHECK(i == 0);
		else if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')
		{
			seps++;
			parens += c == '(';
		}
		else
			CHECK(!"a phone number has only digits, + and separators");
	}
	CHECK(digits >= 7 && digits <= 15);
	CHECK(parens <= 1);
	CHECK(s[0] == '+' || s[0] == '0' || seps > 0);
	/* not a date: 2024-01-31 */
	if (len == 10)
		CHECK(!(is_digit(s[0]) && is_digit(s[3]) && (s[4] == '-' || s[4] == '.') &&
				(s[7] == '-' || s[7] == '.')));
	/* not shaped like a personnummer: 811218-9876, 19811218+9876 */
	if (len == 11 || len == 13)
	{
		size_t		sep = len - 5;
		bool		shaped = s[sep] == '-' || s[sep] == '+';

		for (size_t i = 0; i < len; i++)
			if (i != sep && !is_digit(s[i]))
				shaped = false;
		CHECK(!shaped);
	}
}

/* --- values built from the input ------------------------------------------ */

/* Take the next byte of the input (0 once it is used up). */
typedef struct Bytes
{
	const uint8_t *p;
	size_t		n;
} Bytes;

static uint8_t
next_byte(Bytes *b)
{
	if (b->n == 0)
		return 0;
	b->n--;
	return *b->p++;
}

static void
expect_kind(const char *s, PtValueKind want)
{
	PtValueKind k = kind_of_str(s);

	if (k != want)
	{
		fprintf(stderr, "\"%s\" is %s, expected %s\n", s,
				k ? pt_value_kind_names[k] : "none",
				want ? pt_value_kind_names[want] : "none");
		fail(__LINE__, "value built to be of a kind is recognised as it");
	}
}

static void
built_ip(Bytes *b)
{
	unsigned char addr[16];
	char		text[INET6_ADDRSTRLEN + 8];

	for (int i = 0; i < 16; i++)
		addr[i] = next_byte(b);
	/* sometimes many zero groups, so that inet_ntop writes :: or a.b.c.d */
	if (addr[0] & 1)
		memset(addr, 0, addr[1] % 16);
	CHECK(inet_ntop(AF_INET6, addr, text, sizeof(text)) != NULL);
	expect_kind(text, PT_VALUE_IPV6);
	for (char *p = text; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p -= 'a' - 'A';
	expect_kind(text, PT_VALUE_IPV6);
	snprintf(text, sizeof(text), "%x:%x:%x:%x:%x:%x:%x:%x",
			 addr[0] << 8 | addr[1], addr[2] << 8 | addr[3],
			 addr[4] << 8 | addr[5], addr[6] << 8 | addr[7],
			 addr[8] << 8 | addr[9], addr[10] << 8 | addr[11],
			 addr[12] << 8 | addr[13], addr[14] << 8 | addr[15]);
	expect_kind(text, PT_VALUE_IPV6);
	CHECK(inet_ntop(AF_INET, addr + 12, text, sizeof(text)) != NULL);
	expect_kind(text, PT_VALUE_IPV4);
}

static void
built_personnummer(Bytes *b)
{
	char		d[11];
	char		text[16];
	int			year = next_byte(b) % 100;
	int			month = 1 + next_byte(b) % 12;
	int			day = 1 + next_byte(b) % 31;
	uint8_t		form = next_byte(b);
	int			serial = next_byte(b) << 8;
	char		wrong;

	serial |= next_byte(b);
	snprintf(d, sizeof(d), "%02d%02d%02d%03d", year, month,
			 form & 8 ? day + 60 : day, serial % 1000);
	d[9] = luhn_check_digit(d, 9);
	d[10] = '\0';
	CHECK(ref_luhn(d, 10));
	switch (form % 5)
	{
		case 0:
			snprintf(text, sizeof(text), "%s", d);
			break;
		case 1:
		case 2:
			snprintf(text, sizeof(text), "%.6s%c%s", d, form % 5 == 1 ? '-' : '+', d + 6);
			break;
		case 3:
			snprintf(text, sizeof(text), "%d%s", 18 + (form >> 4) % 3, d);
			break;
		default:
			snprintf(text, sizeof(text), "%d%.6s-%s", 18 + (form >> 4) % 3, d, d + 6);
			break;
	}
	expect_kind(text, PT_VALUE_PERSONNUMMER);
	/* any other check digit fails */
	wrong = (char) ('0' + (d[9] - '0' + 1 + next_byte(b) % 9) % 10);
	text[strlen(text) - 1] = wrong;
	CHECK(kind_of_str(text) != PT_VALUE_PERSONNUMMER);
}

static void
built_card(Bytes *b)
{
	char		d[20];
	char		text[40];
	int			n = 13 + next_byte(b) % 7;
	uint8_t		form = next_byte(b);
	bool		same = true;
	size_t		len = 0;
	PtValueKind k;

	for (int i = 0; i < n - 1; i++)
		d[i] = (char) ('0' + next_byte(b) % 10);
	d[n - 1] = luhn_check_digit(d, n - 1);
	CHECK(ref_luhn(d, n));
	for (int i = 1; i < n; i++)
		if (d[i] != d[0])
			same = false;
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && i % 4 == 0 && form % 3 != 0)
			text[len++] = form % 3 == 1 ? ' ' : '-';
		text[len++] = d[i];
	}
	text[len] = '\0';
	k = kind_of_str(text);
	if (same)
		CHECK(k != PT_VALUE_CARD);
	else if (n == 15 && form % 3 == 0 &&
			 (memcmp(d, "01", 2) == 0 || memcmp(d, "35", 2) == 0 ||
			  memcmp(d, "86", 2) == 0 || memcmp(d, "99", 2) == 0))
		expect_kind(text, PT_VALUE_IMEI);	/* the shape of an IMEI wins */
	else
		expect_kind(text, PT_VALUE_CARD);
	/* any other check digit fails */
	text[len - 1] = (char) ('0' + (d[n - 1] - '0' + 1 + next_byte(b) % 9) % 10);
	CHECK(kind_of_str(text) != PT_VALUE_CARD);
}

static void
built_phone(Bytes *b)
{
	char		text[32];
	int			n = 7 + next_byte(b) % 9;	/* 7 to 15 digits */
	uint8_t		form = next_byte(b);
	size_t		len = 0;

	text[len++] = '+';
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && i % 3 == 0 && (form & 1))
			text[len++] = form & 2 ? ' ' : '-';
		text[len++] = (char) ('0' + next_byte(b) % 10);
	}
	text[len] = '\0';
	expect_kind(text, PT_VALUE_PHONE);
	/*
	 * With a leading 0 instead of the + (one digit more): a phone number up
	 * to 15 digits, unless the digits also make a card number (13 or more,
	 * Luhn valid; cards are recognised first) or, unseparated, a
	 * personnummer.
	 */
	text[0] = '0';
	n++;
	{
		PtValueKind k = kind_of_str(text);
		bool		ok = k == PT_VALUE_PHONE ? n <= 15 :
			(k == PT_VALUE_CARD && n >= 13) ||
			(k == PT_VALUE_IMEI && n == 15 && !(form & 1)) ||
			(k == PT_VALUE_PERSONNUMMER && !(form & 1) && (n == 10 || n == 12)) ||
			(k == PT_VALUE_NONE && n > 15);

		if (!ok)
		{
			fprintf(stderr, "\"%s\" is %s\n", text,
					k ? pt_value_kind_names[k] : "none");
			fail(__LINE__, "a number starting with 0 is a phone number");
		}
	}
}

static void
built_email(Bytes *b)
{
	static const char local_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'";
	static const char label_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
	char		text[128];
	size_t		len = 0;
	int			nlocal = 1 + next_byte(b) % 20;
	int			nlabels = 1 + next_byte(b) % 3;
	int			ntld = 2 + next_byte(b) % 5;

	for (int i = 0; i < nlocal; i++)
	{
		char		c = local_chars[next_byte(b) % (sizeof(local_chars) - 1)];

		if (c == '.' && (i == 0 || i == nlocal - 1))
			c = 'x';
		text[len++] = c;
	}
	text[len++] = '@';
	for (int l = 0; l < nlabels; l++)
	{
		int			nlab = 1 + next_byte(b) % 10;

		for (int i = 0; i < nlab; i++)
			text[len++] = label_chars[next_byte(b) % (sizeof(label_chars) - 1)];
		text[len++] = '.';
	}
	for (int i = 0; i < ntld; i++)
		text[len++] = label_chars[next_byte(b) % 52];
	text[len] = '\0';
	expect_kind(text, PT_VALUE_EMAIL);
}

/* --- pt_luhn_ok --------------------------------------------------------- */

static void
check_luhn(const uint8_t *data, size_t size)
{
	char	   *copy = exact_copy((const char *) data, size);
	bool		ok = pt_luhn_ok(copy, size);

	CHECK(ok == ref_luhn(copy, size));
	free(copy);

	/* all digits: exactly one check digit appended makes it valid */
	if (size <= 64)
	{
		char		d[65];
		char		c;

		for (size_t i = 0; i < size; i++)
			d[i] = (char) ('0' + data[i] % 10);
		c = luhn_check_digit(d, size);
		for (char x = '0'; x <= '9'; x++)
		{
			d[size] = x;
			copy = exact_copy(d, size + 1);
			CHECK(pt_luhn_ok(copy, size + 1) == (x == c));
			free(copy);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	const char *t = s;
	size_t		tlen = size;
	PtValueKind k;
	char	   *padded;
	char	   *z;

	cur_value = s;
	cur_len = size;
	k = kind_of(s, size);
	CHECK(kind_of(s, size) == k);	/* deterministic */

	/* blanks around the value change nothing */
	padded = malloc(size + 4);
	if (padded == NULL)
		abort();
	memcpy(padded, " \t", 2);
	memcpy(padded + 2, s, size);
	memcpy(padded + 2 + size, "\t ", 2);
	CHECK(kind_of(padded, size + 4) == k);
	free(padded);

	/* the trimmed value, as the recognisers see it */
	while (tlen > 0 && (t[0] == ' ' || t[0] == '\t'))
	{
		t++;
		tlen--;
	}
	while (tlen > 0 && (t[tlen - 1] == ' ' || t[tlen - 1] == '\t'))
		tlen--;
	if (tlen == 0 || tlen > 254 || memchr(t, '\0', tlen) != NULL)
		CHECK(k == PT_VALUE_NONE);
	else
	{
		/* inet_pton is the reference for addresses */
		z = malloc(tlen + 1);
		if (z == NULL)
			abort();
		memcpy(z, t, tlen);
		z[tlen] = '\0';
		if (memchr(t, '@', tlen) == NULL)
		{
			unsigned char addr[16];
			bool		v4 = inet_pton(AF_INET, z, addr) == 1;
			bool		v6 = inet_pton(AF_INET6, z, addr) == 1;

			if (v4 != (k == PT_VALUE_IPV4) || v6 != (k == PT_VALUE_IPV6))
			{
				fprintf(stderr, "inet_pton: IPv4 %d, IPv6 %d; pt_value_kind: %s\n",
						v4, v6, k ? pt_value_kind_names[k] : "none");
				fail(__LINE__, "address recognisers agree with inet_pton");
			}
		}
		free(z);

		switch (k)
		{
			case PT_VALUE_EMAIL:
				check_email(t, tlen);
				break;
			case PT_VALUE_PERSONNUMMER:
				check_personnummer(t, tlen);
				break;
			case PT_VALUE_CARD:
				check_card(t, tlen);
				break;
			case PT_VALUE_PHONE:
				check_phone(t, tlen);
				break;
			default:
				break;
		}
	}

	check_luhn(data, size);

	/* values built from the input */
	{
		Bytes		b = {data, size};

		built_ip(&b);
		built_personnummer(&b);
		built_card(&b);
		built_phone(&b);
		built_email(&b);
	}
	cur_value = NULL;
	return 0;
}
