/*
 * purge.c
 *	  What purge() needs from C: whether the session's time zone keeps one
 *	  offset from UTC for ever (then adding days to a timestamp is exact, and
 *	  a window's cut-off is one constant), and the probes of its fast path.
 *
 * The probes.  Most calls of purge() find nothing, or nothing in most
 * columns: a scheduled purge runs over every tagged table, and between two
 * runs only a few have rows whose window has passed.  _purge_due() says,
 * for each column purge() would purge (in purge()'s order), whether any of
 * its rows is expired: one statement per table, that many
 * "(SELECT 1 FROM rel t WHERE <expired> [ORDER BY anchor] LIMIT 1) IS NOT
 * NULL" as its columns, run as the table's owner in a security-restricted
 * operation (RunAsOwner(), one role switch per owner), in a subtransaction
 * (a table whose probe fails is due, and purge() reports its failure as
 * always).  purge() then reports a column without expired rows as purged
 * of 0 rows, and builds, in a subtransaction, the statements of the
 * others only.
 *
 * What a probe finds is exactly what _purge_plan()'s "bound AND expired"
 * selects: anchor <= $hi AND (anchor <= $lo OR anchor::timestamptz +
 * window <= as_of), plus, for a nullify column, "not masked yet".  Where
 * the cut-off is exact (computed here as _purge_plan() computes it) $hi
 * and $lo are both that cut-off; otherwise they are the bounds between
 * which the exact test decides.  The cut-offs, as_of and the window are
 * the statement's parameters: its text, built once per table, holds
 * identifiers and the column's "not masked" condition only.  Where an
 * index starts with the anchor, "ORDER BY anchor" makes the generic plan
 * (whose estimate of "anchor <= $hi" knows no value) read that index from
 * its oldest entry, so that a probe that finds nothing reads no row; where
 * none does, the scan stops at the first expired row.
 *
 * Per backend, per tagged table: its purge columns, the probe's text and
 * its kept plan (SPI_prepare + SPI_keepplan), dropped by the table's
 * relcache invalidation; and the order of the tables in a purge of all,
 * read again only when an invalidation may have changed it (see
 * PurgeRelcacheInvalidate()).
 *
 * A column that cannot be probed (its anchor is missing or of another
 * type, a Citus table, a table the graph of a held subject type cannot
 * look up) is always due: purge() takes its usual path and reports what
 * it always reported.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_seclabel.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"
#include "parser/parse_func.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "as_owner.h"
#include "citus.h"
#include "privacy_tag.h"
#include "purge.h"
#include "tagging.h"

/* Whether the session's time zone has one fixed offset from UTC (UTC, Etc/GMT+3, '+02:00', ...). */
static bool
fixed_timezone(void)
{
	long int	gmtoff;

	return session_timezone != NULL && pg_get_timezone_offset(session_timezone, &gmtoff);
}

PG_FUNCTION_INFO_V1(privacy_tags_fixed_timezone);
Datum
privacy_tags_fixed_timezone(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(fixed_timezone());
}

/* One column of a purge. */
typedef struct PurgeColumn
{
	NameData	column;
	char	   *action;			/* delete, nullify */
	Oid			anchor_type;	/* the anchor's base type */
	Interval	window;
	int			probe;			/* its place in the probe's result, or -1: always due */
} PurgeColumn;

/* One table's columns, in purge()'s order, and its probe. */
typedef struct PurgeTable
{
	Oid			relid;
	Oid			owner;
	int			ncols;
	PurgeColumn *cols;
	int			nprobes;		/* columns the probe looks at */
	char	   *sql;			/* the probe, NULL without such columns */
	int			nargs;
	Oid		   *argtypes;
	SPIPlanPtr	plan;			/* prepared on first use, as the owner */
	char	   *name;			/* what its place in the order depends on: */
	char	   *fkeys;			/* its name, the foreign keys from and to it */
	bool		dead;			/* out of the cache: freed when no call runs */
	struct PurgeTable *next_dead;
	MemoryContext cxt;			/* all of the above */
} PurgeTable;

typedef struct PurgeTableRef
{
	Oid			relid;
	PurgeTable *table;
} PurgeTableRef;

static MemoryContext purge_cxt = NULL;
static HTAB *purge_tables = NULL;
static PurgeTable *purge_dead = NULL;
/* the tables of a purge of all, in purge()'s order */
static MemoryContext purge_order_cxt = NULL;
typedef struct PurgeOrderItem
{
	Oid			relid;
	char	   *name;
	char	   *fkeys;
} PurgeOrderItem;
static PurgeOrderItem *purge_order = NULL;
static int	purge_norder = 0;
static bool purge_order_valid = false;
/*
 * Relations invalidated since the order was read that are not in it: the
 * order is read again only if one of them has tags or foreign keys (a
 * table tagged for the first time, a foreign key on the way to a tagged
 * table); ANALYZE of any other table leaves it alone.
 */
#define PURGE_PENDING_MAX 64
static Oid	purge_pending[PURGE_PENDING_MAX];
static int	purge_npending = 0;
/*
 * Tables of the order invalidated since it was read (ANALYZE, a new index,
 * a changed tag): the order is read again only if a table's columns are
 * gone, or its name or foreign keys changed.
 */
static Oid	purge_dirty[PURGE_PENDING_MAX];
static int	purge_ndirty = 0;
static SPIPlanPtr purge_pending_plan = NULL;
/* invalidations so far (of the order alone), and calls of _purge_due() running */
static uint64 purge_generation = 0;
static uint64 purge_order_generation = 0;
static int	purge_busy = 0;

static void
purge_order_reset(void)
{
	purge_order_valid = false;
	purge_order_generation++;
	purge_npending = 0;
	purge_ndirty = 0;
}

static void
purge_kill(PurgeTable *t)
{
	t->dead = true;
	t->next_dead = purge_dead;
	purge_dead = t;
}

