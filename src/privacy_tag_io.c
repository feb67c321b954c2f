/*
 * privacy_tag_io.c
 *	  Text and binary input/output of the privacy_tag type.
 */
#include "postgres.h"

#if PG_VERSION_NUM >= 160000
#include "varatt.h"				/* VARSIZE and friends: in postgres.h before 16 */
#endif

#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "privacy_tag.h"

/*
 * User input as an error message quotes it: at most PT_MAX_ECHO bytes, cut
 * at a character boundary and followed by "...", so that a rejected
 * megabyte does not become a megabyte line of the server log.  Returns str
 * itself when it is short enough, else a palloc'd copy.
 */
const char *
pt_echo(const char *str)
{
	size_t		len = strlen(str);
	int			cut;
	char	   *out;

	if (len <= PT_MAX_ECHO)
		return str;
	cut = pg_mbcliplen(str, (int) Min(len, (size_t) (PT_MAX_ECHO + MAX_MULTIBYTE_CHAR_LEN)),
					   PT_MAX_ECHO);
	out = palloc(cut + 4);
	memcpy(out, str, cut);
	memcpy(out + cut, "...", 4);
	return out;
}

/* Report a parse failure as an input syntax error. */
static void
report_parse_error(const char *str, const PtError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type privacy_tag: \"%s\"", pt_echo(str)),
			 errdetail("%s", err->detail),
			 err->hint ? errhint("%s", err->hint) : 0));
}

/* Build the on-disk value of a parsed tag. */
PrivacyTag *
privacy_tag_from_parsed(const PtParsed *p)
{
	char		purposes[PT_MAX_PURPOSE_LIST];
	int			plen = 0;
	Size		size;
	PrivacyTag *tag;
	char	   *d;

	for (int i = 0; i < p->npurposes; i++)
	{
		int			n = strlen(p->purposes[i]);

		if (i > 0)
			purposes[plen++] = ',';
		memcpy(purposes + plen, p->purposes[i], n);
		plen += n;
	}

	size = offsetof(PrivacyTag, data) + p->category_len + 1 + p->anchor_len + 1 + plen + 1;
	/* version 2 only with a mask: see privacy_tag.h */
	if (p->mask != PT_MASK_NULL)
		size += 1 + p->mask_len + 1;
	tag = (PrivacyTag *) palloc0(size);
	SET_VARSIZE(tag, size);
	tag->version = p->mask != PT_MASK_NULL ?
		PRIVACY_TAG_DISK_VERSION : PRIVACY_TAG_DISK_VERSION_1;
	tag->basis = p->basis;
	tag->special = p->special;
	tag->action = p->action;
	tag->levels = p->levels;
	tag->npurposes = p->npurposes;
	tag->category_len = p->category_len;
	tag->anchor_len = p->anchor_len;
	tag->purposes_len = plen;
	tag->flags = p->has_retain ? PT_FLAG_RETAIN : 0;
	tag->months = p->months;
	tag->days = p->days;
	tag->usecs = p->usecs;
	d = tag->data;
	memcpy(d, p->category, p->category_len);
	d += p->category_len + 1;
	memcpy(d, p->anchor, p->anchor_len);
	d += p->anchor_len + 1;
	memcpy(d, purposes, plen);
	if (p->mask != PT_MASK_NULL)
	{
		d += plen + 1;
		*d++ = (char) p->mask;
		memcpy(d, p->mask_literal, p->mask_len);
	}
	return tag;
}

/* Parse text into a tag, raising 22P02 on bad input. */
PrivacyTag *
privacy_tag_parse_or_error(const char *str)
{
	PtParsed	parsed;
	PtError		err;

	if (!pt_parse(str, strlen(str), &parsed, &err))
		report_parse_error(str, &err);
	return privacy_tag_from_parsed(&parsed);
}

/* Refuse a value written in a layout this build does not know. */
void
privacy_tag_check_version(const PrivacyTag *tag)
{
	if (tag->version != PRIVACY_TAG_DISK_VERSION_1 &&
		tag->version != PRIVACY_TAG_DISK_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("privacy_tag value has unknown format version %d",
						tag->version),
				 errhint("Update the privacy_tags extension library.")));
}

/* Append a NUL-terminated constant or name; its length is known at once. */
static inline void
append_str(StringInfo buf, const char *s)
{
	appendBinaryStringInfo(buf, s, strlen(s));
}

