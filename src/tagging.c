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

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_seclabel.h"
#if PG_VERSION_NUM < 140000
#include "catalog/indexing.h"	/* SecLabelObjectIndexId, in pg_seclabel.h from 14 */
#endif
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
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "citus.h"
#include "privacy_tag.h"
#include "privacy_tag_mask.h"
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
 * The domain of typid's domain chain that is declared NOT NULL, or
 * InvalidOid (a CHECK (VALUE IS NOT NULL) is not seen).
 */
static Oid
not_null_domain(Oid typid)
{
	for (;;)
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		Form_pg_type typ;
		Oid			base;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for type %u", typid);
		typ = (Form_pg_type) GETSTRUCT(tup);
		if (typ->typtype != TYPTYPE_DOMAIN)
		{
			ReleaseSysCache(tup);
			return InvalidOid;
		}
		if (typ->typnotnull)
		{
			ReleaseSysCache(tup);
			return typid;
		}
		base = typ->typbasetype;
		ReleaseSysCache(tup);
		typid = base;
	}
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
	bool		generated = att->attgenerated != '\0';
	Oid			typid = att->atttypid;
	int32		typmod = att->atttypmod;
	bool		masked = PT_MASK_KIND(tag) != PT_MASK_NULL;

	ReleaseSysCache(atttup);
	check_relation_kind(relid);

	if (generated)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot tag generated column \"%s\" of relation \"%s\"",
						colname, get_rel_name(relid)),
				 errdetail("A generated column is computed from other columns of its row; it cannot be erased or expire on its own."),
				 errhint("Tag the columns it is computed from: erasing or expiring them changes it too.")));

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
		/* with a mask, nullify writes the mask, not NULL */
		if (tag->action == PT_ACTION_NULLIFY && notnull && !masked)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" is NOT NULL and cannot be nullified on expiry", colname),
					 errhint("Use on_expiry=delete, give the tag a mask (e.g. mask=redact) that the row gets instead of NULL, or drop the NOT NULL constraint.")));
		if (tag->action == PT_ACTION_NULLIFY && !masked)
		{
			Oid			domain = not_null_domain(typid);

			if (OidIsValid(domain))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" is of domain %s, which forbids NULL, and cannot be nullified on expiry",
								colname, format_type_be(typid)),
						 errdetail("Domain %s is declared NOT NULL.", format_type_be(domain)),
						 errhint("Use on_expiry=delete, give the tag a mask (e.g. mask=redact) that the row gets instead of NULL, or give the column a type that allows NULL.")));
		}
	}
	pt_check_mask(tag, colname, typid, typmod);
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

/*
 * The key class of a subject-key column of type typid: its base type, except
 * that smallint, integer and bigint are one class, bigint.
 */
static Oid
subject_key_class(Oid typid)
{
	Oid			base = getBaseType(typid);

	if (base == INT2OID || base == INT4OID || base == INT8OID)
		return INT8OID;
	return base;
}

/* relation.column, the relation schema-qualified when it is not visible. */
static char *
column_display_name(Oid relid, const char *colname)
{
	const char *rel = get_rel_name(relid);

	if (!RelationIsVisible(relid))
		rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
	else
		rel = quote_identifier(rel);
	return psprintf("%s.%s", rel, quote_identifier(colname));
}

/* A subject-key column found in pg_seclabel. */
typedef struct SubjectKeyColumn
{
	Oid			relid;
	AttrNumber	attnum;
	Oid			typid;			/* the column's declared type */
	char	   *colname;
} SubjectKeyColumn;

/*
 * Find a key column of subject type subject_type, other than column attnum
 * of relid, whose key class is not other_than (InvalidOid: any class).  One
 * scan of pg_seclabel, in the order of its index (relation OID first), so
 * that the column found is always the same one.  Returns false when there
 * is none.
 */