/*
 * A relcache invalidation (from the callback of privacy_tags.c): the
 * table's entry leaves the cache (freed when no call of _purge_due() uses
 * it).  The order of a purge of all depends on which tables have windowed
 * tags, their names and the foreign keys on the way to them: a table of
 * the order is checked at the next call (purge_check_dirty()), another one
 * only for tags or foreign keys of its own (purge_check_pending()); all
 * relations (InvalidOid), or too many, and the order is read again.
 */
void
PurgeRelcacheInvalidate(Oid relid)
{
	purge_generation++;
	if (relid == InvalidOid)
		purge_order_reset();
	else if (purge_order_valid)
	{
		bool		in_order = false;

		for (int i = 0; i < purge_norder && !in_order; i++)
			in_order = purge_order[i].relid == relid;
		if (purge_npending == PURGE_PENDING_MAX || purge_ndirty == PURGE_PENDING_MAX)
			purge_order_reset();
		else if (in_order)
			purge_dirty[purge_ndirty++] = relid;
		else
			purge_pending[purge_npending++] = relid;
	}
	if (purge_tables == NULL)
		return;
	if (relid == InvalidOid)
	{
		HASH_SEQ_STATUS status;
		PurgeTableRef *ref;

		hash_seq_init(&status, purge_tables);
		while ((ref = hash_seq_search(&status)) != NULL)
		{
			purge_kill(ref->table);
			hash_search(purge_tables, &ref->relid, HASH_REMOVE, NULL);
		}
	}
	else
	{
		PurgeTableRef *ref = hash_search(purge_tables, &relid, HASH_FIND, NULL);

		if (ref != NULL)
		{
			purge_kill(ref->table);
			hash_search(purge_tables, &relid, HASH_REMOVE, NULL);
		}
	}
}

/* Free what left the cache (no call of _purge_due() may be using it). */
static void
purge_sweep(void)
{
	while (purge_dead != NULL)
	{
		PurgeTable *t = purge_dead;

		purge_dead = t->next_dead;
		if (t->plan != NULL)
			SPI_freeplan(t->plan);
		MemoryContextDelete(t->cxt);
	}
}

static void
purge_cache_init(void)
{
	HASHCTL		ctl;

	if (purge_cxt == NULL)
	{
		purge_cxt = AllocSetContextCreate(CacheMemoryContext, "privacy_tags purge probes",
										  ALLOCSET_SMALL_SIZES);
		purge_order_cxt = AllocSetContextCreate(purge_cxt, "privacy_tags purge order",
												ALLOCSET_SMALL_SIZES);
	}
	if (purge_tables != NULL)
		return;
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(PurgeTableRef);
	ctl.hcxt = purge_cxt;
	purge_tables = hash_create("privacy_tags purge probes", 64, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* The text of a (relid, column) row's field as a C string in cxt, or NULL. */
static char *
row_text(HeapTuple tup, TupleDesc desc, int field, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, field, &isnull);

	if (isnull)
		return NULL;
	return MemoryContextStrdup(cxt, TextDatumGetCString(d));
}

/*
 * One row of _purge_columns(rel): a windowed column of a table, what its
 * probe needs, and what the table's place in the order depends on.
 */
typedef struct ColumnRow
{
	char	   *column;
	char	   *action;
	char	   *anchor;			/* NULL: none */
	Oid			anchor_type;	/* the anchor's base type; InvalidOid: no such column */
	bool		has_window;
	Interval	window;
	char	   *unmasked;		/* nullify: "not masked yet"; NULL otherwise */
	char	   *relation_name;	/* relation::text */
	char	   *foreign_keys;	/* "conrelid>confrelid,..." by constraint OID; NULL: none */
	bool		anchor_indexed; /* an index (of the table or a partition) starts with it */
} ColumnRow;

/* Rows first .. last of SPI_tuptable, the result of _purge_columns(). */
static ColumnRow *
rows_from_spi(uint64 first, uint64 last)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	ColumnRow  *rows = palloc0(sizeof(ColumnRow) * (last - first + 1));

	for (uint64 i = first; i <= last; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		ColumnRow  *r = &rows[i - first];
		bool		isnull;
		Datum		d;

		r->column = pstrdup(NameStr(*DatumGetName(SPI_getbinval(tup, desc, 2, &isnull))));
		r->action = row_text(tup, desc, 3, CurrentMemoryContext);
		r->anchor = row_text(tup, desc, 4, CurrentMemoryContext);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		r->anchor_type = isnull ? InvalidOid : DatumGetObjectId(d);
		d = SPI_getbinval(tup, desc, 6, &isnull);
		r->has_window = !isnull;
		if (!isnull)
			r->window = *DatumGetIntervalP(d);
		r->unmasked = row_text(tup, desc, 7, CurrentMemoryContext);
		r->relation_name = row_text(tup, desc, 8, CurrentMemoryContext);
		r->foreign_keys = row_text(tup, desc, 9, CurrentMemoryContext);
		d = SPI_getbinval(tup, desc, 10, &isnull);
		r->anchor_indexed = !isnull && DatumGetBool(d);
	}
	return rows;
}

/*
 * The rows of _purge_columns(rel) for one table, read from the catalogs in
 * C (what a session's first purge of a table would otherwise spend planning
 * that query): its labels from pg_seclabel, each parsed as a privacy_tag;
 * the columns with a window and an anchor, in purge()'s order (action,
 * column name); a partition's own tag only where its root has none for the
 * column.  _purge_table_columns() shows them, so that the tests compare
 * them with _purge_columns(rel).
 */
static int
column_row_cmp(const void *a, const void *b)
{
	const ColumnRow *x = a;
	const ColumnRow *y = b;
	int			c;

	/* (NULL actions last, as ORDER BY puts them) */
	if ((x->action == NULL) != (y->action == NULL))
		return x->action == NULL ? 1 : -1;
	if (x->action != NULL && (c = strcmp(x->action, y->action)) != 0)
		return c;
	return strcmp(x->column, y->column);
}

