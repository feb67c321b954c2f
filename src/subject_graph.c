/*
 * subject_graph.c
 *	  Which tables hold a data subject's rows, and how: the subject graph
 *	  that access, erasure, consent withdrawal, suppression, holds in purge
 *	  and the record of processing all use.
 *
 * For one subject type the graph has
 *
 *	 roots		the tables with a key column of the type (set_subject());
 *	 children	tables whose rows point at rows of the graph, through a
 *				foreign key or a declared link (privacy_tags.link()), at any
 *				depth, by every path;
 *	 parents	tagged tables that rows of the graph point at (an address, a
 *				payment card), at any depth.
 *
 * A partition is governed by its partitioned table: keys, tags, foreign keys
 * and links declared on partitions count for the root of the partition tree,
 * and only that root appears in the graph.
 *
 * Every node gets a predicate on alias t that selects the subject's rows,
 * for the subject whose id is a statement parameter ($1 by default, or an
 * array of ids for the holds of purge): the OR of its key columns and of one
 * IN-subquery per edge by which it is reached.  A row reached by any path is
 * in, whatever the path lengths; an edge that would make a predicate depend
 * on itself (a cycle) is left out.  A second predicate says when a reached
 * row is shared: it also belongs to another subject (it holds another
 * subject's key, points at a row of another subject type's root, or, for a
 * parent, is pointed at by rows outside the subject's).  Statement text
 * holds identifiers and the key type only; ids are always parameters.
 *
 * The graph of a subject type is built from the catalogs (pg_seclabel,
 * pg_constraint, pg_attribute, privacy_tags.links) and cached per backend;
 * any relcache invalidation drops the cache (a label, key, link, foreign key
 * or partition change invalidates the tables involved).  Predicates are
 * rendered from the cached graph on each call.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "as_owner.h"
#include "jsonb_write.h"
#include "subject_graph.h"

#define MAX_DEPTH 16
#define MAX_PRED_BYTES (4 * 1024 * 1024)

typedef enum NodeKind
{
	NODE_ROOT,
	NODE_CHILD,
	NODE_PARENT
} NodeKind;

/* A reference between two tables: a foreign key or a declared link. */
typedef struct Edge
{
	Oid			child;			/* the referencing table (tree root) */
	Oid			parent;			/* the referenced table (tree root) */
	int			ncols;
	char	  **child_cols;
	char	  **parent_cols;
	bool		child_nullable; /* every child column may be NULL */
	bool		as_text;		/* a link across types: compare as text */
	char	   *via;			/* "foreign key x" or "link" */
	char	   *child_name;		/* qualified, quoted */
	char	   *parent_name;
} Edge;

/* A key column of some subject type. */
typedef struct KeyCol
{
	Oid			relid;			/* tree root */
	char	   *column;
	char	   *subject_type;
	char	   *collected_at;
	char	   *op;				/* "OPERATOR(nsp.=)" against the key type */
} KeyCol;

typedef struct GNode
{
	Oid			relid;
	NodeKind	kind;			/* how it was first reached */
	int			depth;
	int			order;			/* erasure order: children before parents */
	bool		tagged;
	char	   *collected_at;
	List	   *keys;			/* KeyCol * of this subject type */
	List	   *other_keys;		/* KeyCol * of other subject types */
	List	   *in_edges;		/* Edge *: child edges (node is child) or parent edges */
	List	   *in_dirs;		/* int: 0 = node is the edge's child, 1 = its parent */
	char	   *name;			/* qualified, quoted */
} GNode;

typedef struct Graph
{
	char	   *subject_type;
	char	   *key_type;		/* format_type of the key type */
	Oid			key_typid;		/* the key type (InvalidOid without key columns) */
	bool		unsafe_key;		/* a cast from text to it is a function: no predicates */
	List	   *nodes;			/* GNode * */
	List	   *edges;			/* Edge *: every reference between tree roots */
	List	   *all_keys;		/* KeyCol *: every subject key column */
	List	   *access;			/* AccessStmt *: subject_access()'s statements, built on first use */
	MemoryContext cxt;
} Graph;

/* A tagged column of a table, as subject_access() reports it. */
typedef struct AccessCol
{
	char	   *name;
	char	   *category;
	char	   *basis;			/* NULL: none */
	char	   *retain;			/* NULL: no window */
	char	  **purposes;
	int			npurposes;
	Datum		facts;			/* jsonb: {category, basis, special, purposes, retain, on_expiry} */
	int			expiry;			/* its expiry's place among the statement's expiries, or -1 */
	bool		portable;		/* on consent or contract: kept by a portable export */
} AccessCol;

/*
 * What subject_access() needs of one table of the graph, found once per
 * graph: its tagged columns' facts, the columns a portable export leaves
 * out, and the one statement that reads the subject's rows (each as jsonb,
 * whether it is shared, the expiry of each windowed column), prepared on
 * first use as the table's owner and kept until the graph goes.
 */
typedef struct AccessStmt
{
	Oid			relid;
	AccessCol  *cols;
	int			ncols;
	int			nexpiry;		/* windowed columns */
	Oid			owner;			/* the table's owner, when the statement was built */
	Datum		drop;			/* text[]: left out of a portable export */
	bool		portable;		/* has columns on consent or contract */
	char	   *sql;
	SPIPlanPtr	plan;
} AccessStmt;

typedef struct GraphEntry
{
	char		subject_type[NAMEDATALEN * 2];
	Graph	   *graph;
} GraphEntry;

static HTAB *graph_cache = NULL;
static MemoryContext graph_cache_cxt = NULL;
static uint64 graph_generation = 0;
static bool graph_cache_stale = false;
static int	graph_users = 0;	/* calls rendering from a cached graph */

/*
 * Any relcache invalidation makes every cached graph stale.  The memory is
 * freed by the next get_graph() that no call is using it in: a graph is
 * never freed under a caller.
 */
void
SubjectGraphRelcacheInvalidate(Oid relid)
{
	graph_generation++;
	graph_cache_stale = true;
}

static void
graph_cache_reset(void)
{
	if (graph_cache_stale && graph_users == 0 && graph_cache_cxt != NULL)
	{
		MemoryContextReset(graph_cache_cxt);
		graph_cache = NULL;
		graph_cache_stale = false;
	}
}

static char *
qualified_name(Oid relid)
{
	char	   *nsp = get_namespace_name(get_rel_namespace(relid));
	char	   *rel = get_rel_name(relid);

	if (nsp == NULL || rel == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(nsp, rel);
}

static GNode *
find_node(Graph *g, Oid relid)
{
	ListCell   *lc;

	foreach(lc, g->nodes)
	{
		GNode	   *n = lfirst(lc);

		if (n->relid == relid)
			return n;
	}
	return NULL;
}

static char *
spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	char	   *v = SPI_getvalue(tup, desc, col);

	return v ? pstrdup(v) : NULL;
}

static char **
text_array(Datum d, int *n)
{
	ArrayType  *a = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		out[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
	return out;
}

/* Does pred(from) depend on node to (through in-edges)? */
static bool
depends_on(Graph *g, GNode *from, GNode *to, int guard)
{
	ListCell   *le,
			   *ld;

	if (from == to)
		return true;
	if (guard > 4 * MAX_DEPTH)
		return true;			/* treat as a cycle */
	forboth(le, from->in_edges, ld, from->in_dirs)
	{
		Edge	   *e = lfirst(le);
		GNode	   *src = find_node(g, lfirst_int(ld) == 0 ? e->parent : e->child);

		if (src && depends_on(g, src, to, guard + 1))
			return true;
	}
	return false;
}

static void
add_in_edge(Graph *g, GNode *n, Edge *e, int dir)
{
	GNode	   *src = find_node(g, dir == 0 ? e->parent : e->child);
	ListCell   *le,
			   *ld;

	if (src == NULL || src == n || depends_on(g, src, n, 0))
		return;
	forboth(le, n->in_edges, ld, n->in_dirs)
		if (lfirst(le) == e && lfirst_int(ld) == dir)
			return;
	n->in_edges = lappend(n->in_edges, e);
	n->in_dirs = lappend_int(n->in_dirs, dir);
}

/* Is relid a root of a subject type other than g's? */
static bool
is_other_root(Graph *g, Oid relid)
{
	ListCell   *lc;

	foreach(lc, g->all_keys)
	{
		KeyCol	   *k = lfirst(lc);

		if (k->relid == relid && strcmp(k->subject_type, g->subject_type) != 0)
			return true;
	}
	return false;
}

/*
 * "OPERATOR(nsp.=)": the equality of a key column's type (base) with the
 * subject type's key type, from the type's default btree operator family
 * (operator families are made by superusers: never a table owner's code).
 */
static char *
equality_operator(Oid base, Oid keytype)
{
	TypeCacheEntry *tc = lookup_type_cache(base, TYPECACHE_EQ_OPR | TYPECACHE_BTREE_OPFAMILY);
	Oid			op = InvalidOid;
	HeapTuple	tup;
	char	   *result;

	if (base == keytype)
		op = tc->eq_opr;
	else if (OidIsValid(tc->btree_opf))
		op = get_opfamily_member(tc->btree_opf, base, keytype, BTEqualStrategyNumber);
	if (!OidIsValid(op))
		return pstrdup("OPERATOR(pg_catalog.=)");	/* none: the statement fails, named */
	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(op));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator %u", op);
	result = psprintf("OPERATOR(%s.%s)",
					  quote_identifier(get_namespace_name(((Form_pg_operator) GETSTRUCT(tup))->oprnamespace)),
					  NameStr(((Form_pg_operator) GETSTRUCT(tup))->oprname));
	ReleaseSysCache(tup);
	return result;
}

