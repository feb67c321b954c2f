/*
 * privacy_tag_mask.c
 *	  The rules of mask=: which column types each mask fits, and the value
 *	  a kept row gets.
 *
 * A tag's mask says what a row that must stay gets instead of the value
 * when the value is erased or expires with on_expiry=nullify:
 *
 *	 null		NULL (the default)
 *	 redact		a fixed value of the column's type, from the table below
 *	 hash		a keyed hash of the value: a stable pseudonym, computed by the
 *				engine that erases or purges (PT_MASK_HASH_LEN hexadecimal
 *				digits for text types, the same bits as a uuid for uuid)
 *	 '<text>'	the literal, converted to the column's type
 *
 * Types are judged by their base type: a domain column takes the masks of
 * the type it is over.  The rules are checked when a column is tagged
 * (pt_check_mask, called by tagging.c), so that an erasure never finds out
 * that its mask does not fit.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#endif

#include "privacy_tag_mask.h"

/*
 * redact: the fixed value of each type that has one.  The empty string for
 * the text types (it fits every length limit), zero for the numeric types,
 * false, the epoch for dates and timestamps (with an explicit UTC offset,
 * so that it does not depend on TimeZone), the nil uuid, 0.0.0.0 and an
 * empty JSON object.  No other type has one: a point, a range or an array
 * has no value that obviously says "nothing here", so its tag gives a
 * literal instead.
 */
typedef struct RedactValue
{
	Oid			type;
	const char *value;
} RedactValue;

static const RedactValue redact_values[] = {
	{TEXTOID, ""},
	{VARCHAROID, ""},
	{BPCHAROID, ""},
	{INT2OID, "0"},
	{INT4OID, "0"},
	{INT8OID, "0"},
	{NUMERICOID, "0"},
	{FLOAT4OID, "0"},
	{FLOAT8OID, "0"},
	{BOOLOID, "false"},
	{DATEOID, "1970-01-01"},
	{TIMESTAMPOID, "1970-01-01 00:00:00"},
	{TIMESTAMPTZOID, "1970-01-01 00:00:00+00"},
	{UUIDOID, "00000000-0000-0000-0000-000000000000"},
	{INETOID, "0.0.0.0"},
	{JSONOID, "{}"},
	{JSONBOID, "{}"},
};

static const char *const redact_types_text =
"text, character varying, character, smallint, integer, bigint, numeric, "
"real, double precision, boolean, date, timestamp, timestamp with time zone, "
"uuid, inet, json and jsonb";

/* The text of the redact value of basetype, or NULL when it has none. */
const char *
pt_mask_redact_value(Oid basetype)
{
	for (size_t i = 0; i < lengthof(redact_values); i++)
		if (redact_values[i].type == basetype)
			return redact_values[i].value;
	return NULL;
}

/* Can a column of basetype hold the pseudonym of mask=hash? */
bool
pt_mask_hash_type(Oid basetype)
{
	return basetype == TEXTOID || basetype == VARCHAROID ||
		basetype == BPCHAROID || basetype == UUIDOID;
}

/* "integer", or "my_domain (a domain over integer)" */
static char *
type_display(Oid typid, Oid base, int32 basetypmod)
{
	if (typid == base)
		return format_type_with_typemod(base, basetypmod);
	return psprintf("%s (a domain over %s)", format_type_be(typid),
					format_type_with_typemod(base, basetypmod));
}

/* The mask clause's value as the tag writes it: redact, hash, 'n/a'. */
static char *
mask_text(const PrivacyTag *tag)
{
	const char *lit = PT_MASK_LITERAL(tag);
	char	   *buf = palloc(PT_MAX_MASK_TEXT + 1);

	pt_format_mask(PT_MASK_KIND(tag), lit, strlen(lit), buf, PT_MAX_MASK_TEXT + 1);
	return buf;
}

/* Report that literal is no value of the column's type, with the reason. */
static void
report_bad_literal(const PrivacyTag *tag, const char *colname, const char *type,
				   const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("mask %s of column \"%s\" is not a value of type %s",
					pt_echo(mask_text(tag)), colname, type),
			 errdetail("The type's input function says: %s", reason),
			 errhint("Give a literal that the column's type accepts, or mask=null.")));
}

/*
 * Does the literal convert to base (with its typmod)?  Runs the type's
 * input function only: for a domain, its CHECK constraints are the table
 * owner's code, which the tagging user is not to run, and a domain's
 * constraints can change after tagging anyway; the base type's input
 * function is the type's own C code.  So the base type must be a base type
 * or an enum, or an array of one of them (whose elements array_in converts
 * with their input function); a composite, range or multirange type, or an
 * array of domains, would run other input functions, domain checks
 * included, and takes no literal.
 */
