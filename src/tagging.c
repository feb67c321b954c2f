/*
 * tagging.c
 *	  Column tags and subject keys, stored as security labels.
 *
 * Two label providers are registered when the library loads:
 *
 *	 privacy_tags			the column's privacy_tag, in canonical text
 *	 privacy_tags_subject	"<subject type> [; collected_at=<column>]" on a
 *							column that identifies the data subject
 *
 * Labels live in pg_seclabel, so the server keeps them across RENAME, drops
 * them with the column and pg_dump dumps them.  SECURITY LABEL and the SQL
 * functions tag()/untag()/set_subject() run the same checks below.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/seclabel.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "privacy_tag.h"
#include "retention.h"
#include "tagging.h"

/* The column's attribute row, or an error naming the column. */
static HeapTuple
column_tuple(Oid relid, AttrNumber attnum)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									  Int16GetDatum(attnum));

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u",
			 attnum, relid);
	return tup;
}

/*
 * Only ordinary, partitioned and foreign tables carry tags, and not the
 * system's own (pg_catalog, information_schema: created by initdb).
 */
static void
check_relation_kind(Oid relid)
{
	char		relkind = get_rel_relkind(relid);

	if (relid < FirstNormalObjectId)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a system table", get_rel_name(relid)),
				 errdetail("Privacy tags apply to the tables of applications, not to the system catalogs.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errdetail("Privacy tags apply to columns of tables, partitioned tables and foreign tables."),
				 errhint("Tag the columns of the table the view or index is built on.")));
}

/* Is type (or the domain's base type) a date or timestamp? */
static bool
is_temporal_type(Oid typid)
{
	typid = getBaseType(typid);
	return typid == DATEOID || typid == TIMESTAMPOID || typid == TIMESTAMPTZOID;
}

/*
 * Check that column name of relid exists and holds a date or timestamp;
 * role says what the column is for ("anchor", "collected_at").
 */
static void
check_temporal_column(Oid relid, const char *column, const char *role,
					  const char *tagged)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			typid;

	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("%s column \"%s\" of relation \"%s\" does not exist",
						role, column, get_rel_name(relid)),
				 errdetail("The label of column \"%s\" names it.", tagged),
				 errhint("Name a date or timestamp column of the same table; write it in double quotes if it has capitals, spaces or quotes.")));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("%s column \"%s\" of relation \"%s\" is a system column",
						role, column, get_rel_name(relid)),
				 errhint("Name a date or timestamp column of the same table.")));
	typid = get_atttype(relid, attnum);
	if (!is_temporal_type(typid))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s column \"%s\" of relation \"%s\" is of type %s, not a date or timestamp",
						role, column, get_rel_name(relid), format_type_be(typid)),
				 errhint("Name a column of type date, timestamp or timestamp with time zone.")));
}

/*
 * Look a category up in privacy_tags.categories; returns false when it is
 * not there, else sets *special.
 */
static bool
lookup_category(const char *name, bool *special)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	bool		found = false;
	int			rc;

	values[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT special FROM privacy_tags.categories "
							   "WHERE name OPERATOR(pg_catalog.=) $1",
							   1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy_tags.categories: %s",
			 SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull);

		found = true;
		*special = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	return found;
}

/*
 * Every tagging-time check of a tag on column attnum of relid.  Raises an
 * error with a hint; returns the parsed tag.
 *
 * Checks that depend on the taxonomy are skipped while a dump is restored
 * (check_function_bodies = off, as pg_dump sets it), so that the order in
 * which pg_restore recreates categories and labels never matters.
 */
static void
check_tag(Oid relid, AttrNumber attnum, const char *label)
{
	PrivacyTag *tag = privacy_tag_parse_or_error(label);
	HeapTuple	atttup = column_tuple(relid, attnum);
	Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(atttup);
	const char *colname = pstrdup(NameStr(att->attname));
	bool		notnull = att->attnotnull;

	ReleaseSysCache(atttup);
	check_relation_kind(relid);

	if (check_function_bodies)
	{
		bool		special = false;

		if (!lookup_category(PT_CATEGORY(tag), &special))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("unknown privacy category \"%s\"", pt_echo(PT_CATEGORY(tag))),
					 errdetail("Column \"%s\" of relation \"%s\" was to be tagged with it.",
							   colname, get_rel_name(relid)),
					 errhint("Pick a category from privacy_tags.categories or add one with privacy_tags.add_category().")));
		if (special && tag->special == PT_SPECIAL_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("category \"%s\" is a special category of personal data and needs a special= condition",
							pt_echo(PT_CATEGORY(tag))),
					 errhint("Add the GDPR Art. 9(2) condition that allows the processing, e.g. special=explicit_consent.")));
		if (!special && tag->special != PT_SPECIAL_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("category \"%s\" is not a special category of personal data, but the tag gives special=%s",
							pt_echo(PT_CATEGORY(tag)), pt_special_names[tag->special]),
					 errhint("Remove the special= clause, or use a special category.")));
	}

	if (PT_HAS_RETAIN(tag))
	{
		if (tag->anchor_len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention window of column \"%s\" has no anchor column", colname),
					 errhint("Say when the window starts, e.g. retain=3 years after last_contact_at, naming a date or timestamp column of the table.")));
		check_temporal_column(relid, PT_ANCHOR(tag), "anchor", colname);
		if (tag->action == PT_ACTION_NULLIFY && notnull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" is NOT NULL and cannot be nullified on expiry", colname),
					 errhint("Use on_expiry=delete, or drop the NOT NULL constraint.")));
	}
	pfree(tag);
}

