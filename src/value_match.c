/*
 * value_match.c
 *	  Recognise personal data in sampled values (for discover()).
 *
 * Each recogniser is strict enough that look-alikes fail: card numbers and
 * Swedish personal identity numbers must pass their check digit, dates are
 * not phone numbers, and "a@b" is not an email address.
 */
#include "value_match.h"

#include <stdlib.h>
#include <string.h>

#include "value_names.h"

const char *const pt_value_kind_names[PT_VALUE_KINDS] = {
	NULL, "email", "ipv4", "ipv6", "personnummer", "card", "phone",
	"iban", "orgnr", "imei", "mac", "geo", "ssn", "password_hash", "jwt",
	"api_key", "person_name", "street_address", "postal_code"
};

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Luhn (mod 10) check over n ASCII digits. */
bool
pt_luhn_ok(const char *digits, size_t n)
{
	int			sum = 0;

	for (size_t i = 0; i < n; i++)
	{
		int			d = digits[n - 1 - i] - '0';

		if (d < 0 || d > 9)
			return false;
		if (i % 2 == 1)
		{
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return n > 0 && sum % 10 == 0;
}

/* local@domain.tld */
static bool
is_email(const char *s, size_t len)
{
	size_t		at = len,
				i;
	size_t		labels = 0,
				label_len = 0,
				last_label_alpha = 0;
	bool		last_all_alpha = true;

	if (len < 6 || len > 254)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '@')
		{
			if (at != len)
				return false;	/* two @ */
			at = i;
		}
	if (at == len || at == 0 || at > 64)
		return false;
	for (i = 0; i < at; i++)
	{
		char		c = s[i];

		if (!(is_alpha(c) || is_digit(c) || strchr("._%+-'", c) != NULL) || c == '\0')
			return false;
	}
	if (s[0] == '.' || s[at - 1] == '.')
		return false;
	for (i = at + 1; i <= len; i++)
	{
		char		c = i < len ? s[i] : '.';

		if (c == '.')
		{
			if (label_len == 0)
				return false;
			labels++;
			last_label_alpha = label_len;
			label_len = 0;
			if (i < len)
				last_all_alpha = true;
			continue;
		}
		if (!(is_alpha(c) || is_digit(c) || c == '-'))
			return false;
		if (!is_alpha(c))
			last_all_alpha = false;
		label_len++;
	}
	return labels >= 2 && last_all_alpha && last_label_alpha >= 2;
}

static bool
is_ipv4(const char *s, size_t len)
{
	int			parts = 0;
	size_t		i = 0;

	while (i < len)
	{
		int			v = 0,
					nd = 0;

		while (i < len && is_digit(s[i]))
		{
			v = v * 10 + (s[i] - '0');
			if (++nd > 3)
				return false;
			i++;
		}
		if (nd == 0 || v > 255 || (nd > 1 && s[i - nd] == '0'))
			return false;
		parts++;
		if (i == len)
			break;
		if (s[i] != '.' || parts == 4)
			return false;
		i++;
		if (i == len)
			return false;
	}
	return parts == 4;
}

static bool
is_ipv6(const char *s, size_t len)
{
	int			groups = 0;
	bool		double_colon = false;
	size_t		i = 0;

	if (len < 2 || len > 45)
		return false;
	if (s[0] == ':')
	{
		if (len < 2 || s[1] != ':')
			return false;
		double_colon = true;
		i = 2;
		if (i == len)
			return true;		/* "::" */
	}
	while (i < len)
	{
		size_t		start = i;
		int			nh = 0;

		while (i < len && is_hex(s[i]) && nh < 5)
		{
			nh++;
			i++;
		}
		if (i < len && s[i] == '.')
		{
			/* an embedded IPv4 address ends the string */
			return groups <= (double_colon ? 5 : 6) && is_ipv4(s + start, len - start) &&
				(double_colon || groups == 6);
		}
		if (nh == 0 || nh > 4)
			return false;
		groups++;
		if (i == len)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < len && s[i] == ':')
		{
			if (double_colon)
				return false;
			double_colon = true;
			i++;
			if (i == len)
				break;
		}
		else if (i == len)
			return false;
	}
	return double_colon ? groups <= 7 : groups == 8;
}