/*
 * The tagged columns of relid, one by one, from pg_seclabel: tag_scan_next()
 * gives each one's attribute (dropped ones left out; its syscache entry is
 * released by the next call or by tag_scan_end()) and its label.
 */
typedef struct TagScan
{
	Relation	seclabel;
	SysScanDesc scan;
	Oid			relid;
	HeapTuple	atttup;
} TagScan;

static void
tag_scan_begin(TagScan *s, Relation seclabel, Oid relid)
{
	ScanKeyData keys[2];

	ScanKeyInit(&keys[0], Anum_pg_seclabel_objoid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_seclabel_classoid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(RelationRelationId));
	s->seclabel = seclabel;
	s->relid = relid;
	s->atttup = NULL;
	s->scan = systable_beginscan(seclabel, SecLabelObjectIndexId, true, NULL, 2, keys);
}

static Form_pg_attribute
tag_scan_next(TagScan *s, char **label)
{
	HeapTuple	tup;

	if (s->atttup != NULL)
		ReleaseSysCache(s->atttup);
	s->atttup = NULL;
	while (HeapTupleIsValid(tup = systable_getnext(s->scan)))
	{
		FormData_pg_seclabel *sl = (FormData_pg_seclabel *) GETSTRUCT(tup);
		bool		isnull;
		Datum		d;

		if (sl->objsubid <= 0)
			continue;
		d = heap_getattr(tup, Anum_pg_seclabel_provider, RelationGetDescr(s->seclabel), &isnull);
		if (isnull || strcmp(TextDatumGetCString(d), PT_TAG_PROVIDER) != 0)
			continue;
		d = heap_getattr(tup, Anum_pg_seclabel_label, RelationGetDescr(s->seclabel), &isnull);
		if (isnull)
			continue;
		s->atttup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(s->relid), Int16GetDatum(sl->objsubid));
		if (!HeapTupleIsValid(s->atttup))
		{
			s->atttup = NULL;
			continue;
		}
		if (((Form_pg_attribute) GETSTRUCT(s->atttup))->attisdropped)
		{
			ReleaseSysCache(s->atttup);
			s->atttup = NULL;
			continue;
		}
		*label = TextDatumGetCString(d);
		return (Form_pg_attribute) GETSTRUCT(s->atttup);
	}
	return NULL;
}

static void
tag_scan_end(TagScan *s)
{
	if (s->atttup != NULL)
		ReleaseSysCache(s->atttup);
	s->atttup = NULL;
	systable_endscan(s->scan);
}

/* Whether relid has a tag (of any kind) on a column named colname. */
static bool
has_tag_on_column(Relation seclabel, Oid relid, const char *colname)
{
	TagScan		s;
	Form_pg_attribute att;
	char	   *label;
	bool		found = false;

	tag_scan_begin(&s, seclabel, relid);
	while (!found && (att = tag_scan_next(&s, &label)) != NULL)
		found = strcmp(NameStr(att->attname), colname) == 0;
	tag_scan_end(&s);
	return found;
}

/* The foreign keys from and to relid: "conrelid>confrelid", by constraint OID. */
typedef struct FkeyItem
{
	Oid			oid;
	Oid			conrelid;
	Oid			confrelid;
} FkeyItem;

static int
fkey_cmp(const void *a, const void *b)
{
	Oid			x = ((const FkeyItem *) a)->oid;
	Oid			y = ((const FkeyItem *) b)->oid;

	return x < y ? -1 : (x > y ? 1 : 0);
}

static char *
foreign_keys_of(Oid relid)
{
	Relation	conrel = table_open(ConstraintRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(conrel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	FkeyItem   *items = NULL;
	int			n = 0;
	int			size = 0;
	StringInfoData buf;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_constraint con = (Form_pg_constraint) GETSTRUCT(tup);

		if (con->contype != CONSTRAINT_FOREIGN ||
			(con->conrelid != relid && con->confrelid != relid))
			continue;
		if (n == size)
		{
			size = Max(8, size * 2);
			items = items ? repalloc(items, sizeof(FkeyItem) * size) : palloc(sizeof(FkeyItem) * size);
		}
		items[n].oid = con->oid;
		items[n].conrelid = con->conrelid;
		items[n].confrelid = con->confrelid;
		n++;
	}
	systable_endscan(scan);
	table_close(conrel, AccessShareLock);
	if (n == 0)
		return NULL;
	qsort(items, n, sizeof(FkeyItem), fkey_cmp);
	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%u>%u", i > 0 ? "," : "", items[i].conrelid, items[i].confrelid);
	return buf.data;
}

/* Whether an index of relid, or of a partition of it, starts with a column named anchor. */
static bool
anchor_indexed(Oid relid, const char *anchor)
{
	List	   *rels = find_all_inheritors(relid, NoLock, NULL);
	Relation	indrel = table_open(IndexRelationId, AccessShareLock);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, rels)
	{
		Oid			r = lfirst_oid(lc);
		AttrNumber	attnum;
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		if (found)
			break;
		/* (partitions only, as pg_partition_tree(): not children by inheritance) */
		if (r != relid && !get_rel_relispartition(r))
			continue;
		attnum = get_attnum(r, anchor);
		if (attnum == InvalidAttrNumber)
			continue;
		ScanKeyInit(&key, Anum_pg_index_indrelid, BTEqualStrategyNumber, F_OIDEQ,
					ObjectIdGetDatum(r));
		scan = systable_beginscan(indrel, IndexIndrelidIndexId, true, NULL, 1, &key);
		while (!found && HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_index ind = (Form_pg_index) GETSTRUCT(tup);

			found = ind->indnatts > 0 && ind->indkey.values[0] == attnum;
		}
		systable_endscan(scan);
	}
	table_close(indrel, AccessShareLock);
	return found;
}