/* Read the catalogs and build the graph of subject_type (in CurrentMemoryContext). */
static Graph *
build_graph(const char *subject_type)
{
	Graph	   *g = palloc0(sizeof(Graph));
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	List	   *tagged = NIL;
	MemoryContext cxt = CurrentMemoryContext;
	int			rc;
	bool		grew;

	g->subject_type = pstrdup(subject_type);
	values[0] = CStringGetTextDatum(subject_type);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* the key type */
	rc = SPI_execute_with_args("SELECT pg_catalog.format_type(privacy_tags.subject_key_type($1), NULL),"
							   "       EXISTS (SELECT FROM pg_catalog.pg_cast c"
							   "                WHERE c.castsource OPERATOR(pg_catalog.=) 'pg_catalog.text'::pg_catalog.regtype"
							   "                  AND c.casttarget OPERATOR(pg_catalog.=) privacy_tags.subject_key_type($1)"
							   "                  AND c.castmethod OPERATOR(pg_catalog.=) 'f'),"
							   "       privacy_tags.subject_key_type($1)::pg_catalog.oid",
							   1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not find the key type of subject type \"%s\"", subject_type);
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		bool		isnull;

		g->key_type = spi_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (g->key_type == NULL)
			g->key_type = pstrdup("pg_catalog.text");	/* no key column: nothing matches */
		MemoryContextSwitchTo(old);

		/*
		 * Statements give the id as $1::<key type>: a cast from text that is
		 * a function (of the type's owner) would run as whoever the
		 * statement runs as, the owners of other tables of the graph too.
		 */
		g->unsafe_key = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		g->key_typid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		if (isnull)
			g->key_typid = InvalidOid;
	}

	/* every subject key column, with the equality against this type's key */
	rc = SPI_execute_with_args(
		"SELECT coalesce(pg_catalog.pg_partition_root(s.objoid), s.objoid::pg_catalog.regclass)::pg_catalog.oid,"
		"       a.attname::pg_catalog.text, privacy_tags.subject_label_type(s.label),"
		"       privacy_tags.subject_label_collected_at(s.label)::pg_catalog.text,"
		"       privacy_tags._base_type(a.atttypid)::pg_catalog.oid,"
		"       privacy_tags.subject_key_type(privacy_tags.subject_label_type(s.label))::pg_catalog.oid"
		"  FROM pg_catalog.pg_seclabel s"
		"  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) s.objoid"
		"                              AND a.attnum OPERATOR(pg_catalog.=) s.objsubid"
		" WHERE s.provider OPERATOR(pg_catalog.=) 'privacy_tags_subject'"
		"   AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
		"   AND s.objsubid OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
		" ORDER BY 1, 2, 3",
		1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the subject keys: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		KeyCol	   *k = palloc0(sizeof(KeyCol));
		bool		isnull;
		ListCell   *lc;
		bool		dup = false;

		k->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		k->column = spi_text(tup, desc, 2);
		k->subject_type = spi_text(tup, desc, 3);
		k->collected_at = spi_text(tup, desc, 4);
		k->op = equality_operator(DatumGetObjectId(SPI_getbinval(tup, desc, 5, &isnull)),
								  DatumGetObjectId(SPI_getbinval(tup, desc, 6, &isnull)));
		/* a key set on several partitions counts once, for the root */
		foreach(lc, g->all_keys)
		{
			KeyCol	   *o = lfirst(lc);

			if (o->relid == k->relid && strcmp(o->column, k->column) == 0 &&
				strcmp(o->subject_type, k->subject_type) == 0)
				dup = true;
		}
		if (!dup)
			g->all_keys = lappend(g->all_keys, k);
		MemoryContextSwitchTo(old);
	}

	/* tables with tags (a partition's tags count for its tree) */
	rc = SPI_execute("SELECT DISTINCT coalesce(pg_catalog.pg_partition_root(s.objoid), s.objoid::pg_catalog.regclass)::pg_catalog.oid"
					 "  FROM pg_catalog.pg_seclabel s"
					 " WHERE s.provider OPERATOR(pg_catalog.=) 'privacy_tags'"
					 "   AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
					 "   AND s.objsubid OPERATOR(pg_catalog.>) 0", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the tags: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(cxt);

		tagged = lappend_oid(tagged, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	 SPI_tuptable->tupdesc, 1, &isnull)));
		MemoryContextSwitchTo(old);
	}

	/*
	 * Every reference between tree roots: foreign keys (those declared on a
	 * partition only count for its tree; the copies on partitions of a
	 * partitioned table's key are left out) and declared links.
	 */
	rc = SPI_execute(
		"WITH r AS ("
		" SELECT coalesce(pg_catalog.pg_partition_root(c.conrelid), c.conrelid::pg_catalog.regclass)::pg_catalog.oid AS child,"
		"        coalesce(pg_catalog.pg_partition_root(c.confrelid), c.confrelid::pg_catalog.regclass)::pg_catalog.oid AS parent,"
		"        ARRAY(SELECT a.attname::pg_catalog.text FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(n, o)"
		"                JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.conrelid"
		"                                             AND a.attnum OPERATOR(pg_catalog.=) k.n ORDER BY k.o) AS ccols,"
		"        ARRAY(SELECT a.attname::pg_catalog.text FROM pg_catalog.unnest(c.confkey) WITH ORDINALITY k(n, o)"
		"                JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.confrelid"
		"                                             AND a.attnum OPERATOR(pg_catalog.=) k.n ORDER BY k.o) AS pcols,"
		"        false AS as_text, 'foreign key ' OPERATOR(pg_catalog.||) c.conname::pg_catalog.text AS via"
		"   FROM pg_catalog.pg_constraint c"
		"  WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.conparentid OPERATOR(pg_catalog.=) 0"
		" UNION ALL"
		" SELECT coalesce(pg_catalog.pg_partition_root(l.child), l.child)::pg_catalog.oid,"
		"        coalesce(pg_catalog.pg_partition_root(l.parent), l.parent)::pg_catalog.oid,"
		"        l.child_columns::pg_catalog.text[], l.parent_columns::pg_catalog.text[],"
		"        EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(l.child_columns), pg_catalog.unnest(l.parent_columns)) x(cc, pc)"
		"                 WHERE privacy_tags._base_type((SELECT a.atttypid FROM pg_catalog.pg_attribute a"
		"                                                  WHERE a.attrelid OPERATOR(pg_catalog.=) l.child"
		"                                                    AND a.attname OPERATOR(pg_catalog.=) x.cc))"
		"                       OPERATOR(pg_catalog.<>)"
		"                       privacy_tags._base_type((SELECT a.atttypid FROM pg_catalog.pg_attribute a"
		"                                                  WHERE a.attrelid OPERATOR(pg_catalog.=) l.parent"
		"                                                    AND a.attname OPERATOR(pg_catalog.=) x.pc))),"
		"        'link'"
		"   FROM privacy_tags.links l"
		"  WHERE EXISTS (SELECT FROM pg_catalog.pg_class k WHERE k.oid OPERATOR(pg_catalog.=) l.child)"
		"    AND EXISTS (SELECT FROM pg_catalog.pg_class k WHERE k.oid OPERATOR(pg_catalog.=) l.parent))"
		" SELECT DISTINCT ON (child, parent, ccols, pcols) child, parent, ccols, pcols, as_text, via,"
		"        NOT EXISTS (SELECT FROM pg_catalog.unnest(ccols) cc JOIN pg_catalog.pg_attribute a"
		"                      ON a.attrelid OPERATOR(pg_catalog.=) r.child AND a.attname OPERATOR(pg_catalog.=) cc"
		"                   WHERE a.attnotnull)"
		"   FROM r WHERE child OPERATOR(pg_catalog.<>) parent"
		"  ORDER BY child, parent, ccols, pcols, via", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign keys and links: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		Edge	   *e = palloc0(sizeof(Edge));
		bool		isnull;
		int			n1,
					n2;

		e->child = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
		e->parent = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		e->child_cols = text_array(SPI_getbinval(tup, desc, 3, &isnull), &n1);
		e->parent_cols = text_array(SPI_getbinval(tup, desc, 4, &isnull), &n2);
		e->ncols = Min(n1, n2);
		e->as_text = DatumGetBool(SPI_getbinval(tup, desc, 5, &isnull));
		e->via = spi_text(tup, desc, 6);
		e->child_nullable = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
		if (e->ncols > 0 && n1 == n2)
			g->edges = lappend(g->edges, e);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();

	/* roots */
	{
		ListCell   *lc;

		foreach(lc, g->all_keys)
		{
			KeyCol	   *k = lfirst(lc);
			GNode	   *n;

			if (strcmp(k->subject_type, subject_type) != 0)
				continue;
			n = find_node(g, k->relid);
			if (n == NULL)
			{
				n = palloc0(sizeof(GNode));
				n->relid = k->relid;
				n->kind = NODE_ROOT;
				n->depth = 0;
				g->nodes = lappend(g->nodes, n);
			}
			n->keys = lappend(n->keys, k);
			if (n->collected_at == NULL && k->collected_at != NULL)
				n->collected_at = k->collected_at;
		}
	}

	/* children, breadth first, then parents of everything reached */
	for (int depth = 1; depth <= MAX_DEPTH; depth++)
	{
		ListCell   *lc;
		List	   *fresh = NIL;

		foreach(lc, g->edges)
		{
			Edge	   *e = lfirst(lc);
			GNode	   *p = find_node(g, e->parent);
			GNode	   *c;

			if (p == NULL || p->kind == NODE_PARENT || p->depth != depth - 1)
				continue;
			c = find_node(g, e->child);
			if (c == NULL)
			{
				c = palloc0(sizeof(GNode));
				c->relid = e->child;
				c->kind = NODE_CHILD;
				c->depth = depth;
				fresh = lappend(fresh, c);
				g->nodes = lappend(g->nodes, c);
			}
		}
		if (fresh == NIL)
			break;
	}
	do
	{
		ListCell   *lc;

		grew = false;
		foreach(lc, g->edges)
		{
			Edge	   *e = lfirst(lc);
			GNode	   *c = find_node(g, e->child);
			GNode	   *p;

			/* (another subject type's root holds that subject's rows) */
			if (c == NULL || c->depth >= MAX_DEPTH || find_node(g, e->parent) != NULL ||
				!list_member_oid(tagged, e->parent) || is_other_root(g, e->parent))
				continue;
			p = palloc0(sizeof(GNode));
			p->relid = e->parent;
			p->kind = NODE_PARENT;
			p->depth = c->depth + 1;
			g->nodes = lappend(g->nodes, p);
			grew = true;
		}
	} while (grew);

	/*
	 * The ways in: every edge into a node from a node of the graph (children
	 * from what they point at, parents from what points at them), shortest
	 * first, leaving out those that close a cycle.
	 */
	for (int pass = 0; pass <= 2 * MAX_DEPTH; pass++)
	{
		ListCell   *lc;

		foreach(lc, g->edges)
		{
			Edge	   *e = lfirst(lc);
			GNode	   *c = find_node(g, e->child);
			GNode	   *p = find_node(g, e->parent);

			if (c == NULL || p == NULL)
				continue;
			/* child direction: c reached from p (p not a parent node) */
			if (c->kind != NODE_PARENT && p->kind != NODE_PARENT &&
				p->depth + c->depth == pass)
				add_in_edge(g, c, e, 0);
			/* parent direction: p reached from c */
			if (p->kind == NODE_PARENT && p->depth + c->depth == pass)
				add_in_edge(g, p, e, 1);
		}
	}

	/* other subjects' keys, tags, names */
	{
		ListCell   *lc;

		foreach(lc, g->nodes)
		{
			GNode	   *n = lfirst(lc);
			ListCell   *lk;

			n->tagged = list_member_oid(tagged, n->relid);
			foreach(lk, g->all_keys)
			{
				KeyCol	   *k = lfirst(lk);

				if (k->relid == n->relid && strcmp(k->subject_type, subject_type) != 0)
					n->other_keys = lappend(n->other_keys, k);
			}
			n->name = qualified_name(n->relid);
		}
		foreach(lc, g->edges)
		{
			Edge	   *e = lfirst(lc);

			e->child_name = qualified_name(e->child);
			e->parent_name = qualified_name(e->parent);
		}
	}

	/* erasure order: a node after every node whose rows point at it */
	{
		bool		changed = true;

		for (int iter = 0; changed && iter < 4 * MAX_DEPTH; iter++)
		{
			ListCell   *lc;

			changed = false;
			foreach(lc, g->edges)
			{
				Edge	   *e = lfirst(lc);
				GNode	   *c = find_node(g, e->child);
				GNode	   *p = find_node(g, e->parent);

				if (c && p && p->order < c->order + 1 && c->order < 4 * MAX_DEPTH)
				{
					p->order = c->order + 1;
					changed = true;
				}
			}
		}
	}
	return g;
}