static bool
find_subject_key(const char *subject_type, Oid relid, AttrNumber attnum,
				 Oid other_than, SubjectKeyColumn *found)
{
	Relation	seclabel = table_open(SecLabelRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(seclabel, SecLabelObjectIndexId, true,
										  NULL, 0, NULL);
	HeapTuple	tup;
	bool		result = false;

	while (!result && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		FormData_pg_seclabel *sl = (FormData_pg_seclabel *) GETSTRUCT(tup);
		bool		isnull;
		Datum		d;
		char	   *label;
		PtSubject	subject;
		PtError		err;
		HeapTuple	atttup;
		Form_pg_attribute att;

		if (sl->classoid != RelationRelationId || sl->objsubid <= 0 ||
			(sl->objoid == relid && sl->objsubid == attnum))
			continue;
		d = heap_getattr(tup, Anum_pg_seclabel_provider, RelationGetDescr(seclabel), &isnull);
		if (isnull || strcmp(TextDatumGetCString(d), PT_SUBJECT_PROVIDER) != 0)
			continue;
		d = heap_getattr(tup, Anum_pg_seclabel_label, RelationGetDescr(seclabel), &isnull);
		if (isnull)
			continue;
		label = TextDatumGetCString(d);
		if (!pt_parse_subject(label, strlen(label), &subject, &err) ||
			strcmp(subject.type, subject_type) != 0)
			continue;
		atttup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(sl->objoid),
								 Int16GetDatum(sl->objsubid));
		if (!HeapTupleIsValid(atttup))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(atttup);
		if (!att->attisdropped &&
			(!OidIsValid(other_than) || subject_key_class(att->atttypid) != other_than))
		{
			found->relid = sl->objoid;
			found->attnum = sl->objsubid;
			found->typid = att->atttypid;
			found->colname = pstrdup(NameStr(att->attname));
			result = true;
		}
		ReleaseSysCache(atttup);
	}
	systable_endscan(scan);
	table_close(seclabel, AccessShareLock);
	return result;
}

/*
 * A subject id is compared for equality to find the subject's rows: the
 * key column's type (through domains) must be a base type or an enum, not
 * an array, with a default btree operator class.
 */
static void
check_subject_key_type(Oid relid, const char *colname, Oid typid)
{
	Oid			base = getBaseType(typid);
	char		typtype = get_typtype(base);
	TypeCacheEntry *tc;

	if ((typtype != TYPTYPE_BASE && typtype != TYPTYPE_ENUM) || type_is_array(base))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("subject key column \"%s\" of relation \"%s\" is of type %s, which is not a scalar type",
						colname, get_rel_name(relid), format_type_be(typid)),
				 errdetail("A subject id is one value of a base type or an enum; composite, array, range and multirange types cannot hold one."),
				 errhint("Mark a column of a type with equality, such as the table's key.")));
	tc = lookup_type_cache(base, TYPECACHE_BTREE_OPFAMILY | TYPECACHE_EQ_OPR);
	if (!OidIsValid(tc->btree_opf) || !OidIsValid(tc->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("subject key column \"%s\" of relation \"%s\" is of type %s, which has no equality operator",
						colname, get_rel_name(relid), format_type_be(typid)),
				 errdetail("Subject ids are compared for equality to find a subject's rows; type %s has no default btree operator class.",
						   format_type_be(base)),
				 errhint("Mark a column of a type with equality, such as the table's key.")));
}

static void
check_subject(Oid relid, AttrNumber attnum, const char *label)
{
	PtSubject	subject;
	HeapTuple	atttup = column_tuple(relid, attnum);
	Form_pg_attribute att = (Form_pg_attribute) GETSTRUCT(atttup);
	const char *colname = pstrdup(NameStr(att->attname));
	Oid			typid = att->atttypid;
	SubjectKeyColumn other;

	ReleaseSysCache(atttup);
	check_relation_kind(relid);
	parse_subject_or_error(label, &subject);
	check_subject_key_type(relid, colname, typid);
	if (subject.collected_at[0] != '\0')
		check_temporal_column(relid, subject.collected_at, "collected_at", colname);

	/*
	 * All key columns of one subject type hold one kind of id.  Not skipped
	 * while a dump is restored: the labels were consistent when they were
	 * set, so they are in whatever order pg_restore sets them again.
	 */
	if (find_subject_key(subject.type, relid, attnum, subject_key_class(typid), &other))
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("subject key column \"%s\" of relation \"%s\" is of type %s, but key column %s of subject type \"%s\" is of type %s",
						colname, get_rel_name(relid), format_type_be(typid),
						column_display_name(other.relid, other.colname),
						subject.type, format_type_be(other.typid)),
				 errdetail("Subject ids are compared and stored in the type of the subject type's keys: smallint, integer and bigint keys go together, any other type only with itself (domains count as their base type)."),
				 errhint("All columns of one subject type hold the same kind of id; mark this column with another subject type, or change its type.")));
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

	/* a worker storing what the coordinator checked (see citus.c) */
	if (PtCitusPropagatedCommand())
		return;
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
	if (PtCitusPropagatedCommand())
		return;
	check_column_object(object, PT_SUBJECT_PROVIDER);
	if (seclabel != NULL)
		check_subject(object->objectId, object->objectSubId, seclabel);
	retention_refresh(object->objectId, object->objectSubId, seclabel, true);
	CacheInvalidateRelcacheByRelid(object->objectId);
}

