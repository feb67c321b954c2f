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
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "as_owner.h"
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

/*
 * What subject_access() needs of one table of the graph, found once per
 * graph: the facts of its tagged columns, the columns a portable export
 * leaves out, and the one statement that reads the subject's rows (with the
 * shared count and the expiry of each windowed column), prepared on first
 * use as the table's owner and kept until the graph goes.
 */
typedef struct AccessStmt
{
	Oid			relid;
	char	   *columns;		/* jsonb text: [{column, category, basis, ...}] */
	Datum		columns_jsonb;	/* the same, as jsonb */
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
	char	   *shared;
	char	   *expires;
	bool		isnull;
	int			rc;
	MemoryContext old;

	values[0] = ObjectIdGetDatum(n->relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * The facts of the tagged columns (in the order of _tagged_columns()),
	 * the columns a portable export leaves out, whether it keeps any, and
	 * the expiry expressions of the windowed columns.
	 */
	rc = SPI_execute_with_args(
		"WITH c AS (SELECT x.* FROM privacy_tags._tagged_columns($1) WITH ORDINALITY x(column_name, tag, basis, nn, is_key, anchor, o))"
		" SELECT (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object("
		"            'column', c.column_name, 'category', privacy_tags.category(c.tag), 'basis', c.basis,"
		"            'special', privacy_tags.special_condition(c.tag), 'purposes', pg_catalog.to_jsonb(privacy_tags.purposes(c.tag)),"
		"            'retain', CASE WHEN privacy_tags.retention(c.tag) IS NOT NULL THEN"
		"                           pg_catalog.substring(c.tag::pg_catalog.text, 'retain=([^;]*)') END,"
		"            'on_expiry', privacy_tags.expiry_action(c.tag))) ORDER BY c.o), '[]') FROM c)::pg_catalog.text,"
		"        (SELECT coalesce(pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum), '{}')"
		"           FROM pg_catalog.pg_attribute a"
		"          WHERE a.attrelid OPERATOR(pg_catalog.=) $1 AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
		"            AND NOT EXISTS (SELECT FROM c WHERE c.column_name OPERATOR(pg_catalog.=) a.attname"
		"                                              AND c.basis OPERATOR(pg_catalog.=) ANY ('{consent,contract}')))::pg_catalog.text[],"
		"        EXISTS (SELECT FROM c WHERE c.basis OPERATOR(pg_catalog.=) ANY ('{consent,contract}')),"
		"        (SELECT pg_catalog.string_agg(pg_catalog.format('%L, pg_catalog.to_jsonb(pg_catalog.max(t.%I::pg_catalog.timestamptz"
		" OPERATOR(pg_catalog.+) %L::pg_catalog.interval))', c.column_name, c.anchor, privacy_tags.retention(c.tag)), ', ' ORDER BY c.o)"
		"           FROM c WHERE privacy_tags.retention(c.tag) IS NOT NULL)",
		1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the tagged columns of relation %u", n->relid);

	old = MemoryContextSwitchTo(g->cxt);
	a = palloc0(sizeof(AccessStmt));
	a->relid = n->relid;
	a->columns = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	a->columns_jsonb = DirectFunctionCall1(jsonb_in, CStringGetDatum(a->columns));
	a->owner = RelationOwner(n->relid);
	a->drop = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull), false, -1);
	a->portable = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	expires = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);

	/*
	 * $1 the id, $2 since (NULL: every row), $3 the columns left out, $4
	 * the other subjects' keys and references, left out of shared rows.
	 */
	initStringInfo(&pred);
	render_pred(&pred, g, n, "t", 0, "$1", false);
	shared = (n->tagged || n->kind != NODE_PARENT) ? render_shared(g, n, "$1", false) : NULL;
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.jsonb_build_array(coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t)"
					 " OPERATOR(pg_catalog.-) $3 OPERATOR(pg_catalog.-) CASE WHEN %s THEN $4 ELSE '{}'::pg_catalog.text[] END"
					 " ORDER BY t.tableoid, t.ctid), '[]'::pg_catalog.jsonb), pg_catalog.count(*) FILTER (WHERE %s),"
					 " pg_catalog.jsonb_build_object(%s)) FROM %s t WHERE %s",
					 shared ? shared : "false", shared ? shared : "false",
					 expires ? expires : "", n->name, pred.data);
	if (n->collected_at)
		appendStringInfo(&sql, " AND ($2 IS NULL OR t.%s OPERATOR(pg_catalog.>=) $2)",
						 quote_identifier(n->collected_at));
	a->sql = sql.data;
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

/* One table's part of _access_rows(): its statement, arguments and result. */
typedef struct AccessCall
{
	GNode	   *node;
	AccessStmt *stmt;
	Oid			owner;
	bool		run;			/* not left out of a portable export */
	Datum		args[4];
	char		argnulls[4];
	Datum		result;
	bool		isnull;
} AccessCall;

typedef struct AccessBatch
{
	AccessCall *calls;
	int			ncalls;
	Oid			owner;
} AccessBatch;

static Oid	access_argtypes[4] = {TEXTOID, TIMESTAMPTZOID, TEXTARRAYOID, TEXTARRAYOID};

