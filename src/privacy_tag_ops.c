/*
 * privacy_tag_ops.c
 *	  Comparison, hashing, category matching and accessors of privacy_tag.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "privacy_tag.h"

/*
 * Total order: category (a path sorts right before its children, because
 * "." sorts below every identifier character), then basis, special
 * condition, purposes, retention window, anchor, expiry action and mask
 * (kind, then literal).  Equal tags have equal bytes (see privacy_tag.h),
 * which the hash support relies on.
 */
static int
privacy_tag_cmp_internal(const PrivacyTag *a, const PrivacyTag *b)
{
	int			c;

	if ((c = strcmp(PT_CATEGORY(a), PT_CATEGORY(b))) != 0)
		return c;
	if (a->basis != b->basis)
		return a->basis < b->basis ? -1 : 1;
	if (a->special != b->special)
		return a->special < b->special ? -1 : 1;
	if ((c = strcmp(PT_PURPOSES(a), PT_PURPOSES(b))) != 0)
		return c;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	if (a->months != b->months)
		return a->months < b->months ? -1 : 1;
	if (a->days != b->days)
		return a->days < b->days ? -1 : 1;
	if (a->usecs != b->usecs)
		return a->usecs < b->usecs ? -1 : 1;
	if ((c = strcmp(PT_ANCHOR(a), PT_ANCHOR(b))) != 0)
		return c;
	if (a->action != b->action)
		return a->action < b->action ? -1 : 1;
	if (PT_MASK_KIND(a) != PT_MASK_KIND(b))
		return PT_MASK_KIND(a) < PT_MASK_KIND(b) ? -1 : 1;
	return strcmp(PT_MASK_LITERAL(a), PT_MASK_LITERAL(b));
}

#define PT_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0); \
	PrivacyTag *b = PG_GETARG_PRIVACY_TAG_P(1); \
	int			c = privacy_tag_cmp_internal(a, b); \
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	PG_RETURN_BOOL(expr); \
}

/* Operators =, <>, <, <=, >, >= of privacy_tag. */
PT_CMP_FUNC(privacy_tag_eq, c == 0)
PT_CMP_FUNC(privacy_tag_ne, c != 0)
PT_CMP_FUNC(privacy_tag_lt, c < 0)
PT_CMP_FUNC(privacy_tag_le, c <= 0)
PT_CMP_FUNC(privacy_tag_gt, c > 0)
PT_CMP_FUNC(privacy_tag_ge, c >= 0)

/* btree support: three-way comparison. */
PG_FUNCTION_INFO_V1(privacy_tag_cmp);
Datum
privacy_tag_cmp(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	PrivacyTag *b = PG_GETARG_PRIVACY_TAG_P(1);
	int			c = privacy_tag_cmp_internal(a, b);

	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	PG_RETURN_INT32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

/* hash support: the bytes after the length word are canonical. */
PG_FUNCTION_INFO_V1(privacy_tag_hash);
Datum
privacy_tag_hash(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	Datum		h = hash_any((unsigned char *) a + VARHDRSZ, VARSIZE(a) - VARHDRSZ);

	PG_FREE_IF_COPY(a, 0);
	PG_RETURN_DATUM(h);
}

/* hash support: 64-bit hash with a seed. */
PG_FUNCTION_INFO_V1(privacy_tag_hash_extended);
Datum
privacy_tag_hash_extended(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	Datum		h = hash_any_extended((unsigned char *) a + VARHDRSZ,
									  VARSIZE(a) - VARHDRSZ,
									  PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(a, 0);
	PG_RETURN_DATUM(h);
}

/*
 * Is category cat equal to path, or below it?  Matches whole levels only:
 * "contact" covers "contact.email" but not "contactless".
 */
bool
privacy_tag_category_within(const char *cat, int catlen,
							const char *path, int pathlen)
{
	if (pathlen > catlen || memcmp(cat, path, pathlen) != 0)
		return false;
	return catlen == pathlen || cat[pathlen] == '.';
}

/* tag <@ tag: the left tag's category is the right one's or below it. */
PG_FUNCTION_INFO_V1(privacy_tag_within);
Datum
privacy_tag_within(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	PrivacyTag *b = PG_GETARG_PRIVACY_TAG_P(1);

	PG_RETURN_BOOL(privacy_tag_category_within(PT_CATEGORY(a), a->category_len,
											   PT_CATEGORY(b), b->category_len));
}

/* tag @> tag: commutator of <@. */
PG_FUNCTION_INFO_V1(privacy_tag_contains);
Datum
privacy_tag_contains(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	PrivacyTag *b = PG_GETARG_PRIVACY_TAG_P(1);

	PG_RETURN_BOOL(privacy_tag_category_within(PT_CATEGORY(b), b->category_len,
											   PT_CATEGORY(a), a->category_len));
}

/* tag <@ text: the tag's category is the given path or below it. */
PG_FUNCTION_INFO_V1(privacy_tag_within_text);
Datum
privacy_tag_within_text(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	text	   *path = PG_GETARG_TEXT_PP(1);

	PG_RETURN_BOOL(privacy_tag_category_within(PT_CATEGORY(a), a->category_len,
											   VARDATA_ANY(path),
											   VARSIZE_ANY_EXHDR(path)));
}

/* text @> tag: commutator of tag <@ text. */
PG_FUNCTION_INFO_V1(privacy_tag_text_contains);
Datum
privacy_tag_text_contains(PG_FUNCTION_ARGS)
{
	text	   *path = PG_GETARG_TEXT_PP(0);
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(1);

	PG_RETURN_BOOL(privacy_tag_category_within(PT_CATEGORY(a), a->category_len,
											   VARDATA_ANY(path),
											   VARSIZE_ANY_EXHDR(path)));
}

/* category(tag): the category path. */
PG_FUNCTION_INFO_V1(privacy_tag_category);
Datum
privacy_tag_category(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);

	PG_RETURN_TEXT_P(cstring_to_text_with_len(PT_CATEGORY(a), a->category_len));
}

/* legal_basis(tag): the Art. 6 basis, or NULL. */
PG_FUNCTION_INFO_V1(privacy_tag_legal_basis);
Datum
privacy_tag_legal_basis(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);

	if (a->basis == PT_BASIS_NONE || a->basis >= PT_BASIS_COUNT)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pt_basis_names[a->basis]));
}