/*
 * Set (label NULL: remove) the label of one column as SECURITY LABEL does:
 * the label hook's checks and retention trigger refresh, then the label.
 * The SQL functions and the rename follower (renames.c) all write here.
 */
void
tagging_set_label(Oid relid, AttrNumber attnum, const char *provider,
				  const char *label)
{
	ObjectAddress addr;

	ObjectAddressSubSet(addr, RelationRelationId, relid, attnum);
	if (strcmp(provider, PT_TAG_PROVIDER) == 0)
		privacy_tags_relabel(&addr, label);
	else if (strcmp(provider, PT_SUBJECT_PROVIDER) == 0)
		privacy_tags_subject_relabel(&addr, label);
	else
		elog(ERROR, "unknown label provider \"%s\"", provider);
	SetSecurityLabel(&addr, provider, label);
}

/*
 * tagging_set_label() for the SQL functions.  On a Citus table the label is
 * set by a SECURITY LABEL statement, which Citus copies to the workers'
 * definitions of the table in the same transaction (the label hooks run
 * the same way).
 */
static void
set_label_sql(Oid relid, AttrNumber attnum, const char *provider, const char *label)
{
	char	   *stmt;

	if (!PtCitusTable(relid))
	{
		tagging_set_label(relid, attnum, provider, label);
		return;
	}
	stmt = psprintf("SECURITY LABEL FOR %s ON COLUMN %s.%s IS %s", provider,
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   get_rel_name(relid)),
					quote_identifier(get_attname(relid, attnum, false)),
					label ? quote_literal_cstr(label) : "NULL");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(stmt, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not label a column of relation %u", relid);
	SPI_finish();
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
	set_label_sql(addr.objectId, addr.objectSubId, PT_TAG_PROVIDER, label);
	PG_RETURN_VOID();
}

/* untag(rel, col): remove a column's tag; true if it had one. */
PG_FUNCTION_INFO_V1(privacy_tags_untag);
Datum
privacy_tags_untag(PG_FUNCTION_ARGS)
{
	ObjectAddress addr = resolve_column(fcinfo, "untag");
	bool		had = GetSecurityLabel(&addr, PT_TAG_PROVIDER) != NULL;

	set_label_sql(addr.objectId, addr.objectSubId, PT_TAG_PROVIDER, NULL);
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
	set_label_sql(addr.objectId, addr.objectSubId, PT_SUBJECT_PROVIDER, label.data);
	PG_RETURN_VOID();
}

/* unset_subject(rel, col): the column no longer identifies a subject. */
PG_FUNCTION_INFO_V1(privacy_tags_unset_subject);
Datum
privacy_tags_unset_subject(PG_FUNCTION_ARGS)
{
	ObjectAddress addr = resolve_column(fcinfo, "unset_subject");
	bool		had = GetSecurityLabel(&addr, PT_SUBJECT_PROVIDER) != NULL;

	set_label_sql(addr.objectId, addr.objectSubId, PT_SUBJECT_PROVIDER, NULL);
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

/*
 * subject_key_type(subject_type): the type subject ids of that type are
 * normalised by (bigint for smallint, integer and bigint keys, else the base
 * type of the key columns), or NULL when no column has that subject type.
 */
PG_FUNCTION_INFO_V1(privacy_tags_subject_key_type);
Datum
privacy_tags_subject_key_type(PG_FUNCTION_ARGS)
{
	char	   *subject_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	SubjectKeyColumn key;

	if (!find_subject_key(subject_type, InvalidOid, 0, InvalidOid, &key))
		PG_RETURN_NULL();
	PG_RETURN_OID(subject_key_class(key.typid));
}