/* As the owner of a batch: every statement of the owner's tables. */
static void
run_access_batch(void *arg)
{
	AccessBatch *b = arg;

	for (int i = 0; i < b->ncalls; i++)
	{
		AccessCall *c = &b->calls[i];
		int			rc;

		if (!c->run || c->owner != b->owner)
			continue;
		if (c->stmt->plan == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare(c->stmt->sql, 4, access_argtypes);

			if (plan == NULL)
				elog(ERROR, "could not prepare a statement on relation %u: %s",
					 c->node->relid, SPI_result_code_string(SPI_result));
			SPI_keepplan(plan);
			c->stmt->plan = plan;
		}
		rc = SPI_execute_plan(c->stmt->plan, c->args, c->argnulls, true, 0);
		if (rc != SPI_OK_SELECT || SPI_tuptable == NULL || SPI_tuptable->tupdesc->natts != 1)
			elog(ERROR, "could not read relation %u: %s", c->node->relid, SPI_result_code_string(rc));
		c->isnull = true;
		if (SPI_processed > 0)
		{
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &c->isnull);

			if (!c->isnull)
				c->result = SPI_datumTransfer(d, false, -1);
		}
		SPI_freetuptable(SPI_tuptable);
	}
}

/*
 * _access_rows(subject_type, id, since, portable_only): per table of the
 * graph: relation, kind, via, depth, tagged, whether it says when rows were
 * collected, the facts of its tagged columns, and [the subject's rows, how
 * many are shared, the expiry of each windowed column over them] (NULL
 * where a portable export leaves the table out).  One kept statement per
 * table, run as its owner (one role switch per owner), the id a parameter.
 */
PG_FUNCTION_INFO_V1(privacy_tags_access_rows);
Datum
privacy_tags_access_rows(PG_FUNCTION_ARGS)
{
	char	   *subject_type;
	TupleDesc	tupdesc;
	Tuplestorestate *store;
	MemoryContext per_query;
	Graph	   *volatile g;
	ListCell   *lc;
	bool		portable_only;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		elog(ERROR, "_access_rows: subject_type, id and portable_only must not be NULL");
	subject_type = text_to_cstring(PG_GETARG_TEXT_PP(0));
	portable_only = PG_GETARG_BOOL(3);
	store = MaterializedResult(fcinfo, &tupdesc, &per_query);
	g = get_graph(subject_type);
	if (g->unsafe_key)
		return (Datum) 0;		/* no statement at all: refused by _check_subject() before */

	graph_users++;
	PG_TRY();
	{
		AccessBatch batch;
		Datum		empty = PointerGetDatum(construct_empty_array(TEXTOID));
		int			i = 0;

		batch.ncalls = list_length(g->nodes);
		batch.calls = palloc0(sizeof(AccessCall) * Max(batch.ncalls, 1));
		foreach(lc, g->nodes)
		{
			GNode	   *n = lfirst(lc);
			AccessCall *c = &batch.calls[i++];
			ListCell   *la;

			c->node = n;
			foreach(la, g->access)
				if (((AccessStmt *) lfirst(la))->relid == n->relid)
					c->stmt = lfirst(la);
			if (c->stmt == NULL)
				c->stmt = build_access(g, n);
			c->owner = c->stmt->owner;
			c->run = !(portable_only && !c->stmt->portable);
			memset(c->argnulls, ' ', sizeof(c->argnulls));
			c->args[0] = PG_GETARG_DATUM(1);
			if (PG_ARGISNULL(2))
				c->argnulls[1] = 'n';
			else
				c->args[1] = PG_GETARG_DATUM(2);
			c->args[2] = portable_only ? c->stmt->drop : empty;
			c->args[3] = other_columns(g, n);
			c->isnull = true;
		}
		/* one role switch per owner, in the order the owners come */
		for (int k = 0; k < batch.ncalls; k++)
		{
			bool		seen = false;

			if (!batch.calls[k].run)
				continue;
			for (int j = 0; j < k; j++)
				if (batch.calls[j].run && batch.calls[j].owner == batch.calls[k].owner)
					seen = true;
			if (seen)
				continue;
			batch.owner = batch.calls[k].owner;
			RunAsOwner(batch.owner, run_access_batch, &batch);
		}
		for (int k = 0; k < batch.ncalls; k++)
		{
			AccessCall *c = &batch.calls[k];
			Datum		values[8];
			bool		nulls[8];
			MemoryContext old;

			memset(nulls, 0, sizeof(nulls));
			values[0] = ObjectIdGetDatum(c->node->relid);
			values[1] = CStringGetTextDatum(kind_name(c->node->kind));
			values[2] = CStringGetTextDatum(describe_via(g, c->node));
			values[3] = Int32GetDatum(c->node->depth);
			values[4] = BoolGetDatum(c->node->tagged);
			values[5] = BoolGetDatum(c->node->collected_at != NULL);
			values[6] = c->stmt->columns_jsonb;
			values[7] = c->result;
			nulls[7] = c->isnull;
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

/* _invalidate(rel): drop what backends cached about rel (the graph, plans). */
PG_FUNCTION_INFO_V1(privacy_tags_invalidate);
Datum
privacy_tags_invalidate(PG_FUNCTION_ARGS)
{
	CacheInvalidateRelcacheByRelid(PG_GETARG_OID(0));
	PG_RETURN_VOID();
}