/* Canonical text of a tag (no printf: output is on the hot path of COPY). */
char *
privacy_tag_to_cstring(const PrivacyTag *tag)
{
	StringInfoData buf;

	privacy_tag_check_version(tag);
	buf.maxlen = VARSIZE(tag) + 96;
	buf.data = palloc(buf.maxlen);
	buf.len = 0;
	buf.data[0] = '\0';
	buf.cursor = 0;

	appendBinaryStringInfo(&buf, PT_CATEGORY(tag), tag->category_len);
	if (tag->basis)
	{
		append_str(&buf, "; basis=");
		append_str(&buf, pt_basis_names[tag->basis]);
	}
	if (tag->special)
	{
		append_str(&buf, "; special=");
		append_str(&buf, pt_special_names[tag->special]);
	}
	if (tag->npurposes > 0)
	{
		append_str(&buf, "; purpose=");
		appendBinaryStringInfo(&buf, PT_PURPOSES(tag), tag->purposes_len);
	}
	if (PT_HAS_RETAIN(tag))
	{
		char		tmp[2 * PT_MAX_IDENT + 64];

		append_str(&buf, "; retain=");
		appendBinaryStringInfo(&buf, tmp,
							   pt_format_interval(tag->months, tag->days, tag->usecs, tmp, sizeof(tmp)));
		if (tag->anchor_len > 0)
		{
			append_str(&buf, " after ");
			appendBinaryStringInfo(&buf, tmp, pt_format_ident(PT_ANCHOR(tag), tmp, sizeof(tmp)));
		}
		append_str(&buf, "; on_expiry=");
		append_str(&buf, pt_action_names[tag->action]);
	}
	if (PT_MASK_KIND(tag) != PT_MASK_NULL)
	{
		const char *lit = PT_MASK_LITERAL(tag);
		char		tmp[PT_MAX_MASK_TEXT + 1];

		append_str(&buf, "; mask=");
		appendBinaryStringInfo(&buf, tmp,
							   pt_format_mask(PT_MASK_KIND(tag), lit, strlen(lit),
											  tmp, sizeof(tmp)));
	}
	return buf.data;
}

/* Text input: parse and canonicalise a tag. */
PG_FUNCTION_INFO_V1(privacy_tag_in);
Datum
privacy_tag_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);

	PG_RETURN_PRIVACY_TAG_P(privacy_tag_parse_or_error(str));
}

/* Text output: the canonical form, independent of session settings. */
PG_FUNCTION_INFO_V1(privacy_tag_out);
Datum
privacy_tag_out(PG_FUNCTION_ARGS)
{
	PrivacyTag *tag = PG_GETARG_PRIVACY_TAG_P(0);

	PG_RETURN_CSTRING(privacy_tag_to_cstring(tag));
}

/* Binary output: a version byte, then the canonical text (as ltree does). */
PG_FUNCTION_INFO_V1(privacy_tag_send);
Datum
privacy_tag_send(PG_FUNCTION_ARGS)
{
	PrivacyTag *tag = PG_GETARG_PRIVACY_TAG_P(0);
	StringInfoData buf;
	char	   *text = privacy_tag_to_cstring(tag);

	pq_begintypsend(&buf);
	/* version 1, as 1.x sent, unless the tag has a mask */
	pq_sendint8(&buf, PT_MASK_KIND(tag) != PT_MASK_NULL ?
				PRIVACY_TAG_SEND_VERSION : PRIVACY_TAG_SEND_VERSION_1);
	pq_sendtext(&buf, text, strlen(text));
	pfree(text);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * Binary input: check the version byte, then parse the text like input.
 * Both versions carry the canonical text; version 2 is sent for a tag with
 * a mask, which the text says itself.
 */
PG_FUNCTION_INFO_V1(privacy_tag_recv);
Datum
privacy_tag_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgint(buf, 1);
	char	   *str;
	int			nbytes;
	PrivacyTag *tag;

	if (version != PRIVACY_TAG_SEND_VERSION_1 && version != PRIVACY_TAG_SEND_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported privacy_tag binary format version %d", version),
				 errhint("This build reads versions %d and %d.",
						 PRIVACY_TAG_SEND_VERSION_1, PRIVACY_TAG_SEND_VERSION)));
	str = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	tag = privacy_tag_parse_or_error(str);
	pfree(str);
	PG_RETURN_PRIVACY_TAG_P(tag);
}
