/*
 * value_match.h
 *	  Recognise personal data in sampled values (for discover()).
 *
 * Plain C, no server dependency, so that it can be fuzzed with the tag
 * parser (fuzz/).
 */
#ifndef PRIVACY_TAGS_VALUE_MATCH_H
#define PRIVACY_TAGS_VALUE_MATCH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum PtValueKind
{
	PT_VALUE_NONE = 0,
	PT_VALUE_EMAIL,
	PT_VALUE_IPV4,
	PT_VALUE_IPV6,
	PT_VALUE_PERSONNUMMER,		/* Swedish personal identity number, check digit valid */
	PT_VALUE_CARD,				/* payment card number, Luhn valid */
	PT_VALUE_PHONE
} PtValueKind;
#define PT_VALUE_KINDS 7

extern const char *const pt_value_kind_names[PT_VALUE_KINDS];

extern PtValueKind pt_value_kind(const char *s, size_t len);
extern bool pt_luhn_ok(const char *digits, size_t n);

#endif							/* PRIVACY_TAGS_VALUE_MATCH_H */