/* privacy_tags._unmasked(rel, col, tag): a nullify column's "not masked yet". */
static char *
unmasked_of(Oid relid, const char *column, PrivacyTag *tag)
{
	static Oid	fn = InvalidOid;
	FmgrInfo	flinfo;
	NameData	col;
	Datum		result;
	LOCAL_FCINFO(fcinfo, 3);

	/* the usual mask, NULL: what _unmasked() says of it, without calling it */
	if (PT_MASK_KIND(tag) == PT_MASK_NULL)
		return psprintf("t.%s IS NOT NULL", quote_identifier(column));
	if (!OidIsValid(fn) || !SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(fn)))
	{
		Oid			nsp = get_namespace_oid("privacy_tags", false);
		Oid			tagtype = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											  CStringGetDatum("privacy_tag"),
											  ObjectIdGetDatum(nsp));
		Oid			argtypes[3] = {REGCLASSOID, NAMEOID, tagtype};

		fn = LookupFuncName(list_make2(makeString("privacy_tags"), makeString("_unmasked")),
							3, argtypes, false);
	}
	namestrcpy(&col, column);
	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 3, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(relid);
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = NameGetDatum(&col);
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = PointerGetDatum(tag);
	fcinfo->args[2].isnull = false;
	result = FunctionCallInvoke(fcinfo);
	if (fcinfo->isnull)
		return NULL;
	return TextDatumGetCString(result);
}

static ColumnRow *
columns_of_table(Oid relid, int *n)
{
	char		relkind = get_rel_relkind(relid);
	Oid			root = InvalidOid;
	Relation	seclabel;
	TagScan		s;
	Form_pg_attribute att;
	char	   *label;
	ColumnRow  *rows = NULL;
	int			nrows = 0;
	int			size = 0;
	char	   *relation_name;
	char	   *fkeys;

	*n = 0;
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_FOREIGN_TABLE)
		return NULL;
	if (get_rel_relispartition(relid))
	{
		List	   *ancestors = get_partition_ancestors(relid);

		if (ancestors != NIL)
			root = llast_oid(ancestors);
	}
	seclabel = table_open(SecLabelRelationId, AccessShareLock);
	tag_scan_begin(&s, seclabel, relid);
	while ((att = tag_scan_next(&s, &label)) != NULL)
	{
		PrivacyTag *tag;
		ColumnRow  *r;
		AttrNumber	anchor_attnum;

		tag = privacy_tag_parse_or_error(label);
		if (!PT_HAS_RETAIN(tag) || tag->anchor_len == 0 ||
			(OidIsValid(root) && has_tag_on_column(seclabel, root, NameStr(att->attname))))
			continue;
		if (nrows == size)
		{
			size = Max(4, size * 2);
			rows = rows ? repalloc(rows, sizeof(ColumnRow) * size) : palloc(sizeof(ColumnRow) * size);
		}
		r = &rows[nrows++];
		memset(r, 0, sizeof(ColumnRow));
		r->column = pstrdup(NameStr(att->attname));
		r->action = (tag->action == PT_ACTION_NONE || tag->action >= PT_ACTION_COUNT) ? NULL :
			pstrdup(pt_action_names[tag->action]);
		r->anchor = pnstrdup(PT_ANCHOR(tag), tag->anchor_len);
		anchor_attnum = get_attnum(relid, r->anchor);
		r->anchor_type = anchor_attnum == InvalidAttrNumber ? InvalidOid :
			getBaseType(get_atttype(relid, anchor_attnum));
		r->has_window = true;
		r->window.month = tag->months;
		r->window.day = tag->days;
		r->window.time = tag->usecs;
		if (r->action != NULL && strcmp(r->action, "nullify") == 0 &&
			(r->anchor_type == DATEOID || r->anchor_type == TIMESTAMPOID ||
			 r->anchor_type == TIMESTAMPTZOID))
			r->unmasked = unmasked_of(relid, r->column, tag);
	}
	tag_scan_end(&s);
	table_close(seclabel, AccessShareLock);
	if (nrows == 0)
		return NULL;
	qsort(rows, nrows, sizeof(ColumnRow), column_row_cmp);
	relation_name = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
	fkeys = foreign_keys_of(relid);
	for (int i = 0; i < nrows; i++)
	{
		rows[i].relation_name = relation_name;
		rows[i].foreign_keys = fkeys;
		rows[i].anchor_indexed = anchor_indexed(relid, rows[i].anchor);
	}
	*n = nrows;
	return rows;
}

/*
 * _purge_table_columns(rel): the rows of _purge_columns(rel), as the fast
 * path reads them (from the catalogs, in C).
 */
PG_FUNCTION_INFO_V1(privacy_tags_purge_table_columns);
Datum
privacy_tags_purge_table_columns(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	MemoryContext per_query;
	Tuplestorestate *store = MaterializedResult(fcinfo, &tupdesc, &per_query);
	int			n;
	ColumnRow  *rows = columns_of_table(relid, &n);

	for (int i = 0; i < n; i++)
	{
		ColumnRow  *r = &rows[i];
		Datum		values[10];
		bool		nulls[10] = {false};
		NameData	col;
		NameData	anc;

		namestrcpy(&col, r->column);
		namestrcpy(&anc, r->anchor);
		values[0] = ObjectIdGetDatum(relid);
		values[1] = NameGetDatum(&col);
		nulls[2] = r->action == NULL;
		values[2] = r->action ? CStringGetTextDatum(r->action) : (Datum) 0;
		values[3] = NameGetDatum(&anc);
		nulls[4] = !OidIsValid(r->anchor_type);
		values[4] = ObjectIdGetDatum(r->anchor_type);
		values[5] = IntervalPGetDatum(&r->window);
		nulls[6] = r->unmasked == NULL;
		values[6] = r->unmasked ? CStringGetTextDatum(r->unmasked) : (Datum) 0;
		values[7] = CStringGetTextDatum(r->relation_name);
		nulls[8] = r->foreign_keys == NULL;
		values[8] = r->foreign_keys ? CStringGetTextDatum(r->foreign_keys) : (Datum) 0;
		values[9] = BoolGetDatum(r->anchor_indexed);
		tuplestore_putvalues(store, tupdesc, values, nulls);
	}
	return (Datum) 0;
}