/* The graph of subject_type: cached, or built now. */
pg_noinline static Graph *
get_graph(const char *subject_type)
{
	GraphEntry *entry;
	bool		found;
	char		key[NAMEDATALEN * 2];
	uint64		generation;
	MemoryContext build_cxt;
	MemoryContext old;
	Graph	   *g;

	if (graph_cache_cxt == NULL)
	{
		graph_cache_cxt = AllocSetContextCreate(CacheMemoryContext, "privacy_tags subject graphs",
												ALLOCSET_DEFAULT_SIZES);
	}
	graph_cache_reset();
	if (graph_cache == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(key);
		ctl.entrysize = sizeof(GraphEntry);
		ctl.hcxt = graph_cache_cxt;
		graph_cache = hash_create("privacy_tags subject graphs", 16, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, subject_type, sizeof(key));
	entry = hash_search(graph_cache, key, HASH_FIND, &found);
	if (found && !graph_cache_stale)
		return entry->graph;

	/*
	 * Build in a context of the caller's; cache it only when no
	 * invalidation arrived meanwhile (else it serves this call alone).
	 */
	generation = graph_generation;
	build_cxt = AllocSetContextCreate(CurrentMemoryContext, "privacy_tags subject graph",
									  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(build_cxt);
	g = build_graph(subject_type);
	MemoryContextSwitchTo(old);
	g->cxt = build_cxt;
	if (generation == graph_generation && !graph_cache_stale)
	{
		MemoryContextSetParent(build_cxt, graph_cache_cxt);
		entry = hash_search(graph_cache, key, HASH_ENTER, &found);
		entry->graph = g;
	}
	return g;
}

/* A call is done with g: a graph that served this call alone goes with it. */
static void
graph_done(Graph *g)
{
	if (g->cxt && MemoryContextGetParent(g->cxt) != graph_cache_cxt)
		MemoryContextDelete(g->cxt);
}

/* The id parameter compared with a key column: "$1::bigint" or "ANY ($2::bigint[])". */
static void
render_param(StringInfo buf, Graph *g, const char *param, bool as_array)
{
	if (as_array)
		appendStringInfo(buf, "ANY (%s::%s[])", param, g->key_type);
	else
		appendStringInfo(buf, "%s::%s", param, g->key_type);
}

static void render_pred(StringInfo buf, Graph *g, GNode *n, const char *alias, int level,
						const char *param, bool as_array);

static void
render_cols(StringInfo buf, const char *alias, char **cols, int ncols, bool as_text)
{
	appendStringInfoChar(buf, '(');
	for (int i = 0; i < ncols; i++)
		appendStringInfo(buf, "%s%s.%s%s", i ? ", " : "", alias, quote_identifier(cols[i]),
						 as_text ? "::pg_catalog.text" : "");
	appendStringInfoChar(buf, ')');
}

/* The rows of n that edge e (dir 0: n is its child; 1: its parent) reaches. */
static void
render_edge(StringInfo buf, Graph *g, GNode *n, Edge *e, int dir, const char *alias, int level,
			const char *param, bool as_array)
{
	GNode	   *src = find_node(g, dir == 0 ? e->parent : e->child);
	char	   *sub;

	/*
	 * A reference to the key column of a table that is a root and nothing
	 * else: the rows whose column holds the id, compared with the id
	 * itself rather than through the root's rows.  The same rows for a
	 * foreign key (the root's row exists); for a link, also the rows whose
	 * root row is gone or was never there, which are the subject's all the
	 * same: an erasure that deleted the root row still finds them (rows
	 * written meanwhile, read again at the end), and a statement costs no
	 * subquery.  Only where the comparison is the key type's own (the
	 * column's base type is the key type) or text (a link across types).
	 */
	if (dir == 0 && src->in_edges == NIL && list_length(src->keys) == 1 && e->ncols == 1 &&
		OidIsValid(g->key_typid) &&
		strcmp(e->parent_cols[0], ((KeyCol *) linitial(src->keys))->column) == 0)
	{
		KeyCol	   *k = linitial(src->keys);
		AttrNumber	attnum = get_attnum(n->relid, e->child_cols[0]);
		Oid			coltype = attnum == InvalidAttrNumber ? InvalidOid :
			getBaseType(get_atttype(n->relid, attnum));

		if (e->as_text)
		{
			appendStringInfo(buf, "(%s.%s::pg_catalog.text OPERATOR(pg_catalog.=) ", alias,
							 quote_identifier(e->child_cols[0]));
			if (as_array)
				appendStringInfo(buf, "ANY ((%s::%s[])::pg_catalog.text[]))", param, g->key_type);
			else
				appendStringInfo(buf, "(%s::%s)::pg_catalog.text)", param, g->key_type);
			return;
		}
		if (coltype == g->key_typid)
		{
			appendStringInfo(buf, "(%s.%s %s ", alias, quote_identifier(e->child_cols[0]), k->op);
			render_param(buf, g, param, as_array);
			appendStringInfoChar(buf, ')');
			return;
		}
	}

	sub = psprintf("s%d", level + 1);
	render_cols(buf, alias, dir == 0 ? e->child_cols : e->parent_cols, e->ncols, e->as_text);
	appendStringInfoString(buf, " IN (SELECT ");
	for (int i = 0; i < e->ncols; i++)
		appendStringInfo(buf, "%s%s.%s%s", i ? ", " : "", sub,
						 quote_identifier(dir == 0 ? e->parent_cols[i] : e->child_cols[i]),
						 e->as_text ? "::pg_catalog.text" : "");
	appendStringInfo(buf, " FROM %s %s WHERE ", src->name, sub);
	render_pred(buf, g, src, sub, level + 1, param, as_array);
	appendStringInfoChar(buf, ')');
}

static void
render_pred(StringInfo buf, Graph *g, GNode *n, const char *alias, int level,
			const char *param, bool as_array)
{
	ListCell   *lc,
			   *ld;
	bool		first = true;

	if (buf->len > MAX_PRED_BYTES || level > 4 * MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the subject graph of \"%s\" has too many paths to relation \"%s\"",
						g->subject_type, get_rel_name(n->relid)),
				 errhint("Declare a subject key (set_subject()) on the tables in between, so that they are roots.")));
	appendStringInfoChar(buf, '(');
	foreach(lc, n->keys)
	{
		KeyCol	   *k = lfirst(lc);

		appendStringInfo(buf, "%s%s.%s %s ", first ? "" : " OR ", alias, quote_identifier(k->column), k->op);
		render_param(buf, g, param, as_array);
		first = false;
	}
	forboth(lc, n->in_edges, ld, n->in_dirs)
	{
		if (!first)
			appendStringInfoString(buf, " OR ");
		render_edge(buf, g, n, lfirst(lc), lfirst_int(ld), alias, level, param, as_array);
		first = false;
	}
	if (first)
		appendStringInfoString(buf, "false");
	appendStringInfoChar(buf, ')');
}

/*
 * When a reached row of n is shared: it holds a key of another subject (of
 * this type or another), points at a row of another subject type's root or
 * at a row of the graph that is not the subject's, or (a parent) is pointed
 * at by rows that are not the subject's.  NULL when no row can be.
 */