/*
 * Swedish personal identity number: [YY]YYMMDD[-+]NNNN or without the
 * separator; month 01-12, day 01-31 (or 61-91 for a co-ordination number),
 * and the Luhn check over YYMMDDNNNN.
 */
static bool
is_personnummer(const char *s, size_t len)
{
	char		d[12];
	size_t		n = 0;
	int			month,
				day;

	for (size_t i = 0; i < len; i++)
	{
		if (is_digit(s[i]))
		{
			if (n >= 12)
				return false;
			d[n++] = s[i];
		}
		else if ((s[i] == '-' || s[i] == '+') && (n == 6 || n == 8) && i + 5 == len)
			continue;
		else
			return false;
	}
	if (n != 10 && n != 12)
		return false;
	if (n == 12)
	{
		int			century = (d[0] - '0') * 10 + (d[1] - '0');

		if (century != 18 && century != 19 && century != 20)
			return false;
	}
	{
		const char *p = d + (n - 10);

		month = (p[2] - '0') * 10 + (p[3] - '0');
		day = (p[4] - '0') * 10 + (p[5] - '0');
		if (month < 1 || month > 12)
			return false;
		if (!((day >= 1 && day <= 31) || (day >= 61 && day <= 91)))
			return false;
		return pt_luhn_ok(p, 10);
	}
}

/* 13 to 19 digits, in groups separated by single spaces or dashes, Luhn valid. */
static bool
is_card(const char *s, size_t len)
{
	char		d[19];
	size_t		n = 0;
	bool		all_same = true;

	for (size_t i = 0; i < len; i++)
	{
		if (is_digit(s[i]))
		{
			if (n >= 19)
				return false;
			d[n++] = s[i];
		}
		else if ((s[i] == ' ' || s[i] == '-') && i > 0 && i + 1 < len && is_digit(s[i - 1]))
			continue;
		else
			return false;
	}
	if (n < 13)
		return false;
	for (size_t i = 1; i < n; i++)
		if (d[i] != d[0])
			all_same = false;
	return !all_same && pt_luhn_ok(d, n);
}

/*
 * A telephone number: an optional +, 7 to 15 digits, separators among
 * them; starting with + or 0, or written with separators.  Not a date.
 */
static bool
is_phone(const char *s, size_t len)
{
	size_t		digits = 0,
				seps = 0,
				i = 0;
	int			parens = 0;

	if (len < 7 || len > 24)
		return false;
	/* 2024-01-31, 2024.01.31 */
	if (len == 10 && is_digit(s[0]) && is_digit(s[3]) && (s[4] == '-' || s[4] == '.') &&
		(s[7] == '-' || s[7] == '.'))
		return false;
	/* 811218-9876, 19811218-9876: the shape of a personal identity number */
	{
		size_t		k = 0;

		while (k < len && is_digit(s[k]))
			k++;
		if ((k == 6 || k == 8) && k + 5 == len && (s[k] == '-' || s[k] == '+'))
		{
			size_t		m = k + 1;

			while (m < len && is_digit(s[m]))
				m++;
			if (m == len)
				return false;
		}
	}
	if (s[0] == '+')
		i = 1;
	for (; i < len; i++)
	{
		char		c = s[i];

		if (is_digit(c))
			digits++;
		else if (c == ' ' || c == '-' || c == '.')
			seps++;
		else if (c == '(')
		{
			if (parens++)
				return false;
			seps++;
		}
		else if (c == ')')
			seps++;
		else
			return false;
	}
	if (digits < 7 || digits > 15)
		return false;
	return s[0] == '+' || s[0] == '0' || seps > 0;
}

static inline bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static inline bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

/* the crypt(3) alphabet: ./0-9A-Za-z */
static inline bool
is_crypt64(char c)
{
	return is_alnum(c) || c == '.' || c == '/';
}

static inline bool
is_b64(char c)
{
	return is_alnum(c) || c == '+' || c == '/';
}

