/*
 * renames.h
 *	  Labels that name columns follow ALTER TABLE ... RENAME COLUMN.
 */
#ifndef PRIVACY_TAGS_RENAMES_H
#define PRIVACY_TAGS_RENAMES_H

extern void renames_init(void);

#endif							/* PRIVACY_TAGS_RENAMES_H */