static char *
render_shared(Graph *g, GNode *n, const char *param, bool as_array)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	/* a root reached by references too: rows of other subjects of the type */
	foreach(lc, n->in_edges != NIL ? n->keys : NIL)
	{
		KeyCol	   *k = lfirst(lc);

		appendStringInfo(&buf, "%s(t.%s IS NOT NULL AND NOT (t.%s %s ", first ? "" : " OR ",
						 quote_identifier(k->column), quote_identifier(k->column), k->op);
		render_param(&buf, g, param, as_array);
		appendStringInfoString(&buf, "))");
		first = false;
	}
	foreach(lc, n->other_keys)
	{
		KeyCol	   *k = lfirst(lc);

		appendStringInfo(&buf, "%st.%s IS NOT NULL", first ? "" : " OR ", quote_identifier(k->column));
		first = false;
	}
	foreach(lc, g->edges)
	{
		Edge	   *e = lfirst(lc);
		GNode	   *p = find_node(g, e->parent);
		GNode	   *c = find_node(g, e->child);

		if (n->kind != NODE_PARENT && e->child == n->relid)
		{
			/* a reference out of the row */
			if (is_other_root(g, e->parent) && (p == NULL || p->keys == NIL))
			{
				appendStringInfoString(&buf, first ? "(" : " OR (");
				for (int i = 0; i < e->ncols; i++)
					appendStringInfo(&buf, "%st.%s IS NOT NULL", i ? " AND " : "",
									 quote_identifier(e->child_cols[i]));
				appendStringInfoChar(&buf, ')');
				first = false;
			}
			else if (p != NULL && p->kind != NODE_PARENT)
			{
				appendStringInfoString(&buf, first ? "(" : " OR (");
				for (int i = 0; i < e->ncols; i++)
					appendStringInfo(&buf, "t.%s IS NOT NULL AND ", quote_identifier(e->child_cols[i]));
				appendStringInfoString(&buf, "NOT ");
				render_edge(&buf, g, n, e, 0, "t", 0, param, as_array);
				appendStringInfoChar(&buf, ')');
				first = false;
			}
		}
		else if (n->kind == NODE_PARENT && e->parent == n->relid)
		{
			/* a reference into the row from a row that is not the subject's */
			appendStringInfo(&buf, "%sEXISTS (SELECT FROM %s x WHERE ", first ? "" : " OR ",
							 e->child_name);
			for (int i = 0; i < e->ncols; i++)
				appendStringInfo(&buf, "%sx.%s%s OPERATOR(pg_catalog.=) t.%s%s", i ? " AND " : "",
								 quote_identifier(e->child_cols[i]), e->as_text ? "::pg_catalog.text" : "",
								 quote_identifier(e->parent_cols[i]), e->as_text ? "::pg_catalog.text" : "");
			if (c != NULL)
			{
				appendStringInfoString(&buf, " AND NOT coalesce(");
				render_pred(&buf, g, c, "x", 0, param, as_array);
				appendStringInfoString(&buf, ", false)");
			}
			appendStringInfoChar(&buf, ')');
			first = false;
		}
	}
	if (first)
		return NULL;
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * The columns of n that name other subjects: their keys and references to
 * other subject types' roots (left out of an export's shared rows).
 */
static Datum
other_columns(Graph *g, GNode *n)
{
	List	   *cols = NIL;
	ListCell   *lc;
	Datum	   *elems;
	int			i = 0;

	foreach(lc, n->other_keys)
		cols = lappend(cols, ((KeyCol *) lfirst(lc))->column);
	/* a root reached by references too: its key may be another subject's */
	foreach(lc, n->in_edges != NIL ? n->keys : NIL)
		cols = lappend(cols, ((KeyCol *) lfirst(lc))->column);
	foreach(lc, g->edges)
	{
		Edge	   *e = lfirst(lc);
		GNode	   *p = find_node(g, e->parent);

		if (e->child == n->relid && is_other_root(g, e->parent) && (p == NULL || p->keys == NIL))
			for (int k = 0; k < e->ncols; k++)
				cols = lappend(cols, e->child_cols[k]);
	}
	elems = palloc(sizeof(Datum) * Max(list_length(cols), 1));
	foreach(lc, cols)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The masks of n's shared rows: for every way in whose columns may be NULL,
 * "SET c = NULL" where the row points at the subject's rows that way.
 * A jsonb array of {"set": ..., "where": ...}.
 */
static char *
render_masks(Graph *g, GNode *n, const char *param, bool as_array)
{
	StringInfoData buf;
	ListCell   *lc,
			   *ld;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	forboth(lc, n->in_edges, ld, n->in_dirs)
	{
		Edge	   *e = lfirst(lc);
		StringInfoData set;
		StringInfoData where;

		if (lfirst_int(ld) != 0 || !e->child_nullable)
			continue;
		initStringInfo(&set);
		for (int i = 0; i < e->ncols; i++)
			appendStringInfo(&set, "%s%s = NULL", i ? ", " : "", quote_identifier(e->child_cols[i]));
		initStringInfo(&where);
		render_edge(&where, g, n, e, 0, "t", 0, param, as_array);
		if (!first)
			appendStringInfoString(&buf, ", ");
		appendStringInfoString(&buf, "{\"set\": ");
		escape_json(&buf, set.data);
		appendStringInfoString(&buf, ", \"where\": ");
		escape_json(&buf, where.data);
		appendStringInfoString(&buf, ", \"columns\": [");
		for (int i = 0; i < e->ncols; i++)
		{
			if (i)
				appendStringInfoString(&buf, ", ");
			escape_json(&buf, e->child_cols[i]);
		}
		appendStringInfoString(&buf, "]}");
		first = false;
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

static const char *
kind_name(NodeKind k)
{
	return k == NODE_ROOT ? "root" : k == NODE_CHILD ? "child" : "parent";
}

/* How n was reached, for the DBA: "key id", "foreign key x -> public.customers". */
static char *
describe_via(Graph *g, GNode *n)
{
	StringInfoData buf;
	ListCell   *lc,
			   *ld;
	bool		first = true;

	initStringInfo(&buf);
	foreach(lc, n->keys)
	{
		appendStringInfo(&buf, "%skey %s", first ? "" : "; ", quote_identifier(((KeyCol *) lfirst(lc))->column));
		first = false;
	}
	forboth(lc, n->in_edges, ld, n->in_dirs)
	{
		Edge	   *e = lfirst(lc);

		if (lfirst_int(ld) == 0)
			appendStringInfo(&buf, "%s%s -> %s", first ? "" : "; ", e->via, e->parent_name);
		else
			appendStringInfo(&buf, "%s%s of %s", first ? "" : "; ", e->via, e->child_name);
		first = false;
	}
	return buf.data;
}

/*
 * _subject_graph(subject_type, param, as_array): one row per table of the
 * graph: relation, kind, via, depth, erase_order, tagged, collected_at,
 * pred, shared, other_columns, masks.
 */
PG_FUNCTION_INFO_V1(privacy_tags_subject_graph);
Datum
privacy_tags_subject_graph(PG_FUNCTION_ARGS)
{
	char	   *subject_type;
	const char *param;
	bool		as_array;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext per_query;
	MemoryContext old;
	Graph	   *volatile g;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("subject_graph: subject_type must not be NULL")));
	subject_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	param = PG_ARGISNULL(1) ? "$1" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	as_array = PG_ARGISNULL(2) ? false : PG_GETARG_BOOL(2);
	if (strlen(param) < 2 || param[0] != '$' || strspn(param + 1, "0123456789") != strlen(param) - 1)
		elog(ERROR, "_subject_graph: param must be a parameter reference like $1");

	store = MaterializedResult(fcinfo, &tupdesc, &per_query);
	g = get_graph(subject_type);

	graph_users++;
	PG_TRY();
	{
	foreach(lc, g->nodes)
	{
		GNode	   *n = lfirst(lc);
		Datum		values[11];
		bool		nulls[11];
		StringInfoData pred;
		char	   *shared;

		memset(nulls, 0, sizeof(nulls));
		initStringInfo(&pred);
		if (!g->unsafe_key)
			render_pred(&pred, g, n, "t", 0, param, as_array);
		shared = !g->unsafe_key && (n->tagged || n->kind != NODE_PARENT) ?
			render_shared(g, n, param, as_array) : NULL;

		values[0] = ObjectIdGetDatum(n->relid);
		values[1] = CStringGetTextDatum(kind_name(n->kind));
		values[2] = CStringGetTextDatum(describe_via(g, n));
		values[3] = Int32GetDatum(n->depth);
		values[4] = Int32GetDatum(n->order);
		values[5] = BoolGetDatum(n->tagged);
		if (n->collected_at)
			values[6] = DirectFunctionCall1(namein, CStringGetDatum(n->collected_at));
		else
			nulls[6] = true;
		/* (no predicate at all where the key type is not safe to cast to) */
		if (!g->unsafe_key)
			values[7] = CStringGetTextDatum(pred.data);
		else
			nulls[7] = true;
		if (shared)
			values[8] = CStringGetTextDatum(shared);
		else
			nulls[8] = true;
		values[9] = other_columns(g, n);
		values[10] = DirectFunctionCall1(jsonb_in, CStringGetDatum(g->unsafe_key ? "[]" :
																  render_masks(g, n, param, as_array)));

		old = MemoryContextSwitchTo(per_query);
		tuplestore_putvalues(store, tupdesc, values, nulls);
		MemoryContextSwitchTo(old);
	}
	}
	PG_FINALLY();
	{
		graph_users--;
	}
	PG_END_TRY();
	graph_done(g);
	return (Datum) 0;
}

/* The graph's context goes: so do its access statements' kept plans. */
static void
free_access_plans(void *arg)
{
	Graph	   *g = arg;
	ListCell   *lc;

	foreach(lc, g->access)
	{
		AccessStmt *a = lfirst(lc);

		if (a->plan != NULL)
			SPI_freeplan(a->plan);
		a->plan = NULL;
	}
}

/*
 * The access statement of node n: its columns' facts and its SQL, read from
 * the catalogs and the tags (as the caller, the extension's owner: nothing
 * of the table runs).
 */
static AccessStmt *
build_access(Graph *g, GNode *n)
{
	AccessStmt *a;
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1];
	StringInfoData sql;
	StringInfoData pred;
	StringInfoData expires;
	char	   *shared;
	bool		isnull;
	int			rc;
	MemoryContext old;

	values[0] = ObjectIdGetDatum(n->relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	old = MemoryContextSwitchTo(g->cxt);
	a = palloc0(sizeof(AccessStmt));
	a->relid = n->relid;
	a->owner = RelationOwner(n->relid);
	MemoryContextSwitchTo(old);

	/*
	 * The columns a portable export leaves out, and whether it keeps any.
	 */
	rc = SPI_execute_with_args(
		"WITH c AS (SELECT x.* FROM privacy_tags._tagged_columns($1) x(column_name, tag, basis, nn, is_key, anchor))"
		" SELECT (SELECT coalesce(pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum), '{}')"
		"           FROM pg_catalog.pg_attribute a"
		"          WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
		"            AND NOT EXISTS (SELECT FROM c WHERE c.column_name OPERATOR(pg_catalog.=) a.attname"
		"                                              AND c.basis OPERATOR(pg_catalog.=) ANY ('{consent,contract}')))::pg_catalog.text[],"
		"        EXISTS (SELECT FROM c WHERE c.basis OPERATOR(pg_catalog.=) ANY ('{consent,contract}'))",
		1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the tagged columns of relation %u", n->relid);
	old = MemoryContextSwitchTo(g->cxt);
	a->drop = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), false, -1);
	a->portable = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	MemoryContextSwitchTo(old);

	/*
	 * The facts of each tagged column (in the order of _tagged_columns()):
	 * what the document says of it, and the expression of its expiry.
	 */
	rc = SPI_execute_with_args(
		"SELECT x.column_name::pg_catalog.text, privacy_tags.category(x.tag), x.basis,"
		"       CASE WHEN privacy_tags.retention(x.tag) IS NOT NULL THEN"
		"            pg_catalog.substring(x.tag::pg_catalog.text, 'retain=([^;]*)') END,"
		"       coalesce(privacy_tags.purposes(x.tag)::pg_catalog.text[], '{}'),"
		"       pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
		"            'category', privacy_tags.category(x.tag), 'basis', x.basis,"
		"            'special', privacy_tags.special_condition(x.tag), 'purposes', pg_catalog.to_jsonb(privacy_tags.purposes(x.tag)),"
		"            'retain', CASE WHEN privacy_tags.retention(x.tag) IS NOT NULL THEN"
		"                           pg_catalog.substring(x.tag::pg_catalog.text, 'retain=([^;]*)') END,"
		"            'on_expiry', privacy_tags.expiry_action(x.tag))),"
		"       CASE WHEN privacy_tags.retention(x.tag) IS NOT NULL THEN"
		"            pg_catalog.format('(t.%I::pg_catalog.timestamptz OPERATOR(pg_catalog.+) %L::pg_catalog.interval)',"
		"                              x.anchor, privacy_tags.retention(x.tag)) END"
		"  FROM privacy_tags._tagged_columns($1) WITH ORDINALITY x(column_name, tag, basis, nn, is_key, anchor, o)"
		" ORDER BY x.o",
		1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the tagged columns of relation %u", n->relid);
	initStringInfo(&expires);
	old = MemoryContextSwitchTo(g->cxt);
	a->ncols = SPI_processed;
	a->cols = palloc0(sizeof(AccessCol) * Max(a->ncols, 1));
	for (int i = 0; i < a->ncols; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		AccessCol  *c = &a->cols[i];
		char	   *expr = SPI_getvalue(tup, desc, 7);

		c->name = SPI_getvalue(tup, desc, 1);
		c->category = SPI_getvalue(tup, desc, 2);
		c->basis = SPI_getvalue(tup, desc, 3);
		c->retain = SPI_getvalue(tup, desc, 4);
		c->purposes = text_array(SPI_getbinval(tup, desc, 5, &isnull), &c->npurposes);
		c->facts = datumCopy(SPI_getbinval(tup, desc, 6, &isnull), false, -1);
		c->portable = c->basis != NULL && (strcmp(c->basis, "consent") == 0 || strcmp(c->basis, "contract") == 0);
		c->expiry = -1;
		if (expr != NULL)
		{
			c->expiry = a->nexpiry++;
			appendStringInfo(&expires, ", %s", expr);
		}
	}
	MemoryContextSwitchTo(old);

	/*
	 * One row per row of the subject's: the row as jsonb ($3 the columns
	 * left out, $4 the other subjects' keys and references, left out of a
	 * shared row), whether it is shared, the expiry of each windowed
	 * column; $1 the id, $2 since (NULL: every row).
	 */
	initStringInfo(&pred);
	render_pred(&pred, g, n, "t", 0, "$1", false);
	shared = (n->tagged || n->kind != NODE_PARENT) ? render_shared(g, n, "$1", false) : NULL;
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.to_jsonb(t.*) OPERATOR(pg_catalog.-) $3"
					 " OPERATOR(pg_catalog.-) CASE WHEN %s THEN $4 ELSE '{}'::pg_catalog.text[] END, %s%s"
					 " FROM %s t WHERE %s",
					 shared ? shared : "false", shared ? shared : "false",
					 expires.data, n->name, pred.data);
	if (n->collected_at)
		appendStringInfo(&sql, " AND ($2 IS NULL OR t.%s OPERATOR(pg_catalog.>=) $2)",
						 quote_identifier(n->collected_at));
	appendStringInfoString(&sql, " ORDER BY t.tableoid, t.ctid");
	old = MemoryContextSwitchTo(g->cxt);
	a->sql = pstrdup(sql.data);
	if (g->access == NIL)
	{
		MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

		cb->func = free_access_plans;
		cb->arg = g;
		MemoryContextRegisterResetCallback(g->cxt, cb);
	}
	g->access = lappend(g->access, a);
	MemoryContextSwitchTo(old);
	SPI_finish();
	return a;
}