static inline bool
is_b64url(char c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

/* n characters of s from i on satisfy ok, and the index after them */
static bool
span(const char *s, size_t len, size_t *i, size_t min, size_t max, bool (*ok) (char))
{
	size_t		n = 0;

	while (*i < len && n < max && ok(s[*i]))
	{
		(*i)++;
		n++;
	}
	return n >= min;
}

static bool
ok_digit(char c)
{
	return is_digit(c);
}

static bool
ok_hex(char c)
{
	return is_hex(c);
}

static bool
ok_crypt64(char c)
{
	return is_crypt64(c);
}

static bool
ok_b64(char c)
{
	return is_b64(c);
}

static bool
ok_b64url(char c)
{
	return is_b64url(c);
}

/* s[*i] is c; step past it */
static inline bool
expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i < len && s[*i] == c)
	{
		(*i)++;
		return true;
	}
	return false;
}

/* s starts with the literal p at *i; step past it */
static inline bool
expect_str(const char *s, size_t len, size_t *i, const char *p)
{
	size_t		n = strlen(p);

	if (len - *i >= n && memcmp(s + *i, p, n) == 0)
	{
		*i += n;
		return true;
	}
	return false;
}

/*
 * A password hash: bcrypt ($2a$NN$ + 53), sha-crypt ($5$/$6$, optional
 * rounds=N$, salt of up to 16, hash of 43/86), md5-crypt ($1$ salt $ 22),
 * argon2 ($argon2id$v=N$m=N,t=N,p=N$salt$hash), SCRAM-SHA-256 (as PostgreSQL
 * stores it) and PostgreSQL's md5 followed by 32 hex digits.
 */
static bool
is_password_hash(const char *s, size_t len)
{
	size_t		i = 0;

	if (len == 35 && memcmp(s, "md5", 3) == 0)
	{
		i = 3;
		return span(s, len, &i, 32, 32, ok_hex) && i == len;
	}
	if (expect_str(s, len, &i, "SCRAM-SHA-256$"))
		return span(s, len, &i, 1, 10, ok_digit) && expect(s, len, &i, ':') &&
			span(s, len, &i, 8, 64, ok_b64) && (expect(s, len, &i, '='), expect(s, len, &i, '='), true) &&
			expect(s, len, &i, '$') && span(s, len, &i, 40, 44, ok_b64) && (expect(s, len, &i, '='), true) &&
			expect(s, len, &i, ':') && span(s, len, &i, 40, 44, ok_b64) && (expect(s, len, &i, '='), true) &&
			i == len;
	if (expect_str(s, len, &i, "$2"))
	{
		if (i < len && (s[i] == 'a' || s[i] == 'b' || s[i] == 'x' || s[i] == 'y'))
			i++;
		return expect(s, len, &i, '$') && span(s, len, &i, 2, 2, ok_digit) &&
			expect(s, len, &i, '$') && span(s, len, &i, 53, 53, ok_crypt64) && i == len;
	}
	if (expect_str(s, len, &i, "$5$") || expect_str(s, len, &i, "$6$"))
	{
		size_t		start;
		bool		sha512 = s[1] == '6';

		if (expect_str(s, len, &i, "rounds="))
		{
			if (!span(s, len, &i, 1, 9, ok_digit) || !expect(s, len, &i, '$'))
				return false;
		}
		if (!span(s, len, &i, 1, 16, ok_crypt64) || !expect(s, len, &i, '$'))
			return false;
		start = i;
		return span(s, len, &i, 43, 86, ok_crypt64) && i == len &&
			len - start == (sha512 ? 86u : 43u);
	}
	if (expect_str(s, len, &i, "$1$"))
		return span(s, len, &i, 1, 8, ok_crypt64) && expect(s, len, &i, '$') &&
			span(s, len, &i, 22, 22, ok_crypt64) && i == len;
	if (expect_str(s, len, &i, "$argon2"))
	{
		if (!(expect_str(s, len, &i, "id$") || expect_str(s, len, &i, "i$") ||
			  expect_str(s, len, &i, "d$")))
			return false;
		return expect_str(s, len, &i, "v=") && span(s, len, &i, 1, 3, ok_digit) &&
			expect_str(s, len, &i, "$m=") && span(s, len, &i, 1, 10, ok_digit) &&
			expect_str(s, len, &i, ",t=") && span(s, len, &i, 1, 10, ok_digit) &&
			expect_str(s, len, &i, ",p=") && span(s, len, &i, 1, 3, ok_digit) &&
			expect(s, len, &i, '$') && span(s, len, &i, 8, 64, ok_b64) &&
			expect(s, len, &i, '$') && span(s, len, &i, 16, 128, ok_b64) && i == len;
	}
	return false;
}

