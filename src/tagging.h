/*
 * tagging.h
 *	  Column tags and subject keys (security label providers).
 */
#ifndef PRIVACY_TAGS_TAGGING_H
#define PRIVACY_TAGS_TAGGING_H

#include "postgres.h"

#include "access/attnum.h"

#include "privacy_tag_parse.h"

#define PT_TAG_PROVIDER		"privacy_tags"
#define PT_SUBJECT_PROVIDER "privacy_tags_subject"

extern void tagging_init(void);
extern void tagging_set_label(Oid relid, AttrNumber attnum, const char *provider,
							  const char *label);
extern void parse_subject_or_error(const char *label, PtSubject *subject);

#endif							/* PRIVACY_TAGS_TAGGING_H */