/* Whether relid has a tagged column with a retention window. */
static bool
has_retention_column(Oid relid)
{
	Relation	seclabel = table_open(SecLabelRelationId, AccessShareLock);
	TagScan		s;
	char	   *label;
	bool		found = false;

	tag_scan_begin(&s, seclabel, relid);
	while (!found && tag_scan_next(&s, &label) != NULL)
		found = PT_HAS_RETAIN(privacy_tag_parse_or_error(label));
	tag_scan_end(&s);
	table_close(seclabel, AccessShareLock);
	return found;
}

/*
 * _check_purge_target(fn, rel): rel, the table of purge(rel), run_purge(rel)
 * or purge_batch(rel), is a table with a retention window (the checks of
 * _check_table() and then that one; in C, so that a session's first purge
 * plans no query for them).
 */
PG_FUNCTION_INFO_V1(privacy_tags_check_purge_target);
Datum
privacy_tags_check_purge_target(PG_FUNCTION_ARGS)
{
	const char *fn = PG_ARGISNULL(0) ? "<NULL>" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			relid;
	char		relkind;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: relation must not be NULL", fn)));
	relid = PG_GETARG_OID(1);
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE &&
		relkind != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table",
						DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)))),
				 errhint("Retention is enforced on tables, partitioned tables and foreign tables.")));
	if (!has_retention_column(relid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation \"%s\" has no column with a retention window",
						DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)))),
				 errhint("Tag a column with retain=<interval> after <column> first.")));
	PG_RETURN_VOID();
}

/* A table's entry from its rows of _purge_columns() (or columns_of_table()). */
static PurgeTable *
purge_table_build(Oid relid, ColumnRow *rows, int nrows)
{
	/* (a child of the cache's context once built: an error leaves nothing there) */
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "privacy_tags purge table",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	PurgeTable *t = palloc0(sizeof(PurgeTable));
	bool		unprobed = PtCitusTable(relid);	/* (a Citus table: see _purge_plan()) */
	StringInfoData sql;
	char	   *relname = get_rel_name(relid);
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));
	HeapTuple	reltup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

	t->cxt = cxt;
	t->relid = relid;
	/* (a table dropped meanwhile: no probe, purge() reports it as always) */
	if (HeapTupleIsValid(reltup))
	{
		t->owner = ((Form_pg_class) GETSTRUCT(reltup))->relowner;
		ReleaseSysCache(reltup);
	}
	if (relname == NULL || nspname == NULL || !OidIsValid(t->owner))
		unprobed = true;
	else
		relname = quote_qualified_identifier(nspname, relname);
	t->ncols = nrows;
	t->name = pstrdup(rows[0].relation_name ? rows[0].relation_name : "");
	t->fkeys = pstrdup(rows[0].foreign_keys ? rows[0].foreign_keys : "");
	t->cols = palloc0(sizeof(PurgeColumn) * t->ncols);
	t->argtypes = palloc(sizeof(Oid) * (1 + 3 * t->ncols));
	t->argtypes[0] = TIMESTAMPTZOID;
	t->nargs = 1;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < t->ncols; i++)
	{
		ColumnRow  *r = &rows[i];
		PurgeColumn *c = &t->cols[i];
		const char *anc;

		namestrcpy(&c->column, r->column);
		c->action = pstrdup(r->action ? r->action : "");
		c->anchor_type = r->anchor_type;
		if (r->has_window)
			c->window = r->window;
		c->probe = -1;
		/* what _purge_plan() reports as a problem, or handles otherwise */
		if (unprobed || !r->has_window || r->anchor == NULL ||
			(c->anchor_type != DATEOID && c->anchor_type != TIMESTAMPOID &&
			 c->anchor_type != TIMESTAMPTZOID))
			continue;
		c->probe = t->nprobes++;
		anc = quote_identifier(r->anchor);
		if (c->probe > 0)
			appendStringInfoString(&sql, ", ");
		appendStringInfo(&sql,
						 "(SELECT 1 FROM %s t WHERE t.%s OPERATOR(pg_catalog.<=) $%d "
						 "AND (t.%s OPERATOR(pg_catalog.<=) $%d "
						 "OR (t.%s::pg_catalog.timestamptz OPERATOR(pg_catalog.+) $%d) OPERATOR(pg_catalog.<=) $1)"
						 "%s%s%s%s%s LIMIT 1) IS NOT NULL",
						 relname, anc, t->nargs + 1, anc, t->nargs + 2, anc, t->nargs + 3,
						 r->unmasked ? " AND (" : "", r->unmasked ? r->unmasked : "",
						 r->unmasked ? ")" : "",
						 r->anchor_indexed ? " ORDER BY t." : "", r->anchor_indexed ? anc : "");
		t->argtypes[t->nargs] = c->anchor_type;
		t->argtypes[t->nargs + 1] = c->anchor_type;
		t->argtypes[t->nargs + 2] = INTERVALOID;
		t->nargs += 3;
	}
	if (t->nprobes > 0)
		t->sql = sql.data;
	MemoryContextSwitchTo(old);
	MemoryContextSetParent(cxt, purge_cxt);
	return t;
}

/*
 * The cut-offs of a column as of as_of, as _purge_plan() computes them:
 * *hi and *lo, values of the anchor's type, both the exact cut-off where
 * one constant says it; otherwise anchors up to *lo are expired, anchors
 * after *hi are not, and the exact test decides in between.
 */