/*
 * One table's part of subject_access(): its statement and arguments, and
 * what it found: how many rows, how many shared, the latest expiry of each
 * windowed column, and where its rows' jsonb was written.
 */
typedef struct AccessCall
{
	GNode	   *node;
	AccessStmt *stmt;
	Oid			owner;
	bool		run;			/* not left out of a portable export */
	char	   *relname;		/* relid::regclass::text */
	Datum		args[4];
	char		argnulls[4];
	int64		n;
	int64		n_shared;
	TimestampTz *expiry;		/* the latest expiry of each windowed column */
	bool	   *has_expiry;
	uint32	   *lens;			/* each row's length in the array (padding included) */
	int			lens_cap;
	int			start;			/* its rows in the buffer: [start, end) */
	int			end;
} AccessCall;

typedef struct AccessBatch
{
	AccessCall *calls;			/* in the order of the document's keys */
	int			first;			/* calls[first..last] have one owner */
	int			last;
	StringInfo	buf;
	MemoryContext cxt;			/* where lens and buf live */
} AccessBatch;

static Oid	access_argtypes[4] = {TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID, TEXTARRAYOID};

#define ACCESS_FETCH 1000
#define ACCESS_FIRST_FETCH 16
#define ACCESS_FETCH_BYTES (8 * 1024 * 1024)
#define ACCESS_LARGE (64 * 1024 * 1024)

/*
 * As the owner of calls[first..last]: run each table's statement through a
 * cursor and write its rows' jsonb into the buffer, each as it is (a row is
 * copied once, never rebuilt), with the lengths kept for the array's
 * header, which is written when the document is put together.
 */
static void
run_access_batch(void *arg)
{
	AccessBatch *b = arg;

	for (int i = b->first; i <= b->last; i++)
	{
		AccessCall *c = &b->calls[i];
		AccessStmt *a = c->stmt;
		Portal		portal;

		if (!c->run)
			continue;
		if (a->plan == NULL)
		{
			SPIPlanPtr	plan = OwnerPrepare(a->sql, 4, access_argtypes);

			if (plan == NULL)
				elog(ERROR, "could not prepare a statement on relation %u: %s",
					 c->node->relid, SPI_result_code_string(SPI_result));
			SPI_keepplan(plan);
			a->plan = plan;
		}
		portal = OwnerCursorOpen(a->plan, a->sql, c->args, c->argnulls, true);
		JbPad(b->buf);
		c->start = b->buf->len;
		for (;;)
		{
			TupleDesc	desc;
			long		fetch = ACCESS_FETCH;

			/*
			 * As many rows as make about ACCESS_FETCH_BYTES by the size of
			 * those read so far: a table of huge rows is read a few at a
			 * time, never 1,000 of them at once.
			 */
			if (c->n > 0 && b->buf->len > c->start)
				fetch = Max(1, Min(ACCESS_FETCH, (long) (ACCESS_FETCH_BYTES / ((b->buf->len - c->start) / c->n + 1))));
			else if (c->n == 0)
				fetch = ACCESS_FIRST_FETCH;
			SPI_cursor_fetch(portal, true, fetch);
			if (SPI_tuptable == NULL || SPI_tuptable->tupdesc->natts != 2 + a->nexpiry)
				elog(ERROR, "could not read relation %u", c->node->relid);
			desc = SPI_tuptable->tupdesc;
			for (uint64 r = 0; r < SPI_processed; r++)
			{
				HeapTuple	tup = SPI_tuptable->vals[r];
				bool		isnull;
				Datum		d = SPI_getbinval(tup, desc, 1, &isnull);
				struct varlena *v;
				uint32		header;
				uint32		len;

				if (isnull)
					elog(ERROR, "a row of relation %u came as NULL", c->node->relid);
				v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));
				memcpy(&header, VARDATA_ANY(v), sizeof(uint32));
				if ((header & JB_FOBJECT) == 0)
					elog(ERROR, "a row of relation %u is not a jsonb object", c->node->relid);
				if (c->n >= c->lens_cap)
				{
					c->lens_cap = c->lens_cap == 0 ? 64 : c->lens_cap * 2;
					c->lens = c->lens == NULL
						? MemoryContextAlloc(b->cxt, sizeof(uint32) * c->lens_cap)
						: repalloc(c->lens, sizeof(uint32) * c->lens_cap);
				}
				/*
				 * A large export: room reserved at once, beyond what the
				 * allocator maps from the heap, so that growing it never
				 * copies it (repalloc of a mapped block remaps it) and
				 * only what is written costs memory.
				 */
				if (b->buf->maxlen < ACCESS_LARGE &&
					b->buf->len + VARSIZE_ANY_EXHDR(v) + 4 >= (Size) b->buf->maxlen &&
					b->buf->len >= ACCESS_LARGE / 64)
					enlargeStringInfo(b->buf, ACCESS_LARGE - b->buf->len - 1);
				len = JbPad(b->buf);
				appendBinaryStringInfo(b->buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
				len += VARSIZE_ANY_EXHDR(v);
				c->lens[c->n++] = len;
				JbCheckLength(b->buf->len);	/* the document holds all of it */
				if (DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull)) && !isnull)
					c->n_shared++;
				for (int k = 0; k < a->nexpiry; k++)
				{
					Datum		e = SPI_getbinval(tup, desc, 3 + k, &isnull);

					if (!isnull && (!c->has_expiry[k] || DatumGetTimestampTz(e) > c->expiry[k]))
					{
						c->expiry[k] = DatumGetTimestampTz(e);
						c->has_expiry[k] = true;
					}
				}
				if ((Pointer) v != DatumGetPointer(d))
					pfree(v);
			}
			if (SPI_processed < (uint64) fetch)
				break;
			SPI_freetuptable(SPI_tuptable);
		}
		SPI_freetuptable(SPI_tuptable);
		SPI_cursor_close(portal);
		c->end = b->buf->len;
	}
}

