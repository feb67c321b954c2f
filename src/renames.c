/*
 * renames.c
 *	  Labels that name columns follow ALTER TABLE ... RENAME COLUMN.
 *
 * The server keeps a label on its column across a rename (pg_seclabel is
 * keyed by attnum), but two labels name other columns of their table: a
 * tag's anchor ("retain=3 years after last_contact") and a subject key's
 * collected_at.  A ProcessUtility hook, after the rename is done, rewrites
 * every such label of the renamed table and of every inheritance child and
 * partition the rename reached, through the path tag() takes (the label
 * hook's checks, then the label), so that an enforced table's retention
 * trigger is rebuilt too.  The trigger's arguments name the columns, so a
 * renamed tagged column or subject key rebuilds it as well.
 *
 * The hook runs only in sessions that have loaded the library, like the
 * label providers themselves: see the README (session_preload_libraries).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_seclabel.h"
#if PG_VERSION_NUM < 140000
#include "catalog/indexing.h"	/* SecLabelObjectIndexId, in pg_seclabel.h from 14 */
#endif
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "privacy_tag.h"
#include "as_owner.h"
#include "renames.h"
#include "retention.h"
#include "tagging.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* One label of ours on a column of the renamed relation. */
typedef struct ColumnLabel
{
	AttrNumber	attnum;
	bool		subject;		/* provider privacy_tags_subject */
	char	   *label;
} ColumnLabel;

/* The labels of both our providers on the columns of relid. */
static List *
column_labels(Oid relid)
{
	Relation	seclabel = table_open(SecLabelRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *labels = NIL;

	ScanKeyInit(&keys[0], Anum_pg_seclabel_objoid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_seclabel_classoid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(RelationRelationId));
	scan = systable_beginscan(seclabel, SecLabelObjectIndexId, true, NULL, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		FormData_pg_seclabel *sl = (FormData_pg_seclabel *) GETSTRUCT(tup);
		bool		isnull;
		Datum		d;
		char	   *provider;
		ColumnLabel *cl;

		if (sl->objsubid <= 0)
			continue;
		d = heap_getattr(tup, Anum_pg_seclabel_provider, RelationGetDescr(seclabel), &isnull);
		if (isnull)
			continue;
		provider = TextDatumGetCString(d);
		if (strcmp(provider, PT_TAG_PROVIDER) != 0 && strcmp(provider, PT_SUBJECT_PROVIDER) != 0)
			continue;
		d = heap_getattr(tup, Anum_pg_seclabel_label, RelationGetDescr(seclabel), &isnull);
		if (isnull)
			continue;
		cl = palloc(sizeof(ColumnLabel));
		cl->attnum = (AttrNumber) sl->objsubid;
		cl->subject = strcmp(provider, PT_SUBJECT_PROVIDER) == 0;
		cl->label = TextDatumGetCString(d);
		labels = lappend(labels, cl);
	}
	systable_endscan(scan);
	table_close(seclabel, AccessShareLock);
	return labels;
}

/*
 * The label with column oldname, where it names it as its anchor or
 * collected_at, renamed to newname; NULL when the label does not name it.
 * Names compare as stored (case-sensitive, unquoted).
 */
static char *
renamed_label(const ColumnLabel *cl, const char *oldname, const char *newname)
{
	PtError		err;

	if (cl->subject)
	{
		PtSubject	subject;
		char		quoted[2 * PT_MAX_IDENT + 3];

		if (!pt_parse_subject(cl->label, strlen(cl->label), &subject, &err) ||
			strcmp(subject.collected_at, oldname) != 0)
			return NULL;
		pt_format_ident(newname, quoted, sizeof(quoted));
		return psprintf("%s; collected_at=%s", subject.type, quoted);
	}
	else
	{
		PtParsed	parsed;

		if (!pt_parse(cl->label, strlen(cl->label), &parsed, &err) ||
			!parsed.has_retain || strcmp(parsed.anchor, oldname) != 0)
			return NULL;
		parsed.anchor_len = strlcpy(parsed.anchor, newname, sizeof(parsed.anchor));
		return privacy_tag_to_cstring(privacy_tag_from_parsed(&parsed));
	}
}

/*
 * Column oldname of relid is now newname: rewrite the labels that name it,
 * and rebuild the retention trigger, whose arguments name the columns.
 */
static void
follow_rename_in(Oid relid, const char *oldname, const char *newname)
{
	List	   *labels = column_labels(relid);
	ListCell   *lc;
	bool		rewritten = false;

	if (labels == NIL)
		return;
	foreach(lc, labels)
	{
		ColumnLabel *cl = (ColumnLabel *) lfirst(lc);
		char	   *label = renamed_label(cl, oldname, newname);

		if (label == NULL)
			continue;
		tagging_set_label(relid, cl->attnum,
						  cl->subject ? PT_SUBJECT_PROVIDER : PT_TAG_PROVIDER, label);
		CommandCounterIncrement();
		rewritten = true;
	}
	/* attnum 0 and no label: rebuild from the labels as they are */
	if (!rewritten)
		retention_refresh(relid, 0, NULL, false);
}

/*
 * Declared links (privacy_tags.links, 1.2 on) name their columns: a link
 * from or to column oldname of relid names newname now.  The links table is
 * the extension's: the rewrite is an internal function, called as the
 * extension's owner.
 */
static void
follow_rename_in_links(Oid relid, const char *oldname, const char *newname)
{
	Oid			argtypes[4] = {REGCLASSOID, NAMEOID, NAMEOID, REGROLEOID};
	Datum		values[3];
	bool		isnull;
	List	   *fn = list_make2(makeString("privacy_tags"), makeString("_rename_link_columns"));

	if (!OidIsValid(LookupFuncName(fn, 4, argtypes, true)))
		return;
	values[0] = ObjectIdGetDatum(relid);
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(oldname));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(newname));
	(void) CallInternal("_rename_link_columns", 3, argtypes, values, NULL, &isnull);
}