/* A JSON web token: header.payload[.signature], base64url, both JSON objects ("eyJ"). */
static bool
is_jwt(const char *s, size_t len)
{
	size_t		i = 0;

	if (len < 24 || len > 254)
		return false;
	if (!expect_str(s, len, &i, "eyJ") || !span(s, len, &i, 8, 254, ok_b64url) ||
		!expect(s, len, &i, '.') || !expect_str(s, len, &i, "eyJ") ||
		!span(s, len, &i, 4, 254, ok_b64url) || !expect(s, len, &i, '.'))
		return false;
	span(s, len, &i, 0, 254, ok_b64url);
	return i == len;
}

/*
 * An API key or secret token: a well-known prefix (Stripe sk_live_, GitHub
 * ghp_, Slack xoxb-, GitLab glpat-, AWS AKIA, Google AIza) followed by at
 * least 16 more characters, or 32 to 128 characters of [A-Za-z0-9_-] with
 * upper case, lower case and at least 4 digits (a random token: a hex digest
 * or a UUID has no upper case).
 */
static bool
is_api_key(const char *s, size_t len)
{
	static const char *const prefixes[] = {
		"sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_",
		"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xoxb-", "xoxp-",
		"xoxa-", "xoxs-", "glpat-", "AKIA", "ASIA", "AIza"
	};
	int			upper = 0,
				lower = 0,
				digits = 0;

	if (len < 20 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!is_b64url(s[i]))
			return false;
		upper += is_upper(s[i]);
		lower += is_lower(s[i]);
		digits += is_digit(s[i]);
	}
	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
	{
		size_t		n = strlen(prefixes[p]);

		if (len >= n + 16 && memcmp(s, prefixes[p], n) == 0)
			return true;
	}
	return len >= 32 && upper > 0 && lower > 0 && digits >= 4;
}

/* ISO 13616: two letters, two check digits, 11 to 30 alphanumerics; mod 97 of the rearranged number is 1. */
bool
pt_iban_ok(const char *s, size_t len)
{
	char		c[34];
	size_t		n = 0;
	int			rem = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (s[i] == ' ' && i > 0 && i + 1 < len && s[i - 1] != ' ')
			continue;
		if (!(is_upper(s[i]) || is_digit(s[i])) || n >= 34)
			return false;
		c[n++] = s[i];
	}
	if (n < 15 || !is_upper(c[0]) || !is_upper(c[1]) || !is_digit(c[2]) || !is_digit(c[3]))
		return false;
	for (size_t k = 0; k < n; k++)
	{
		char		ch = c[(k + 4) % n];

		if (is_digit(ch))
			rem = (rem * 10 + (ch - '0')) % 97;
		else
			rem = (rem * 100 + (ch - 'A' + 10)) % 97;
	}
	return rem == 1;
}