static void
check_literal(const PrivacyTag *tag, const char *colname, Oid typid, Oid base,
			  int32 basetypmod)
{
	char		typtype = get_typtype(base);
	Oid			elem = get_element_type(base);
	const char *lit = PT_MASK_LITERAL(tag);
	Oid			typinput;
	Oid			typioparam;

	if (OidIsValid(elem))
		typtype = get_typtype(elem);
	if (typtype != TYPTYPE_BASE && typtype != TYPTYPE_ENUM)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of type %s cannot take a literal mask",
						colname, type_display(typid, base, basetypmod)),
				 errdetail("A literal mask is checked with the input function of the column's type, which is done for base types, enums and arrays of them only."),
				 errhint("Use mask=null, or mask=redact where the type has a redact value.")));

	/*
	 * A restore does not judge again what was accepted when the column was
	 * tagged: the input of some types depends on settings (DateStyle,
	 * TimeZone), which pg_dump sets its own way.
	 */
	if (!check_function_bodies)
		return;

	getTypeInputInfo(base, &typinput, &typioparam);
#if PG_VERSION_NUM >= 160000
	{
		ErrorSaveContext escontext = {T_ErrorSaveContext};
		FmgrInfo	flinfo;
		Datum		value;

		escontext.details_wanted = true;
		fmgr_info(typinput, &flinfo);
		if (!InputFunctionCallSafe(&flinfo, unconstify(char *, lit), typioparam,
								   basetypmod, (Node *) &escontext, &value))
			report_bad_literal(tag, colname, type_display(typid, base, basetypmod),
							   escontext.error_data->message);
	}
#else
	{
		MemoryContext cxt = CurrentMemoryContext;

		PG_TRY();
		{
			(void) OidInputFunctionCall(typinput, unconstify(char *, lit), typioparam,
										basetypmod);
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			/* only bad data becomes our error: not a cancel, not out of memory */
			if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
				PG_RE_THROW();
			FlushErrorState();
			report_bad_literal(tag, colname, type_display(typid, base, basetypmod),
							   edata->message);
		}
		PG_END_TRY();
	}
#endif
}

/*
 * Every tagging-time check of the mask of tag on column colname, of type
 * typid with typmod.  Raises an error with a hint.
 */
void
pt_check_mask(const PrivacyTag *tag, const char *colname, Oid typid, int32 typmod)
{
	int32		basetypmod = typmod;
	Oid			base = getBaseTypeAndTypmod(typid, &basetypmod);

	switch (PT_MASK_KIND(tag))
	{
		case PT_MASK_NULL:
			break;
		case PT_MASK_REDACT:
			if (pt_mask_redact_value(base) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("mask=redact is not defined for column \"%s\" of type %s",
								colname, type_display(typid, base, basetypmod)),
						 errdetail("redact stores a fixed value of the column's type, which the types %s have.",
								   redact_types_text),
						 errhint("Give a literal of the column's type instead, e.g. mask='n/a', or mask=null.")));
			break;
		case PT_MASK_HASH:
			if (!pt_mask_hash_type(base))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("mask=hash is not defined for column \"%s\" of type %s",
								colname, type_display(typid, base, basetypmod)),
						 errdetail("hash stores a pseudonym of %d hexadecimal digits, which columns of type text, character varying, character and uuid can hold.",
								   PT_MASK_HASH_LEN),
						 errhint("Use mask=redact or a literal of the column's type, or mask=null.")));
			if (base != UUIDOID && basetypmod >= (int32) VARHDRSZ &&
				basetypmod - (int32) VARHDRSZ < PT_MASK_HASH_LEN)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of type %s is too short for mask=hash",
								colname, type_display(typid, base, basetypmod)),
						 errdetail("hash stores a pseudonym of %d hexadecimal digits.",
								   PT_MASK_HASH_LEN),
						 errhint("Allow at least %d characters, or use mask=redact.",
								 PT_MASK_HASH_LEN)));
			break;
		case PT_MASK_LITERAL:
			check_literal(tag, colname, typid, base, basetypmod);
			break;
		default:
			elog(ERROR, "privacy_tag value has unknown mask kind %d", PT_MASK_KIND(tag));
	}
}

/*
 * _mask_value(tag, col_type): the text of the value a kept row of a column
 * of col_type gets for the tag's mask: the literal, or the redact value of
 * the type (through domains); NULL for mask=null and for mask=hash, which
 * the engine computes from the value.
 */
PG_FUNCTION_INFO_V1(privacy_tag_mask_value);
Datum
privacy_tag_mask_value(PG_FUNCTION_ARGS)
{
	PrivacyTag *tag = PG_GETARG_PRIVACY_TAG_P(0);
	Oid			typid = PG_GETARG_OID(1);
	Oid			base;
	const char *value;

	privacy_tag_check_version(tag);
	switch (PT_MASK_KIND(tag))
	{
		case PT_MASK_LITERAL:
			PG_RETURN_TEXT_P(cstring_to_text(PT_MASK_LITERAL(tag)));
		case PT_MASK_REDACT:
			base = getBaseType(typid);
			value = pt_mask_redact_value(base);
			if (value == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("mask=redact is not defined for type %s",
								type_display(typid, base, -1)),
						 errdetail("redact stores a fixed value of the column's type, which the types %s have.",
								   redact_types_text)));
			PG_RETURN_TEXT_P(cstring_to_text(value));
		default:
			PG_RETURN_NULL();
	}
}