/* Parse a subject label or raise 22P02. */
void
parse_subject_or_error(const char *label, PtSubject *subject)
{
	PtError		err;

	if (!pt_parse_subject(label, strlen(label), subject, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid subject label: \"%s\"", pt_echo(label)),
				 errdetail("%s", err.detail),
				 err.hint ? errhint("%s", err.hint) : 0));
}

static void
check_subject(Oid relid, AttrNumber attnum, const char *label)
{
	PtSubject	subject;
	HeapTuple	atttup = column_tuple(relid, attnum);
	const char *colname = pstrdup(NameStr(((Form_pg_attribute) GETSTRUCT(atttup))->attname));

	ReleaseSysCache(atttup);
	check_relation_kind(relid);
	parse_subject_or_error(label, &subject);
	if (subject.collected_at[0] != '\0')
		check_temporal_column(relid, subject.collected_at, "collected_at", colname);
}

/* Labels go on columns only. */
static void
check_column_object(const ObjectAddress *object, const char *provider)
{
	if (object->classId != RelationRelationId || object->objectSubId <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("security label provider \"%s\" labels columns only", provider),
				 errhint("Write SECURITY LABEL FOR %s ON COLUMN table.column IS '...'.",
						 provider)));
}

/* Label hook of provider privacy_tags. */
static void
privacy_tags_relabel(const ObjectAddress *object, const char *seclabel)
{
	char	   *canonical = NULL;

	check_column_object(object, PT_TAG_PROVIDER);
	if (seclabel != NULL)
	{
		check_tag(object->objectId, object->objectSubId, seclabel);
		canonical = privacy_tag_to_cstring(privacy_tag_parse_or_error(seclabel));
	}
	/* an enforced table gets its trigger rewritten with the new windows */
	retention_refresh(object->objectId, object->objectSubId, canonical, false);
	CacheInvalidateRelcacheByRelid(object->objectId);
}

/* Label hook of provider privacy_tags_subject. */
static void
privacy_tags_subject_relabel(const ObjectAddress *object, const char *seclabel)
{
	check_column_object(object, PT_SUBJECT_PROVIDER);
	if (seclabel != NULL)
		check_subject(object->objectId, object->objectSubId, seclabel);
	retention_refresh(object->objectId, object->objectSubId, seclabel, true);
	CacheInvalidateRelcacheByRelid(object->objectId);
}

void
tagging_init(void)
{
	register_label_provider(PT_TAG_PROVIDER, privacy_tags_relabel);
	register_label_provider(PT_SUBJECT_PROVIDER, privacy_tags_subject_relabel);
}

/*
 * Resolve (rel, col) for the SQL functions: lock the table as SECURITY LABEL
 * does, check ownership, and find the column.
 */
static ObjectAddress
resolve_column(FunctionCallInfo fcinfo, const char *func)
{
	Oid			relid;
	char	   *col;
	AttrNumber	attnum;
	ObjectAddress addr;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: relation must not be NULL", func)));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: column name must not be NULL", func)));
	relid = PG_GETARG_OID(0);
	col = NameStr(*PG_GETARG_NAME(1));

	LockRelationOid(relid, ShareUpdateExclusiveLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	check_relation_kind(relid);
#if PG_VERSION_NUM >= 160000
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
#else
	if (!pg_class_ownercheck(relid, GetUserId()))
#endif
		aclcheck_error(ACLCHECK_NOT_OWNER,
					   get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));

	attnum = get_attnum(relid, col);
	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						col, get_rel_name(relid)),
				 errhint("Give the column name exactly as it is stored, without double quotes; see \\d %s.",
						 quote_identifier(get_rel_name(relid)))));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot tag system column \"%s\"", col)));
	ObjectAddressSubSet(addr, RelationRelationId, relid, attnum);
	return addr;
}