static void
column_bounds(PurgeColumn *c, TimestampTz as_of, bool fixed, Datum *hi, Datum *lo)
{
	Interval	four_days = {0};
	Interval	three_days = {0};
	Datum		asof = TimestampTzGetDatum(as_of);
	Datum		win = IntervalPGetDatum(&c->window);
	Datum		lo_ts;
	Datum		hi_ts;

	four_days.day = 4;
	three_days.day = 3;
	/* (as_of - interval '4 days') - window, as_of - window + interval '3 days' */
	lo_ts = DirectFunctionCall2(timestamptz_mi_interval,
								DirectFunctionCall2(timestamptz_mi_interval, asof,
													IntervalPGetDatum(&four_days)),
								win);
	hi_ts = DirectFunctionCall2(timestamptz_pl_interval,
								DirectFunctionCall2(timestamptz_mi_interval, asof, win),
								IntervalPGetDatum(&three_days));
	if (c->anchor_type == DATEOID)
	{
		DateADT		lo_d = DatumGetDateADT(DirectFunctionCall1(timestamptz_date, lo_ts));
		DateADT		hi_d = DatumGetDateADT(DirectFunctionCall1(timestamptz_date, hi_ts));

		*lo = DateADTGetDatum(lo_d);
		*hi = DateADTGetDatum(hi_d);
		if (!DATE_NOT_FINITE(lo_d) && !DATE_NOT_FINITE(hi_d))
		{
			/* the last date in between that is expired, when none before it is not */
			DateADT		cut = lo_d;
			bool		gap = false;
			bool		exact = true;

			for (DateADT d = lo_d + 1; d <= hi_d; d++)
			{
				Datum		end = DirectFunctionCall2(timestamptz_pl_interval,
													  DirectFunctionCall1(date_timestamptz,
																		  DateADTGetDatum(d)),
													  win);

				if (DatumGetBool(DirectFunctionCall2(timestamp_le, end, asof)))
				{
					exact = exact && !gap;
					cut = d;
				}
				else
					gap = true;
			}
			if (exact)
				*lo = *hi = DateADTGetDatum(cut);
		}
		return;
	}
	if (c->window.month == 0 && !TIMESTAMP_NOT_FINITE(as_of) &&
		(fixed || (c->anchor_type == TIMESTAMPTZOID && c->window.day == 0)))
		lo_ts = hi_ts = DirectFunctionCall2(timestamptz_mi_interval, asof, win);
	if (c->anchor_type == TIMESTAMPOID)
	{
		*lo = DirectFunctionCall1(timestamptz_timestamp, lo_ts);
		*hi = DirectFunctionCall1(timestamptz_timestamp, hi_ts);
	}
	else
	{
		*lo = lo_ts;
		*hi = hi_ts;
	}
}

/* One table of a call: its entry, the probe's parameters, what it found. */
typedef struct ProbeCall
{
	PurgeTable *table;
	Datum	   *values;
	bool	   *due;			/* per probed column */
	bool		done;
} ProbeCall;

typedef struct ProbeGroup
{
	ProbeCall **calls;
	int			ncalls;
} ProbeGroup;

/* The probes of a group of tables of one owner, as that owner (RunAsOwner()). */
static void
run_probes(void *arg)
{
	ProbeGroup *g = arg;

	for (int i = 0; i < g->ncalls; i++)
	{
		ProbeCall  *pc = g->calls[i];
		PurgeTable *t = pc->table;
		int			rc;

		if (t->plan == NULL)
		{
			/* (checked as every statement run as an owner: see OwnerPrepare()) */
			SPIPlanPtr	plan = OwnerPrepareCursor(t->sql, t->nargs, t->argtypes,
												  CURSOR_OPT_GENERIC_PLAN);

			if (plan == NULL)
				elog(ERROR, "could not prepare the purge probe of relation %u: %s",
					 t->relid, SPI_result_code_string(SPI_result));
			SPI_keepplan(plan);
			t->plan = plan;
		}
		rc = OwnerExecutePlan(t->plan, t->sql, pc->values, NULL, false, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1 ||
			SPI_tuptable->tupdesc->natts != t->nprobes)
			elog(ERROR, "purge probe of relation %u returned no result", t->relid);
		for (int j = 0; j < t->nprobes; j++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
										  j + 1, &isnull);

			pc->due[j] = isnull || DatumGetBool(d);
		}
		SPI_freetuptable(SPI_tuptable);
		pc->done = true;
	}
}

/*
 * Run the probes of a group of one owner's tables, in a subtransaction: a
 * table whose probe fails (its owner's code, a dropped table) leaves its
 * columns due, and purge() reports its failure as always.  A failed group
 * of several tables is run again table by table.
 */
static void
run_group(Oid owner, ProbeCall **calls, int ncalls)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner resowner = CurrentResourceOwner;
	volatile bool failed = false;
	ProbeGroup	g;

	g.calls = calls;
	g.ncalls = ncalls;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		RunAsOwner(owner, run_probes, &g);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = resowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		/* a cancel is the caller's, as in purge()'s own handler */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(edata);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = resowner;
		failed = true;
	}
	PG_END_TRY();
	if (!failed)
		return;
	for (int i = 0; i < ncalls; i++)
		calls[i]->done = false;
	if (ncalls > 1)
		for (int i = 0; i < ncalls; i++)
			run_group(owner, &calls[i], 1);
}

/* Keep the order of a purge of all, unless it changed while it was read. */
static void
purge_order_keep(PurgeTable **tables, int n, uint64 order_generation)
{
	if (purge_busy != 1 || order_generation != purge_order_generation)
		return;
	MemoryContextReset(purge_order_cxt);
	purge_order = MemoryContextAlloc(purge_order_cxt, sizeof(PurgeOrderItem) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		purge_order[i].relid = tables[i]->relid;
		purge_order[i].name = MemoryContextStrdup(purge_order_cxt, tables[i]->name);
		purge_order[i].fkeys = MemoryContextStrdup(purge_order_cxt, tables[i]->fkeys);
	}
	purge_norder = n;
	purge_order_valid = true;
	purge_npending = 0;
}

/*
 * Read the columns of rel (from the catalogs), or with rel InvalidOid
 * _purge_columns(NULL), and return the entries of its tables in order
 * (*n of them); with rel NULL, the order of a purge of all becomes the
 * cached one.  Entries found valid in the cache are kept.
 */