/* An IBAN: grouped by four with single spaces, or not at all. */
static bool
is_iban(const char *s, size_t len)
{
	if (len < 15 || len > 42 || !is_upper(s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == ' ' && i % 5 != 4)
			return false;
	return pt_iban_ok(s, len);
}

/*
 * A Swedish organisation number: NNNNNN-NNNN (or 16NNNNNN-NNNN, or without
 * the dash), group digit 1-3 or 5-9, third digit at least 2 (which no
 * personal identity number has), Luhn valid over the ten digits.
 */
static bool
is_orgnr(const char *s, size_t len)
{
	char		d[12];
	size_t		n = 0;
	const char *p;

	for (size_t i = 0; i < len; i++)
	{
		if (is_digit(s[i]))
		{
			if (n >= 12)
				return false;
			d[n++] = s[i];
		}
		else if (s[i] == '-' && (n == 6 || n == 8) && i + 5 == len)
			continue;
		else
			return false;
	}
	if (n == 12 && (d[0] != '1' || d[1] != '6'))
		return false;
	if (n != 10 && n != 12)
		return false;
	p = d + (n - 10);
	if (p[0] == '0' || p[0] == '4' || p[2] < '2')
		return false;
	return pt_luhn_ok(p, 10);
}

/*
 * An IMEI: 15 digits, Luhn valid, with a reporting body (the first two
 * digits of the type allocation code) of 01, 35, 86 or 99; unseparated or
 * as NN-NNNNNN-NNNNNN-N.
 */
static bool
is_imei(const char *s, size_t len)
{
	char		d[15];
	size_t		n = 0;

	if (len == 18)
	{
		if (s[2] != '-' || s[9] != '-' || s[16] != '-')
			return false;
	}
	else if (len != 15)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (len == 18 && (i == 2 || i == 9 || i == 16))
			continue;
		if (!is_digit(s[i]))
			return false;
		d[n++] = s[i];
	}
	if (!((d[0] == '0' && d[1] == '1') || (d[0] == '3' && d[1] == '5') ||
		  (d[0] == '8' && d[1] == '6') || (d[0] == '9' && d[1] == '9')))
		return false;
	return pt_luhn_ok(d, 15);
}

/* A MAC address: six pairs of hex digits joined by ':' or '-' (one of them), or three quads joined by '.'. */
static bool
is_mac(const char *s, size_t len)
{
	if (len == 17)
	{
		char		sep = s[2];

		if (sep != ':' && sep != '-')
			return false;
		for (size_t i = 0; i < 17; i++)
			if (i % 3 == 2 ? s[i] != sep : !is_hex(s[i]))
				return false;
		return true;
	}
	if (len == 14)
	{
		for (size_t i = 0; i < 14; i++)
			if (i % 5 == 4 ? s[i] != '.' : !is_hex(s[i]))
				return false;
		return true;
	}
	return false;
}

/* A decimal number with at least 3 and at most 10 decimals and an optional sign; its value in *v. */
static bool
parse_coord(const char *s, size_t len, size_t *i, double *v)
{
	double		x = 0,
				scale = 1;
	int			ip = 0,
				fp = 0;
	bool		neg = false;

	if (*i < len && (s[*i] == '-' || s[*i] == '+'))
	{
		neg = s[*i] == '-';
		(*i)++;
	}
	while (*i < len && is_digit(s[*i]))
	{
		if (++ip > 3)
			return false;
		x = x * 10 + (s[*i] - '0');
		(*i)++;
	}
	if (ip == 0 || !expect(s, len, i, '.'))
		return false;
	while (*i < len && is_digit(s[*i]))
	{
		if (++fp > 10)
			return false;
		scale /= 10;
		x += (s[*i] - '0') * scale;
		(*i)++;
	}
	if (fp < 3)
		return false;
	*v = neg ? -x : x;
	return true;
}

/* Geographic coordinates: "latitude, longitude" (or in parentheses), in range, not both zero. */
static bool
is_geo(const char *s, size_t len)
{
	size_t		i = 0;
	double		lat,
				lon;
	bool		paren = false;

	if (len < 11 || len > 50)
		return false;
	if (s[0] == '(')
	{
		paren = true;
		i++;
	}
	if (!parse_coord(s, len, &i, &lat) || !expect(s, len, &i, ','))
		return false;
	expect(s, len, &i, ' ');
	if (!parse_coord(s, len, &i, &lon))
		return false;
	if (paren && !expect(s, len, &i, ')'))
		return false;
	return i == len && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 &&
		!(lat == 0 && lon == 0);
}

/*
 * A US social security number, written AAA-GG-SSSS: area 001-899 but not
 * 666, group 01-99, serial 0001-9999, and not one of the numbers printed on
 * sample cards (078-05-1120, 219-09-9999).
 */