/* special_condition(tag): the Art. 9(2) condition, or NULL. */
PG_FUNCTION_INFO_V1(privacy_tag_special_condition);
Datum
privacy_tag_special_condition(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);

	if (a->special == PT_SPECIAL_NONE || a->special >= PT_SPECIAL_COUNT)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pt_special_names[a->special]));
}

/* purposes(tag): the purposes, sorted; an empty array when none. */
PG_FUNCTION_INFO_V1(privacy_tag_purposes);
Datum
privacy_tag_purposes(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	Datum	   *elems = palloc(sizeof(Datum) * Max(a->npurposes, 1));
	const char *p = PT_PURPOSES(a);
	int			n = 0;

	while (n < a->npurposes)
	{
		const char *comma = strchr(p, ',');
		int			len = comma ? comma - p : (int) strlen(p);

		elems[n++] = PointerGetDatum(cstring_to_text_with_len(p, len));
		p += len + 1;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* retention(tag): the retention window, or NULL. */
PG_FUNCTION_INFO_V1(privacy_tag_retention);
Datum
privacy_tag_retention(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	Interval   *iv;

	if (!PT_HAS_RETAIN(a))
		PG_RETURN_NULL();
	iv = palloc(sizeof(Interval));
	iv->month = a->months;
	iv->day = a->days;
	iv->time = a->usecs;
	PG_RETURN_INTERVAL_P(iv);
}

/* retention_anchor(tag): the anchor column's name, or NULL. */
PG_FUNCTION_INFO_V1(privacy_tag_retention_anchor);
Datum
privacy_tag_retention_anchor(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	Name		n;

	if (a->anchor_len == 0)
		PG_RETURN_NULL();
	n = (Name) palloc0(NAMEDATALEN);
	strlcpy(NameStr(*n), PT_ANCHOR(a), NAMEDATALEN);
	PG_RETURN_NAME(n);
}

/* expiry_action(tag): 'delete' or 'nullify', or NULL without a window. */
PG_FUNCTION_INFO_V1(privacy_tag_expiry_action);
Datum
privacy_tag_expiry_action(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);

	if (a->action == PT_ACTION_NONE || a->action >= PT_ACTION_COUNT)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(pt_action_names[a->action]));
}

/* mask(tag): null, redact, hash, or the literal in single quotes. */
PG_FUNCTION_INFO_V1(privacy_tag_mask);
Datum
privacy_tag_mask(PG_FUNCTION_ARGS)
{
	PrivacyTag *a = PG_GETARG_PRIVACY_TAG_P(0);
	const char *lit;
	char		buf[PT_MAX_MASK_TEXT + 1];
	size_t		len;

	privacy_tag_check_version(a);
	lit = PT_MASK_LITERAL(a);
	len = pt_format_mask(PT_MASK_KIND(a), lit, strlen(lit), buf, sizeof(buf));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf, len));
}