/* tag(rel, col, tag): tag a column, with the checks of SECURITY LABEL. */
PG_FUNCTION_INFO_V1(privacy_tags_tag);
Datum
privacy_tags_tag(PG_FUNCTION_ARGS)
{
	ObjectAddress addr = resolve_column(fcinfo, "tag");
	char	   *label;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tag: tag must not be NULL"),
				 errhint("Use privacy_tags.untag() to remove a tag.")));
	label = privacy_tag_to_cstring(PG_GETARG_PRIVACY_TAG_P(2));
	privacy_tags_relabel(&addr, label);
	SetSecurityLabel(&addr, PT_TAG_PROVIDER, label);
	PG_RETURN_VOID();
}

/* untag(rel, col): remove a column's tag; true if it had one. */
PG_FUNCTION_INFO_V1(privacy_tags_untag);
Datum
privacy_tags_untag(PG_FUNCTION_ARGS)
{
	ObjectAddress addr = resolve_column(fcinfo, "untag");
	bool		had = GetSecurityLabel(&addr, PT_TAG_PROVIDER) != NULL;

	privacy_tags_relabel(&addr, NULL);
	SetSecurityLabel(&addr, PT_TAG_PROVIDER, NULL);
	PG_RETURN_BOOL(had);
}

/* set_subject(rel, col, subject_type, collected_at): mark a subject key. */
PG_FUNCTION_INFO_V1(privacy_tags_set_subject);
Datum
privacy_tags_set_subject(PG_FUNCTION_ARGS)
{
	ObjectAddress addr = resolve_column(fcinfo, "set_subject");
	StringInfoData label;
	PtSubject	subject;
	char		quoted[2 * PT_MAX_IDENT + 3];

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("set_subject: subject type must not be NULL"),
				 errhint("Use privacy_tags.unset_subject() to remove a subject key.")));
	initStringInfo(&label);
	appendStringInfoString(&label, text_to_cstring(PG_GETARG_TEXT_PP(2)));
	/* the type alone must be a valid name, checked before adding a clause */
	parse_subject_or_error(label.data, &subject);
	if (strchr(label.data, ';') != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("set_subject: subject type must be a plain name"),
				 errhint("Give collected_at as the fourth argument.")));
	resetStringInfo(&label);
	appendStringInfoString(&label, subject.type);
	if (!PG_ARGISNULL(3))
	{
		pt_format_ident(NameStr(*PG_GETARG_NAME(3)), quoted, sizeof(quoted));
		appendStringInfo(&label, "; collected_at=%s", quoted);
	}
	privacy_tags_subject_relabel(&addr, label.data);
	SetSecurityLabel(&addr, PT_SUBJECT_PROVIDER, label.data);
	PG_RETURN_VOID();
}

/* unset_subject(rel, col): the column no longer identifies a subject. */
PG_FUNCTION_INFO_V1(privacy_tags_unset_subject);
Datum
privacy_tags_unset_subject(PG_FUNCTION_ARGS)
{
	ObjectAddress addr = resolve_column(fcinfo, "unset_subject");
	bool		had = GetSecurityLabel(&addr, PT_SUBJECT_PROVIDER) != NULL;

	privacy_tags_subject_relabel(&addr, NULL);
	SetSecurityLabel(&addr, PT_SUBJECT_PROVIDER, NULL);
	PG_RETURN_BOOL(had);
}

/* subject_label_type(label): the subject type of a subject-key label. */
PG_FUNCTION_INFO_V1(privacy_tags_subject_label_type);
Datum
privacy_tags_subject_label_type(PG_FUNCTION_ARGS)
{
	PtSubject	subject;

	parse_subject_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)), &subject);
	PG_RETURN_TEXT_P(cstring_to_text(subject.type));
}

/* subject_label_collected_at(label): its collected_at column, or NULL. */
PG_FUNCTION_INFO_V1(privacy_tags_subject_label_collected_at);
Datum
privacy_tags_subject_label_collected_at(PG_FUNCTION_ARGS)
{
	PtSubject	subject;
	Name		n;

	parse_subject_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)), &subject);
	if (subject.collected_at[0] == '\0')
		PG_RETURN_NULL();
	n = (Name) palloc0(NAMEDATALEN);
	strlcpy(NameStr(*n), subject.collected_at, NAMEDATALEN);
	PG_RETURN_NAME(n);
}