static bool
is_ssn(const char *s, size_t len)
{
	int			area,
				group,
				serial;

	if (len != 11 || s[3] != '-' || s[6] != '-')
		return false;
	for (size_t i = 0; i < 11; i++)
		if (i != 3 && i != 6 && !is_digit(s[i]))
			return false;
	area = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	group = (s[4] - '0') * 10 + (s[5] - '0');
	serial = (s[7] - '0') * 1000 + (s[8] - '0') * 100 + (s[9] - '0') * 10 + (s[10] - '0');
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return false;
	if (memcmp(s, "078-05-1120", 11) == 0 || memcmp(s, "219-09-9999", 11) == 0)
		return false;
	return true;
}

/*
 * A postal code in a pattern no other kind of value has: Swedish "NNN NN"
 * (optionally "SE-" before it), US ZIP+4 "NNNNN-NNNN", Dutch "NNNN AA",
 * British "A9 9AA" to "AA9A 9AA", Canadian "A9A 9A9".  Bare digits (five of
 * them are also a Swedish, German, French or US code) say too little alone:
 * discover() takes them with the column's name.
 */
static bool
is_postal_code(const char *s, size_t len)
{
	size_t		i = 0;

	if (len >= 9 && len <= 10 && memcmp(s, "SE-", 3) == 0)
		i = 3;
	if (len - i == 6 && s[i] >= '1' && s[i] <= '9' && is_digit(s[i + 1]) &&
		is_digit(s[i + 2]) && s[i + 3] == ' ' && is_digit(s[i + 4]) && is_digit(s[i + 5]))
		return true;
	if (i > 0)
		return false;
	if (len == 10 && s[5] == '-')
	{
		for (size_t k = 0; k < 10; k++)
			if (k != 5 && !is_digit(s[k]))
				return false;
		return true;
	}
	if (len == 7 && s[0] >= '1' && s[0] <= '9' && is_digit(s[1]) && is_digit(s[2]) &&
		is_digit(s[3]) && s[4] == ' ' && is_upper(s[5]) && is_upper(s[6]))
		return true;
	if (len == 7 && is_upper(s[0]) && is_digit(s[1]) && is_upper(s[2]) && s[3] == ' ' &&
		is_digit(s[4]) && is_upper(s[5]) && is_digit(s[6]))
		return true;
	/* British: outward code (A9, A99, AA9, AA99, A9A, AA9A), a space, 9AA */
	if (len >= 6 && len <= 8 && s[len - 4] == ' ' && is_digit(s[len - 3]) &&
		is_upper(s[len - 2]) && is_upper(s[len - 1]))
	{
		size_t		out = len - 4;

		if (!is_upper(s[0]))
			return false;
		i = 1;
		if (i < out && is_upper(s[i]))
			i++;
		if (i >= out || !is_digit(s[i]))
			return false;
		i++;
		if (i < out && (is_digit(s[i]) || is_upper(s[i])))
			i++;
		return i == out;
	}
	return false;
}

/*
 * One word of a name or address, lower-cased into buf (ASCII letters and the
 * Latin-1 capitals of UTF-8, so that "ÅSA" is "åsa"); false when it holds
 * anything but letters, an apostrophe or a hyphen, or is too long.
 */
static bool
fold_word(const char *w, size_t n, char *buf, size_t bufsize, int *letters)
{
	size_t		o = 0;

	*letters = 0;
	if (n == 0 || n >= bufsize)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) w[i];

		if (is_alpha((char) c))
		{
			buf[o++] = (char) (c | 0x20);
			(*letters)++;
		}
		else if (c == 0xC3 && i + 1 < n && (unsigned char) w[i + 1] >= 0x80 &&
				 (unsigned char) w[i + 1] <= 0xBF && (unsigned char) w[i + 1] != 0x97 &&
				 (unsigned char) w[i + 1] != 0xB7)
		{
			unsigned char d = (unsigned char) w[i + 1];

			buf[o++] = (char) c;
			buf[o++] = (char) (d < 0xA0 ? d + 0x20 : d);
			(*letters)++;
			i++;
		}
		else if ((c == '-' || c == '\'') && i > 0 && i + 1 < n)
			buf[o++] = (char) c;
		else
			return false;
	}
	buf[o] = '\0';
	return true;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp((const char *) a, *(const char *const *) b);
}

