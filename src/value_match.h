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
	PT_VALUE_PHONE,
	PT_VALUE_IBAN,				/* international bank account number, mod-97 valid */
	PT_VALUE_ORGNR,				/* Swedish organisation number, check digit valid */
	PT_VALUE_IMEI,				/* device identity, Luhn valid */
	PT_VALUE_MAC,				/* MAC address written as text */
	PT_VALUE_GEO,				/* "latitude, longitude" within range */
	PT_VALUE_SSN,				/* US social security number, area/group/serial rules */
	PT_VALUE_PASSWORD_HASH,		/* bcrypt, sha-crypt, md5-crypt, argon2, SCRAM, PostgreSQL md5 */
	PT_VALUE_JWT,				/* JSON web token */
	PT_VALUE_API_KEY,			/* a known key prefix, or a long mixed-case random string */
	PT_VALUE_PERSON_NAME,		/* given name and/or surname from the dictionary */
	PT_VALUE_STREET_ADDRESS,	/* a street word and a house number */
	PT_VALUE_POSTAL_CODE		/* a postal code in a country's unambiguous pattern */
} PtValueKind;
#define PT_VALUE_KINDS 19

extern const char *const pt_value_kind_names[PT_VALUE_KINDS];

extern PtValueKind pt_value_kind(const char *s, size_t len);
extern bool pt_luhn_ok(const char *digits, size_t n);
extern bool pt_iban_ok(const char *s, size_t len);
extern bool pt_is_known_name(const char *word, size_t len, bool surname);

#endif							/* PRIVACY_TAGS_VALUE_MATCH_H */