/*
 * After ALTER TABLE rel RENAME [COLUMN] oldname TO newname: every table the
 * rename reached (rel and, without ONLY, its inheritance children and
 * partitions) has newname and no longer oldname.
 */
static void
follow_column_rename(const RangeVar *relation, bool recurse,
					 const char *oldname, const char *newname)
{
	Oid			relid;
	List	   *rels;
	ListCell   *lc;

	if (!OidIsValid(get_extension_oid("privacy_tags", true)))
		return;
	CommandCounterIncrement();	/* see the renamed attributes */
	relid = RangeVarGetRelid(relation, NoLock, true);	/* locked by the rename */
	if (!OidIsValid(relid))
		return;					/* IF EXISTS, and it did not */
	rels = recurse ? find_all_inheritors(relid, NoLock, NULL) : list_make1_oid(relid);
	foreach(lc, rels)
	{
		Oid			rel = lfirst_oid(lc);
		char		relkind = get_rel_relkind(rel);

		if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
			relkind != RELKIND_FOREIGN_TABLE)
			continue;
		if (get_attnum(rel, newname) == InvalidAttrNumber ||
			get_attnum(rel, oldname) != InvalidAttrNumber)
			continue;			/* the rename did not reach it */
		follow_rename_in_links(rel, oldname, newname);
		follow_rename_in(rel, oldname, newname);
	}
}

static void
privacy_tags_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
#if PG_VERSION_NUM >= 140000
							bool readOnlyTree,
#endif
							ProcessUtilityContext context, ParamListInfo params,
							QueryEnvironment *queryEnv, DestReceiver *dest,
							QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	RangeVar   *relation = NULL;
	bool		recurse = false;
	char	   *oldname = NULL;
	char	   *newname = NULL;

	/* what to follow, copied before the statement runs */
	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;

		if (stmt->renameType == OBJECT_COLUMN && stmt->relation != NULL &&
			(stmt->relationType == OBJECT_TABLE ||
			 stmt->relationType == OBJECT_FOREIGN_TABLE))
		{
			relation = copyObject(stmt->relation);
			recurse = stmt->relation->inh;
			oldname = pstrdup(stmt->subname);
			newname = pstrdup(stmt->newname);
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString,
#if PG_VERSION_NUM >= 140000
							readOnlyTree,
#endif
							context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString,
#if PG_VERSION_NUM >= 140000
								readOnlyTree,
#endif
								context, params, queryEnv, dest, qc);

	if (relation != NULL)
		follow_column_rename(relation, recurse, oldname, newname);
}

void
renames_init(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = privacy_tags_ProcessUtility;
}