/* Order of the document's data: its keys' (the tables' names') jsonb order. */
static int
compare_calls_by_key(const void *a, const void *b)
{
	const AccessCall *x = a;
	const AccessCall *y = b;
	int			lx = strlen(x->relname);
	int			ly = strlen(y->relname);

	if (lx != ly)
		return lx > ly ? 1 : -1;
	return memcmp(x->relname, y->relname, lx);
}

/* ORDER BY depth, relation::text (the database's collation) */
static int
compare_calls_by_depth(const void *a, const void *b)
{
	const AccessCall *x = *(AccessCall *const *) a;
	const AccessCall *y = *(AccessCall *const *) b;

	if (x->node->depth != y->node->depth)
		return x->node->depth > y->node->depth ? 1 : -1;
	return varstr_cmp(x->relname, strlen(x->relname), y->relname, strlen(y->relname), DEFAULT_COLLATION_OID);
}

static int
compare_text(const void *a, const void *b)
{
	const char *x = *(char *const *) a;
	const char *y = *(char *const *) b;

	return varstr_cmp(x, strlen(x), y, strlen(y), DEFAULT_COLLATION_OID);
}

static void
push_text(JsonbParseState **st, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	if (s == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) s;
		v.val.string.len = strlen(s);
	}
	(void) pushJsonbValue(st, tok, &v);
}

static void
push_int(JsonbParseState **st, int64 n)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, Int64GetDatum(n)));
	(void) pushJsonbValue(st, WJB_VALUE, &v);
}

/* Push the pairs of a jsonb object (without its braces). */
static void
push_pairs(JsonbParseState **st, Datum object)
{
	JsonbIterator *it = JsonbIteratorInit(&DatumGetJsonbP(object)->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			level = 0;

	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
		{
			if (level++ == 0)
				continue;
		}
		else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
		{
			if (--level == 0)
				continue;
		}
		(void) pushJsonbValue(st, tok, tok < WJB_BEGIN_ARRAY ? &v : NULL);
	}
}

/* A sorted, distinct text array (jsonb_agg(DISTINCT x ORDER BY x)). */
static JsonbValue *
push_distinct(JsonbParseState **st, List *texts)
{
	int			n = list_length(texts);
	char	  **a = palloc(sizeof(char *) * Max(n, 1));
	int			i = 0;
	bool		null = false;
	ListCell   *lc;

	foreach(lc, texts)
	{
		if (lfirst(lc) == NULL)
			null = true;
		else
			a[i++] = lfirst(lc);
	}
	n = i;
	qsort(a, n, sizeof(char *), compare_text);
	(void) pushJsonbValue(st, WJB_BEGIN_ARRAY, NULL);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(a[i], a[i - 1]) != 0)
			push_text(st, WJB_ELEM, a[i]);
	if (null)
		push_text(st, WJB_ELEM, NULL);	/* DISTINCT keeps one NULL, last */
	return pushJsonbValue(st, WJB_END_ARRAY, NULL);
}

static char *
expiry_text(AccessCall *c, AccessCol *col)
{
	if (col->expiry < 0 || !c->has_expiry[col->expiry])
		return NULL;
	return JsonEncodeDateTime(NULL, TimestampTzGetDatum(c->expiry[col->expiry]), TIMESTAMPTZOID, NULL);
}

static bool
exported_column(AccessCol *col, bool portable_only)
{
	return !portable_only || col->portable;
}

/*
 * The document's "tables", "fields" and "summary" (over the tables with
 * rows: what they hold and why), the purposes for the declarations, and
 * for the audit entry the records and the tables that have some.
 */
