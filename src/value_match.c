/*
 * value_match.c
 *	  Recognise personal data in sampled values (for discover()).
 *
 * Each recogniser is strict enough that look-alikes fail: card numbers and
 * Swedish personal identity numbers must pass their check digit, dates are
 * not phone numbers, and "a@b" is not an email address.
 */
#include "value_match.h"

#include <string.h>

const char *const pt_value_kind_names[PT_VALUE_KINDS] = {
	NULL, "email", "ipv4", "ipv6", "personnummer", "card", "phone"
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
	if (memchr(s, '@', len))
		return is_email(s, len) ? PT_VALUE_EMAIL : PT_VALUE_NONE;
	if (is_ipv4(s, len))
		return PT_VALUE_IPV4;
	if (memchr(s, ':', len))
		return is_ipv6(s, len) ? PT_VALUE_IPV6 : PT_VALUE_NONE;
	if (is_personnummer(s, len))
		return PT_VALUE_PERSONNUMMER;
	if (is_card(s, len))
		return PT_VALUE_CARD;
	if (is_phone(s, len))
		return PT_VALUE_PHONE;
	return PT_VALUE_NONE;
}
