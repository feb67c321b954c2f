/*
 * subject_graph.h
 *	  The subject graph: which tables hold a data subject's rows, and how.
 */
#ifndef PRIVACY_TAGS_SUBJECT_GRAPH_H
#define PRIVACY_TAGS_SUBJECT_GRAPH_H

#include "postgres.h"

extern void SubjectGraphRelcacheInvalidate(Oid relid);

#endif							/* PRIVACY_TAGS_SUBJECT_GRAPH_H */