/* Is the (folded, NUL-terminated) word a given name or a surname of the dictionary? */
static bool
known_name(const char *word, bool surname)
{
	if (surname)
		return bsearch(word, pt_surnames, sizeof(pt_surnames) / sizeof(pt_surnames[0]),
					   sizeof(pt_surnames[0]), cmp_name) != NULL;
	return bsearch(word, pt_given_names, sizeof(pt_given_names) / sizeof(pt_given_names[0]),
				   sizeof(pt_given_names[0]), cmp_name) != NULL;
}

/* The same, for a word of len bytes as it is written ("Åsa", "SMITH"). */
bool
pt_is_known_name(const char *word, size_t len, bool surname)
{
	char		buf[64];
	int			letters;

	return fold_word(word, len, buf, sizeof(buf), &letters) && known_name(buf, surname);
}

/*
 * A person's name: one to four words of letters (hyphens and apostrophes
 * inside), a comma allowed after the first ("Svensson, Anna").  One word:
 * a given name or surname of the dictionary.  More: the first word a given
 * name or the last a surname (or, after a comma, the reverse), and every
 * word capitalised or every word in capitals, as names are written.
 */
static bool
is_person_name(const char *s, size_t len)
{
	size_t		starts[4],
				lens[4];
	int			nw = 0;
	bool		comma = false;
	bool		all_caps = true,
				all_capitalised = true;
	char		buf[64];
	int			letters;
	size_t		i = 0;

	if (len < 2 || len > 60)
		return false;
	while (i < len)
	{
		size_t		st = i;

		while (i < len && s[i] != ' ' && s[i] != ',')
			i++;
		if (i == st || nw == 4)
			return false;
		starts[nw] = st;
		lens[nw] = i - st;
		nw++;
		if (i < len && s[i] == ',')
		{
			if (nw != 1 || comma)
				return false;
			comma = true;
			i++;
		}
		if (i < len)
		{
			if (s[i] != ' ')
				return false;
			i++;
			if (i == len)
				return false;
		}
	}
	if (comma && nw < 2)
		return false;
	for (int w = 0; w < nw; w++)
	{
		const char *p = s + starts[w];

		if (!fold_word(p, lens[w], buf, sizeof(buf), &letters) || letters < 2)
			return false;
		if (!is_upper(p[0]) && (unsigned char) p[0] != 0xC3)
			all_capitalised = all_caps = false;
		for (size_t k = 1; k < lens[w]; k++)
			if (is_lower(p[k]))
				all_caps = false;
	}
	if (!all_caps && !all_capitalised)
		return false;
	if (nw == 1)
	{
		fold_word(s, lens[0], buf, sizeof(buf), &letters);
		return known_name(buf, false) || known_name(buf, true);
	}
	{
		size_t		fi = comma ? 1 : 0,
					li = comma ? 0 : (size_t) nw - 1;

		fold_word(s + starts[fi], lens[fi], buf, sizeof(buf), &letters);
		if (known_name(buf, false))
			return true;
		fold_word(s + starts[li], lens[li], buf, sizeof(buf), &letters);
		return known_name(buf, true);
	}
}

/* Does the folded word name a street: "street", "rd", ..., or end as Swedish street names do? */
static bool
street_word(const char *w)
{
	static const char *const words[] = {
		"street", "st", "road", "rd", "avenue", "ave", "lane", "ln", "drive", "dr",
		"way", "court", "ct", "place", "pl", "boulevard", "blvd", "terrace", "close",
		"crescent", "square", "parkway", "highway", "hwy", "row", "gardens", "strasse",
		"straße", "weg", "gata", "väg", "gränd", "torg", "plan", "allé"
	};
	static const char *const suffixes[] = {
		"gatan", "vägen", "gränd", "torget", "stigen", "allén", "backen", "leden",
		"gata", "väg", "strasse", "straße", "weg", "plan", "platsen", "gången"
	};
	size_t		n = strlen(w);

	if (n > 0 && w[n - 1] == '.')
		n--;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0)
			return true;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
	{
		size_t		k = strlen(suffixes[i]);

		if (n > k + 1 && memcmp(w + n - k, suffixes[i], k) == 0)
			return true;
	}
	return false;
}