static PurgeTable **
purge_tables_read(Oid rel, int *n)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(rel)};
	MemoryContext caller = CurrentMemoryContext;
	uint64		generation = purge_generation;
	uint64		order_generation = purge_order_generation;
	PurgeTable **tables;
	int			ntables = 0;
	uint64		first = 0;
	int			rc;

	/* one table: its rows from the catalogs, in C (no query to plan) */
	if (rel != InvalidOid)
	{
		int			nrows;
		ColumnRow  *rows = columns_of_table(rel, &nrows);
		PurgeTable *t;

		tables = palloc(sizeof(PurgeTable *));
		*n = 0;
		if (nrows == 0)
			return tables;
		t = purge_table_build(rel, rows, nrows);
		if (generation == purge_generation)
		{
			PurgeTableRef *ref = hash_search(purge_tables, &rel, HASH_ENTER, NULL);

			ref->table = t;
		}
		else
			purge_kill(t);		/* (for this call only) */
		tables[0] = t;
		*n = 1;
		return tables;
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT relation::pg_catalog.oid, column_name, action, anchor::pg_catalog.text, "
							   "anchor_type::pg_catalog.oid, retention, unmasked, relation_name, foreign_keys, "
							   "anchor_indexed "
							   "FROM privacy_tags._purge_columns($1)",
							   1, argtypes, values, rel == InvalidOid ? "n" : NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the columns to purge");
	tables = MemoryContextAlloc(caller, sizeof(PurgeTable *) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		Oid			next = InvalidOid;

		if (i + 1 < SPI_processed)
			next = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i + 1],
												  SPI_tuptable->tupdesc, 1, &isnull));
		if (next == relid)
			continue;
		/* rows first .. i are relid's */
		{
			PurgeTableRef *ref = NULL;

			if (generation == purge_generation)
				ref = hash_search(purge_tables, &relid, HASH_FIND, NULL);
			if (ref != NULL)
				tables[ntables] = ref->table;
			else
			{
				PurgeTable *t = purge_table_build(relid, rows_from_spi(first, i),
												  (int) (i - first + 1));

				if (generation == purge_generation)
				{
					ref = hash_search(purge_tables, &relid, HASH_ENTER, NULL);
					ref->table = t;
				}
				else
					purge_kill(t);	/* (for this call only) */
				tables[ntables] = t;
			}
			ntables++;
		}
		first = i + 1;
	}
	SPI_finish();
	if (rel == InvalidOid)
		purge_order_keep(tables, ntables, order_generation);
	*n = ntables;
	return tables;
}

/*
 * The tables of a purge of all in order, from _purge_order() (one row a
 * table), with the entries of the cache where they are valid and
 * _purge_columns(rel) for the others: after an invalidation that changed
 * the order, most tables' entries are still good.
 */