static void
access_facts(Graph *g, AccessCall *calls, int ncalls, bool portable_only, bool since,
			 Jsonb **tables, Jsonb **fields, Jsonb **summary, Jsonb **purposes,
			 int64 *nrecords, int64 *ntables)
{
	JsonbParseState *st = NULL;
	AccessCall **by_depth = palloc(sizeof(AccessCall *) * Max(ncalls, 1));
	List	   *categories = NIL;
	List	   *all_purposes = NIL;
	List	   *bases = NIL;
	int64		records = 0;
	int64		shared_records = 0;
	ListCell   *lc;

	for (int i = 0; i < ncalls; i++)
		by_depth[i] = &calls[i];
	qsort(by_depth, ncalls, sizeof(AccessCall *), compare_calls_by_depth);

	/* tables: {relation: {kind, via, records, shared, classification}} */
	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < ncalls; i++)
	{
		AccessCall *c = &calls[i];

		if (c->n == 0)
			continue;
		push_text(&st, WJB_KEY, c->relname);
		(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		push_text(&st, WJB_KEY, "kind");
		push_text(&st, WJB_VALUE, kind_name(c->node->kind));
		push_text(&st, WJB_KEY, "via");
		push_text(&st, WJB_VALUE, describe_via(g, c->node));
		push_text(&st, WJB_KEY, "records");
		push_int(&st, c->n);
		push_text(&st, WJB_KEY, "shared");
		push_int(&st, c->n_shared);
		push_text(&st, WJB_KEY, "classification");
		push_text(&st, WJB_VALUE, !c->node->tagged ? "unclassified" : c->n_shared == 0 ? "own" :
				  c->n_shared == c->n ? "shared" : "own and shared");
		(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
		records += c->n;
		shared_records += c->n_shared;
		(*ntables)++;
	}
	*nrecords = records;
	*tables = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));

	/* fields: {relation: {column: its facts, expires_at}} */
	st = NULL;
	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < ncalls; i++)
	{
		AccessCall *c = &calls[i];

		if (c->n == 0)
			continue;
		push_text(&st, WJB_KEY, c->relname);
		(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
		for (int k = 0; k < c->stmt->ncols; k++)
		{
			AccessCol  *col = &c->stmt->cols[k];
			char	   *expires = expiry_text(c, col);

			if (!exported_column(col, portable_only))
				continue;
			push_text(&st, WJB_KEY, col->name);
			(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			push_pairs(&st, col->facts);
			if (expires != NULL)
			{
				push_text(&st, WJB_KEY, "expires_at");
				push_text(&st, WJB_VALUE, expires);
			}
			(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
			categories = lappend(categories, col->category);
			for (int p = 0; p < col->npurposes; p++)
				all_purposes = lappend(all_purposes, col->purposes[p]);
			if (col->basis != NULL)
			{
				bool		seen = false;

				foreach(lc, bases)
					if (strcmp(lfirst(lc), col->basis) == 0)
						seen = true;
				if (!seen)
					bases = lappend(bases, col->basis);
			}
		}
		(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	}
	*fields = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));

	st = NULL;
	*purposes = JsonbValueToJsonb(push_distinct(&st, all_purposes));

	/* summary */
	st = NULL;
	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_text(&st, WJB_KEY, "categories");
	(void) push_distinct(&st, categories);
	push_text(&st, WJB_KEY, "purposes");
	(void) push_distinct(&st, all_purposes);
	push_text(&st, WJB_KEY, "legal_bases");
	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	foreach(lc, bases)
	{
		const char *basis = lfirst(lc);
		List	   *of = NIL;

		for (int i = 0; i < ncalls; i++)
		{
			AccessCall *c = &calls[i];

			if (c->n == 0)
				continue;
			for (int k = 0; k < c->stmt->ncols; k++)
			{
				AccessCol  *col = &c->stmt->cols[k];

				if (exported_column(col, portable_only) && col->basis != NULL && strcmp(col->basis, basis) == 0)
					of = lappend(of, col->category);
			}
		}
		push_text(&st, WJB_KEY, basis);
		(void) push_distinct(&st, of);
	}
	(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	push_text(&st, WJB_KEY, "retention");
	(void) pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < ncalls; i++)
	{
		AccessCall *c = by_depth[i];

		if (c->n == 0)
			continue;
		for (int k = 0; k < c->stmt->ncols; k++)
		{
			AccessCol  *col = &c->stmt->cols[k];

			if (!exported_column(col, portable_only) || col->retain == NULL)
				continue;
			(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
			push_text(&st, WJB_KEY, "relation");
			push_text(&st, WJB_VALUE, c->relname);
			push_text(&st, WJB_KEY, "column");
			push_text(&st, WJB_VALUE, col->name);
			push_text(&st, WJB_KEY, "category");
			push_text(&st, WJB_VALUE, col->category);
			push_text(&st, WJB_KEY, "retain");
			push_text(&st, WJB_VALUE, col->retain);
			push_text(&st, WJB_KEY, "expires_at");
			push_text(&st, WJB_VALUE, expiry_text(c, col));
			(void) pushJsonbValue(&st, WJB_END_OBJECT, NULL);
		}
	}
	(void) pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	push_text(&st, WJB_KEY, "records");
	push_int(&st, records);
	push_text(&st, WJB_KEY, "shared_records");
	push_int(&st, shared_records);
	push_text(&st, WJB_KEY, "not_limited_by_since");
	(void) pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < ncalls && since; i++)
		if (by_depth[i]->node->collected_at == NULL)
			push_text(&st, WJB_ELEM, by_depth[i]->relname);
	(void) pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	*summary = JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

static JbChild
container_child(Jsonb *jb)
{
	JbChild		c;

	c.type = JENTRY_ISCONTAINER;
	c.data = (char *) &jb->root;
	c.len = VARSIZE(jb) - VARHDRSZ;
	return c;
}

static JbChild
string_child(const char *s)
{
	JbChild		c;

	c.type = JENTRY_ISSTRING;
	c.data = s;
	c.len = strlen(s);
	return c;
}

/*
 * Put the document together in buf, which holds the tables' rows (calls'
 * [start, end), in key order): the top-level object of the pairs of meta
 * (what SQL said: subject, consents, declarations...) and extra (tables,
 * fields, summary), and "data", the first of its keys, whose arrays are
 * made by moving each table's rows once, last table first, to where the
 * headers before them leave room, and writing the headers in the gaps.
 */
static Jsonb *
assemble(StringInfo buf, AccessCall *calls, int ncalls, Jsonb *meta, JbChild *extra, int nextra)
{
	int			nmeta = JsonContainerSize(&meta->root);
	int			nkeys = nmeta + nextra + 1;
	JbChild    *metac = palloc(sizeof(JbChild) * 2 * Max(nmeta, 1));
	JbChild    *keys = palloc(sizeof(JbChild) * nkeys);
	JbChild    *vals = palloc(sizeof(JbChild) * nkeys);
	int		   *order = palloc(sizeof(int) * nkeys);
	int			ndata = 0;
	uint64		pos;
	uint64		keys_len = 0;
	uint64		data_start;
	uint64		data_obj;
	uint64		data_end;
	uint64	   *arr_start = palloc(sizeof(uint64) * Max(ncalls, 1));
	uint64	   *rows_at = palloc(sizeof(uint64) * Max(ncalls, 1));
	uint32		root_total = 0;
	uint32		total;
	JEntry	   *root_entries;
	uint32		header;

	if (!JsonContainerIsObject(&meta->root))
		elog(ERROR, "subject_access: the facts are not an object");
	JbChildren(&meta->root, metac);
	for (int i = 0; i < nmeta; i++)
	{
		keys[i] = metac[i];
		vals[i] = metac[nmeta + i];
	}
	for (int i = 0; i < nextra; i++)
	{
		keys[nmeta + i] = extra[2 * i];
		vals[nmeta + i] = extra[2 * i + 1];
	}
	keys[nkeys - 1] = string_child("data");
	vals[nkeys - 1].type = JENTRY_ISCONTAINER;
	/* the keys in jsonb's order ("data", the shortest, first) */
	for (int i = 0; i < nkeys; i++)
		order[i] = i;
	for (int i = 1; i < nkeys; i++)
		for (int j = i; j > 0 && JbCompareKeys(&keys[order[j - 1]], &keys[order[j]]) > 0; j--)
		{
			int			t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	if (order[0] != nkeys - 1 || JbCompareKeys(&keys[order[0]], &keys[order[1]]) == 0)
		elog(ERROR, "subject_access: \"data\" is not the first key of the document");
	for (int i = 0; i < nkeys; i++)
		keys_len += keys[i].len;

	/* where everything of data goes */
	pos = VARHDRSZ + sizeof(uint32) + 2 * nkeys * sizeof(JEntry) + keys_len;
	data_start = pos;			/* with its padding */
	pos = INTALIGN(pos);
	data_obj = pos;
	for (int i = 0; i < ncalls; i++)
		if (calls[i].n > 0)
			ndata++;
	pos += sizeof(uint32) + 2 * ndata * sizeof(JEntry);
	for (int i = 0; i < ncalls; i++)
		if (calls[i].n > 0)
			pos += strlen(calls[i].relname);
	for (int i = 0; i < ncalls; i++)
	{
		if (calls[i].n == 0)
			continue;
		arr_start[i] = pos;		/* before its padding */
		pos = INTALIGN(pos) + sizeof(uint32) + calls[i].n * sizeof(JEntry);
		rows_at[i] = pos;
		pos += calls[i].end - calls[i].start;
	}
	data_end = pos;
	JbCheckLength(data_end);
	if (data_end > (uint64) buf->len)
		enlargeStringInfo(buf, data_end - buf->len);

	/* the rows, moved into place: the last table's first */
	for (int i = ncalls - 1; i >= 0; i--)
		if (calls[i].n > 0)
			memmove(buf->data + rows_at[i], buf->data + calls[i].start, calls[i].end - calls[i].start);

	/* the root's header and keys (its JEntries when the values are written) */
	header = (uint32) nkeys | JB_FOBJECT;
	memcpy(buf->data + VARHDRSZ, &header, sizeof(uint32));
	root_entries = palloc(sizeof(JEntry) * 2 * nkeys);
	pos = VARHDRSZ + sizeof(uint32) + 2 * nkeys * sizeof(JEntry);
	for (int i = 0; i < nkeys; i++)
	{
		JbChild    *k = &keys[order[i]];

		memcpy(buf->data + pos, k->data, k->len);
		pos += k->len;
		root_total += k->len;
		root_entries[i] = JbEntry(JENTRY_ISSTRING, k->len, root_total, i);
	}
	/* data: its header, JEntries, keys; each array's padding, header and JEntries */
	memset(buf->data + pos, 0, data_obj - pos);
	header = (uint32) ndata | JB_FOBJECT;
	memcpy(buf->data + data_obj, &header, sizeof(uint32));
	pos = data_obj + sizeof(uint32) + 2 * ndata * sizeof(JEntry);
	total = 0;
	for (int i = 0, k = 0; i < ncalls; i++)
	{
		JEntry		je;
		int			len;

		if (calls[i].n == 0)
			continue;
		len = strlen(calls[i].relname);
		memcpy(buf->data + pos, calls[i].relname, len);
		pos += len;
		total += len;
		je = JbEntry(JENTRY_ISSTRING, len, total, k);
		memcpy(buf->data + data_obj + sizeof(uint32) + k * sizeof(JEntry), &je, sizeof(JEntry));
		k++;
	}
	for (int i = 0, k = 0; i < ncalls; i++)
	{
		uint64		at;
		uint32		rows_total = 0;
		JEntry		je;
		uint32		len;

		if (calls[i].n == 0)
			continue;
		at = INTALIGN(arr_start[i]);
		memset(buf->data + arr_start[i], 0, at - arr_start[i]);
		header = (uint32) calls[i].n | JB_FARRAY;
		memcpy(buf->data + at, &header, sizeof(uint32));
		for (int64 r = 0; r < calls[i].n; r++)
		{
			rows_total += calls[i].lens[r];
			je = JbEntry(JENTRY_ISCONTAINER, calls[i].lens[r], rows_total, r);
			memcpy(buf->data + at + sizeof(uint32) + r * sizeof(JEntry), &je, sizeof(JEntry));
		}
		len = rows_at[i] + (calls[i].end - calls[i].start) - arr_start[i];
		total += len;
		je = JbEntry(JENTRY_ISCONTAINER, len, total, ndata + k);
		memcpy(buf->data + data_obj + sizeof(uint32) + (ndata + k) * sizeof(JEntry), &je, sizeof(JEntry));
		k++;
	}
	if (ndata == 0)
		data_end = data_obj + sizeof(uint32);
	buf->len = data_end;

	/* the root's values: data, then the others as they are */
	root_total += data_end - data_start;
	root_entries[nkeys] = JbEntry(JENTRY_ISCONTAINER, data_end - data_start, root_total, nkeys);
	for (int i = 1; i < nkeys; i++)
	{
		uint32		len = JbPut(buf, &vals[order[i]]);

		root_total += len;
		JbCheckLength(root_total);
		root_entries[nkeys + i] = JbEntry(vals[order[i]].type, len, root_total, nkeys + i);
	}
	memcpy(buf->data + VARHDRSZ + sizeof(uint32), root_entries, 2 * nkeys * sizeof(JEntry));
	SET_VARSIZE(buf->data, buf->len);
	return (Jsonb *) buf->data;
}

/* The statements of subject_access() on the extension's own tables, kept. */
typedef struct FixedStmt
{
	const char *sql;
	int			nargs;
	Oid			argtypes[8];
	SPIPlanPtr	plan;
} FixedStmt;

static FixedStmt check_subject_stmt = {
	"SELECT privacy_tags._check_subject('subject_access', $1, $2)", 2, {TEXTOID, TEXTOID}
};
static FixedStmt check_request_stmt = {
	"SELECT privacy_tags._check_request('subject_access', $1,"
	" CASE WHEN $2 THEN '{portability,access}' ELSE '{access}' END::pg_catalog.text[], $3, $4)",
	4, {INT8OID, BOOLOID, TEXTOID, TEXTOID}
};

/*
 * What the document says besides the tables: the subject, its
 * restriction, hold, suppression, consents and objections, and the Art. 15
 * facts of the declarations ($5 the purposes, $6 the tables).
 */
static FixedStmt meta_stmt = {
	"SELECT pg_catalog.jsonb_build_object("
	"  'format', 'privacy_tags.subject_access/2',"
	"  'subject', pg_catalog.jsonb_build_object('type', $1, 'id', $2),"
	"  'generated_at', pg_catalog.now(),"
	"  'since', $3,"
	"  'portable_only', $4,"
	"  'restricted', EXISTS (SELECT FROM privacy_tags.restrictions r"
	"                         WHERE r.subject_type OPERATOR(pg_catalog.=) $1 AND r.subject_id OPERATOR(pg_catalog.=) $2"
	"                           AND r.lifted_at IS NULL),"
	"  'legal_hold', EXISTS (SELECT FROM privacy_tags.legal_holds h"
	"                         WHERE h.subject_type OPERATOR(pg_catalog.=) $1 AND h.subject_id OPERATOR(pg_catalog.=) $2"
	"                           AND h.released_at IS NULL"
	"                           AND (h.held_until IS NULL OR h.held_until OPERATOR(pg_catalog.>) pg_catalog.now())),"
	"  'suppressed', EXISTS (SELECT FROM privacy_tags.suppressions x"
	"                         WHERE x.subject_type OPERATOR(pg_catalog.=) $1 AND x.subject_id OPERATOR(pg_catalog.=) $2),"
	"  'consents', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('purpose', k.purpose,"
	"                                'granted_at', k.granted_at, 'withdrawn_at', k.withdrawn_at) ORDER BY k.purpose)"
	"                          FROM privacy_tags.consents k"
	"                         WHERE k.subject_type OPERATOR(pg_catalog.=) $1 AND k.subject_id OPERATOR(pg_catalog.=) $2), '[]'),"
	"  'objections', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
	"                                  'purpose', NULLIF(o.purpose, '*'), 'objected_at', o.objected_at,"
	"                                  'withdrawn_at', o.withdrawn_at) ORDER BY o.purpose)"
	"                            FROM privacy_tags.objections o"
	"                           WHERE o.subject_type OPERATOR(pg_catalog.=) $1 AND o.subject_id OPERATOR(pg_catalog.=) $2), '[]'))"
	" OPERATOR(pg_catalog.||) privacy_tags._access_facts($5, $6)",
	6, {TEXTOID, TEXTOID, TIMESTAMPTZOID, BOOLOID, JSONBOID, JSONBOID}
};
static FixedStmt audit_stmt = {
	"INSERT INTO privacy_tags.audit_log (action, subject_type, subject_hash, rows, details)"
	" VALUES ('access', $1, privacy_tags.subject_hash($1, $2), $3,"
	"         pg_catalog.jsonb_build_object('since', $4, 'portable_only', $5, 'tables', $6)"
	"         OPERATOR(pg_catalog.||) CASE WHEN $7 IS NOT NULL THEN pg_catalog.jsonb_build_object('request_id', $7)"
	"                                      ELSE '{}' END)",
	7, {TEXTOID, TEXTOID, INT8OID, TIMESTAMPTZOID, BOOLOID, INT8OID, INT8OID}
};
static FixedStmt close_request_stmt = {
	"SELECT privacy_tags._close_request($1, 'completed', NULL)", 1, {INT8OID}
};

/* Run a fixed statement (prepared once per backend); its first value. */
static Datum
run_fixed(FixedStmt *s, Datum *values, const char *nulls, bool read_only, bool *isnull)
{
	int			rc;

	if (s->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(s->sql, s->nargs, s->argtypes);

		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", s->sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		s->plan = plan;
	}
	rc = SPI_execute_plan(s->plan, values, nulls, read_only, 1);
	if (rc < 0)
		elog(ERROR, "could not run \"%s\": %s", s->sql, SPI_result_code_string(rc));
	*isnull = true;
	if (rc == SPI_OK_SELECT && SPI_processed > 0 && SPI_tuptable != NULL)
		return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	return (Datum) 0;
}

/*
 * subject_access(subject_type, subject_id, since, portable_only, request):
 * the right of access and portability, one jsonb document.  The rows of
 * every table of the graph come from one kept statement per table, run as
 * its owner (one role switch per run of tables of one owner), the id a
 * parameter, each row's jsonb copied once into the document (no tree of
 * it is built: the document costs about its size in memory); what is said
 * about the tables is put together here, the rest by one kept statement.
 */
PG_FUNCTION_INFO_V1(privacy_tags_subject_access);
Datum
privacy_tags_subject_access(PG_FUNCTION_ARGS)
{
	char	   *subject_type;
	Datum		id;
	bool		portable_only;
	bool		isnull;
	Graph	   *volatile g;
	MemoryContext callcxt = CurrentMemoryContext;
	StringInfoData buf;
	Jsonb	   *doc;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("subject_access: subject_type, subject_id and portable_only must not be NULL")));
	subject_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	portable_only = PG_GETARG_BOOL(3);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		Datum		v[2] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1)};

		id = run_fixed(&check_subject_stmt, v, NULL, true, &isnull);
		if (isnull)
			elog(ERROR, "subject_access: no subject id");
		id = SPI_datumTransfer(id, false, -1);
	}
	if (!PG_ARGISNULL(4))
	{
		Datum		v[4] = {PG_GETARG_DATUM(4), BoolGetDatum(portable_only), PG_GETARG_DATUM(0), id};

		(void) run_fixed(&check_request_stmt, v, NULL, true, &isnull);
	}

	g = get_graph(subject_type);
	graph_users++;
	PG_TRY();
	{
		AccessBatch batch;
		Datum		empty = PointerGetDatum(construct_empty_array(TEXTOID));
		int			ncalls = g->unsafe_key ? 0 : list_length(g->nodes);
		AccessCall *calls = palloc0(sizeof(AccessCall) * Max(ncalls, 1));
		int			i = 0;
		ListCell   *lc;
		Jsonb	   *tables;
		Jsonb	   *fields;
		Jsonb	   *summary;
		Jsonb	   *purposes;
		Jsonb	   *meta;
		JbChild		extra[6];
		int64		records = 0;
		int64		ntables = 0;

		/* (no statement at all with an unsafe key: _check_subject() refused it) */
		foreach(lc, g->unsafe_key ? NIL : g->nodes)
		{
			GNode	   *n = lfirst(lc);
			AccessCall *c = &calls[i++];
			ListCell   *la;

			c->node = n;
			foreach(la, g->access)
				if (((AccessStmt *) lfirst(la))->relid == n->relid)
					c->stmt = lfirst(la);
			if (c->stmt == NULL)
				c->stmt = build_access(g, n);
			c->owner = c->stmt->owner;
			c->run = !(portable_only && !c->stmt->portable);
			c->relname = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(n->relid)));
			memset(c->argnulls, ' ', sizeof(c->argnulls));
			c->args[0] = id;
			if (PG_ARGISNULL(2))
				c->argnulls[1] = 'n';
			else
				c->args[1] = PG_GETARG_DATUM(2);
			c->args[2] = portable_only ? c->stmt->drop : empty;
			c->args[3] = other_columns(g, n);
			c->expiry = palloc0(sizeof(TimestampTz) * Max(c->stmt->nexpiry, 1));
			c->has_expiry = palloc0(sizeof(bool) * Max(c->stmt->nexpiry, 1));
		}
		/* the tables in the order of data's keys; one role switch per run of one owner */
		qsort(calls, ncalls, sizeof(AccessCall), compare_calls_by_key);
		for (int k = 1; k < ncalls; k++)
			if (compare_calls_by_key(&calls[k - 1], &calls[k]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("subject_access: two tables of the graph are both named %s", calls[k].relname),
						 errhint("A table was renamed during the call; run it again.")));
		{
			MemoryContext spicxt = MemoryContextSwitchTo(callcxt);

			initStringInfo(&buf);
			MemoryContextSwitchTo(spicxt);
		}
		batch.calls = calls;
		batch.buf = &buf;
		batch.cxt = callcxt;
		for (int k = 0; k < ncalls;)
		{
			int			last = k;

			while (last + 1 < ncalls && calls[last + 1].owner == calls[k].owner)
				last++;
			batch.first = k;
			batch.last = last;
			RunAsOwner(calls[k].owner, run_access_batch, &batch);
			k = last + 1;
		}
		access_facts(g, calls, ncalls, portable_only, !PG_ARGISNULL(2), &tables, &fields, &summary, &purposes,
					 &records, &ntables);
		{
			Datum		v[6] = {PG_GETARG_DATUM(0), id, PG_GETARG_DATUM(2), BoolGetDatum(portable_only),
			JsonbPGetDatum(purposes), JsonbPGetDatum(tables)};
			char		nulls[6] = {' ', ' ', PG_ARGISNULL(2) ? 'n' : ' ', ' ', ' ', ' '};
			Datum		m = run_fixed(&meta_stmt, v, nulls, true, &isnull);

			if (isnull)
				elog(ERROR, "subject_access: no facts");
			meta = DatumGetJsonbP(m);
		}
		extra[0] = string_child("summary");
		extra[1] = container_child(summary);
		extra[2] = string_child("tables");
		extra[3] = container_child(tables);
		extra[4] = string_child("fields");
		extra[5] = container_child(fields);
		doc = assemble(&buf, calls, ncalls, meta, extra, 3);

		{
			Datum		v[7] = {PG_GETARG_DATUM(0), id, Int64GetDatum(records), PG_GETARG_DATUM(2),
			BoolGetDatum(portable_only), Int64GetDatum(ntables), PG_GETARG_DATUM(4)};
			char		nulls[7] = {' ', ' ', ' ', PG_ARGISNULL(2) ? 'n' : ' ', ' ', ' ', PG_ARGISNULL(4) ? 'n' : ' '};

			(void) run_fixed(&audit_stmt, v, nulls, false, &isnull);
		}
		if (!PG_ARGISNULL(4))
		{
			Datum		v[1] = {PG_GETARG_DATUM(4)};

			(void) run_fixed(&close_request_stmt, v, NULL, false, &isnull);
		}
	}
	PG_FINALLY();
	{
		graph_users--;
	}
	PG_END_TRY();
	graph_done(g);
	SPI_finish();
	PG_RETURN_JSONB_P(doc);
}

/* _invalidate(rel): drop what backends cached about rel (the graph, plans). */
PG_FUNCTION_INFO_V1(privacy_tags_invalidate);
Datum
privacy_tags_invalidate(PG_FUNCTION_ARGS)
{
	CacheInvalidateRelcacheByRelid(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