/*
 * A street address: words and a house number (digits, maybe a letter:
 * "12B"), one word naming a street ("47 MySakila Drive", "Storgatan 12",
 * "12 High St., Leeds"); a comma may add a town.  At most 100 bytes.
 */
static bool
is_street_address(const char *s, size_t len)
{
	bool		number = false,
				street = false;
	int			words = 0;
	size_t		i = 0;

	if (len < 6 || len > 100)
		return false;
	while (i < len)
	{
		size_t		st = i,
					n;
		char		buf[64];
		int			letters;

		while (i < len && s[i] != ' ' && s[i] != ',')
			i++;
		n = i - st;
		if (n > 0)
		{
			size_t		k = 0;

			words++;
			while (k < n && is_digit(s[st + k]))
				k++;
			if (k > 0 && k <= 5 && (k == n || (k + 1 == n && is_alpha(s[st + k]))))
				number = true;
			else if (fold_word(s + st, n - (s[st + n - 1] == '.'), buf, sizeof(buf) - 1, &letters))
			{
				if (s[st + n - 1] == '.')
					strcat(buf, ".");
				if (street_word(buf))
					street = true;
			}
			else if (!(k > 0 && k <= 5 && s[st + k] == '-'))
				return false;
		}
		while (i < len && (s[i] == ' ' || s[i] == ','))
			i++;
	}
	return number && street && words >= 2 && words <= 10;
}


PtValueKind
pt_value_kind(const char *s, size_t len)
{
	/* trim blanks */
	while (len > 0 && (s[0] == ' ' || s[0] == '\t'))
	{
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len > 254)
		return PT_VALUE_NONE;
	if (memchr(s, '\0', len))
		return PT_VALUE_NONE;
	if (s[0] == '$' || (len > 5 && memcmp(s, "SCRAM", 5) == 0) ||
		(len == 35 && memcmp(s, "md5", 3) == 0))
		return is_password_hash(s, len) ? PT_VALUE_PASSWORD_HASH : PT_VALUE_NONE;
	if (memchr(s, '@', len))
		return is_email(s, len) ? PT_VALUE_EMAIL : PT_VALUE_NONE;
	if (is_ipv4(s, len))
		return PT_VALUE_IPV4;
	if (memchr(s, ':', len))
	{
		if (is_ipv6(s, len))
			return PT_VALUE_IPV6;
		return is_mac(s, len) ? PT_VALUE_MAC : PT_VALUE_NONE;
	}
	if (is_mac(s, len))
		return PT_VALUE_MAC;
	if (is_personnummer(s, len))
		return PT_VALUE_PERSONNUMMER;
	if (is_orgnr(s, len))
		return PT_VALUE_ORGNR;
	if (is_imei(s, len))
		return PT_VALUE_IMEI;
	if (is_card(s, len))
		return PT_VALUE_CARD;
	if (is_ssn(s, len))
		return PT_VALUE_SSN;
	if (is_postal_code(s, len))
		return PT_VALUE_POSTAL_CODE;
	if (is_phone(s, len))
		return PT_VALUE_PHONE;
	if (is_geo(s, len))
		return PT_VALUE_GEO;
	if (is_iban(s, len))
		return PT_VALUE_IBAN;
	if (is_jwt(s, len))
		return PT_VALUE_JWT;
	if (is_api_key(s, len))
		return PT_VALUE_API_KEY;
	if (is_street_address(s, len))
		return PT_VALUE_STREET_ADDRESS;
	if (is_person_name(s, len))
		return PT_VALUE_PERSON_NAME;
	return PT_VALUE_NONE;
}