static PurgeTable **
purge_tables_reorder(int *n)
{
	MemoryContext caller = CurrentMemoryContext;
	uint64		order_generation = purge_order_generation;
	PurgeTable **tables;
	Oid		   *order;
	int			ntables;
	int			found = 0;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute("SELECT relation::pg_catalog.oid FROM privacy_tags._purge_order() relation", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the order of a purge");
	ntables = (int) SPI_processed;
	order = MemoryContextAlloc(caller, sizeof(Oid) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
	{
		bool		isnull;

		order[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												  SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	tables = palloc(sizeof(PurgeTable *) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
	{
		PurgeTableRef *ref = hash_search(purge_tables, &order[i], HASH_FIND, NULL);
		int			one;

		if (ref != NULL)
			tables[found++] = ref->table;
		else
		{
			PurgeTable **t = purge_tables_read(order[i], &one);

			/* (a table whose columns went meanwhile: not this time) */
			if (one == 1)
				tables[found++] = t[0];
		}
	}
	/* (the order is kept when every table is in it, else read again next time) */
	if (found == ntables)
		purge_order_keep(tables, ntables, order_generation);
	*n = found;
	return tables;
}


/*
 * Whether a relation invalidated since the order was read, and not in it,
 * has tags or foreign keys of its own: then the order is read again.
 */
static void
purge_check_pending(void)
{
	Oid			pending[PURGE_PENDING_MAX];
	int			npending = purge_npending;
	Oid			argtypes[1] = {OIDARRAYOID};
	Datum		values[1];
	Datum	   *elems = palloc(sizeof(Datum) * npending);
	bool		isnull;
	bool		relevant;
	int			rc;

	memcpy(pending, purge_pending, sizeof(Oid) * npending);
	purge_npending = 0;			/* (what arrives meanwhile waits for the next call) */
	for (int i = 0; i < npending; i++)
		elems[i] = ObjectIdGetDatum(pending[i]);
	values[0] = PointerGetDatum(construct_array(elems, npending, OIDOID, sizeof(Oid), true,
												TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (purge_pending_plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare("SELECT EXISTS (SELECT FROM pg_catalog.pg_seclabel s "
									   "WHERE s.objoid OPERATOR(pg_catalog.=) ANY ($1) "
									   "AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
									   "AND s.provider OPERATOR(pg_catalog.=) 'privacy_tags') "
									   "OR EXISTS (SELECT FROM pg_catalog.pg_constraint f "
									   "WHERE f.conrelid OPERATOR(pg_catalog.=) ANY ($1) "
									   "AND f.contype OPERATOR(pg_catalog.=) 'f')",
									   1, argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare the check of invalidated relations");
		SPI_keepplan(plan);
		purge_pending_plan = plan;
	}
	rc = SPI_execute_plan(purge_pending_plan, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not check the invalidated relations");
	relevant = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (isnull || relevant)
		purge_order_reset();
}

/*
 * The tables of the order invalidated since it was read: their entries
 * are read again, and the order with them if one of them left the purge
 * or has another name or other foreign keys now.
 */
static void
purge_check_dirty(void)
{
	Oid			dirty[PURGE_PENDING_MAX];
	int			ndirty = purge_ndirty;

	memcpy(dirty, purge_dirty, sizeof(Oid) * ndirty);
	purge_ndirty = 0;
	for (int i = 0; i < ndirty && purge_order_valid; i++)
	{
		PurgeOrderItem *item = NULL;
		PurgeTable **t;
		int			one;

		for (int j = 0; j < purge_norder && item == NULL; j++)
			if (purge_order[j].relid == dirty[i])
				item = &purge_order[j];
		if (item == NULL)
			continue;
		t = purge_tables_read(dirty[i], &one);
		if (one != 1 || strcmp(t[0]->name, item->name) != 0 ||
			strcmp(t[0]->fkeys, item->fkeys) != 0)
			purge_order_reset();
	}
}

/* The entries of the tables of a purge of rel (InvalidOid: of all), in order. */
static PurgeTable **
purge_tables_get(Oid rel, int *n)
{
	PurgeTable **tables;

	if (rel != InvalidOid)
	{
		PurgeTableRef *ref = hash_search(purge_tables, &rel, HASH_FIND, NULL);

		if (ref == NULL)
			return purge_tables_read(rel, n);
		tables = palloc(sizeof(PurgeTable *));
		tables[0] = ref->table;
		*n = 1;
		return tables;
	}
	if (purge_order_valid && purge_ndirty > 0)
		purge_check_dirty();
	if (purge_order_valid && purge_npending > 0)
		purge_check_pending();
	if (!purge_order_valid)
	{
		/* most tables cached: their order alone; else all in one query */
		if (purge_norder > 0 && hash_get_num_entries(purge_tables) >= purge_norder / 2)
			return purge_tables_reorder(n);
		return purge_tables_read(InvalidOid, n);
	}
	tables = palloc(sizeof(PurgeTable *) * Max(purge_norder, 1));
	for (int i = 0; i < purge_norder; i++)
	{
		PurgeTableRef *ref = hash_search(purge_tables, &purge_order[i].relid, HASH_FIND, NULL);

		if (ref == NULL)
			return purge_tables_read(InvalidOid, n);
		tables[i] = ref->table;
	}
	*n = purge_norder;
	return tables;
}

static bool
oid_in(Oid relid, Datum *oids, int n)
{
	for (int i = 0; i < n; i++)
		if (DatumGetObjectId(oids[i]) == relid)
			return true;
	return false;
}

/*
 * _purge_due(rel, as_of, unprobed): each column purge(rel, as_of) would
 * purge, in its order, with whether any of its rows is expired (due);
 * always due: the columns of the tables of unprobed and those no probe
 * can look at.
 */
PG_FUNCTION_INFO_V1(privacy_tags_purge_due);
Datum
privacy_tags_purge_due(PG_FUNCTION_ARGS)
{
	Oid			rel = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	TimestampTz as_of;
	Datum	   *unprobed = NULL;
	int			nunprobed = 0;
	TupleDesc	tupdesc;
	MemoryContext per_query;
	Tuplestorestate *store;
	bool		fixed = fixed_timezone();

	if (PG_ARGISNULL(1))
		elog(ERROR, "_purge_due: as_of must not be NULL");
	as_of = PG_GETARG_TIMESTAMPTZ(1);
	if (!PG_ARGISNULL(2))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), REGCLASSOID, sizeof(Oid), true,
						  TYPALIGN_INT, &unprobed, NULL, &nunprobed);
	store = MaterializedResult(fcinfo, &tupdesc, &per_query);

	purge_cache_init();
	if (purge_busy == 0)
		purge_sweep();
	purge_busy++;
	PG_TRY();
	{
		int			ntables;
		PurgeTable **tables = purge_tables_get(rel, &ntables);
		ProbeCall  *calls = palloc0(sizeof(ProbeCall) * Max(ntables, 1));
		ProbeCall **group = palloc(sizeof(ProbeCall *) * Max(ntables, 1));
		bool	   *grouped = palloc0(sizeof(bool) * Max(ntables, 1));

		/* the parameters of each probe */
		for (int i = 0; i < ntables; i++)
		{
			PurgeTable *t = tables[i];
			ProbeCall  *pc = &calls[i];

			pc->table = t;
			if (t->sql == NULL || oid_in(t->relid, unprobed, nunprobed))
			{
				grouped[i] = true;	/* (nothing to probe) */
				continue;
			}
			pc->values = palloc(sizeof(Datum) * t->nargs);
			pc->due = palloc0(sizeof(bool) * t->nprobes);
			pc->values[0] = TimestampTzGetDatum(as_of);
			for (int j = 0; j < t->ncols; j++)
			{
				PurgeColumn *c = &t->cols[j];

				if (c->probe < 0)
					continue;
				column_bounds(c, as_of, fixed, &pc->values[1 + 3 * c->probe],
							  &pc->values[2 + 3 * c->probe]);
				pc->values[3 + 3 * c->probe] = IntervalPGetDatum(&c->window);
			}
		}
		/* the probes, one role switch per owner */
		for (int i = 0; i < ntables; i++)
		{
			int			n = 0;

			if (grouped[i])
				continue;
			for (int j = i; j < ntables; j++)
				if (!grouped[j] && tables[j]->owner == tables[i]->owner)
				{
					group[n++] = &calls[j];
					grouped[j] = true;
				}
			run_group(tables[i]->owner, group, n);
		}
		/* the answer */
		for (int i = 0; i < ntables; i++)
		{
			PurgeTable *t = tables[i];
			ProbeCall  *pc = &calls[i];

			for (int j = 0; j < t->ncols; j++)
			{
				PurgeColumn *c = &t->cols[j];
				Datum		values[4];
				bool		nulls[4] = {false, false, false, false};

				values[0] = ObjectIdGetDatum(t->relid);
				values[1] = NameGetDatum(&c->column);
				values[2] = CStringGetTextDatum(c->action);
				/* (a table whose entry went stale while it ran is due) */
				values[3] = BoolGetDatum(c->probe < 0 || !pc->done || t->dead ||
										 pc->due[c->probe]);
				tuplestore_putvalues(store, tupdesc, values, nulls);
			}
		}
	}
	PG_FINALLY();
	{
		purge_busy--;
	}
	PG_END_TRY();
	return (Datum) 0;
}
