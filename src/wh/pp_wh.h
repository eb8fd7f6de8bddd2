/* pp_wh.h: the warehouse (embedded backend: SQLite; PostgreSQL will implement the same).
 *
 * Tables pin, geo, user hold cleaned rows (pp_clean.h columns), primary key ind (dedup by
 * id: a resend never double-counts). pp_offsets(consumer_group, topic, partition,
 * next_offset) holds consumed positions, written in the same transaction as the rows, which
 * is what makes the stream exactly once. insight_<name>(run_date, <columns>) tables hold
 * each batch run's snapshot (PRODUCT.md "Insights").
 */
#ifndef PP_WH_H
#define PP_WH_H

#include <stdint.h>
#include <stdio.h>

#include "pp_clean.h"

struct pp_wh;

enum pp_wh_format { PP_WH_TABLE, PP_WH_JSON, PP_WH_CSV };

/* Open or create the warehouse at path (SQLite file; WAL mode), creating the schema.
 * @returns owned: release with pp_wh_close(). NULL on error with errstr filled. */
struct pp_wh *pp_wh_open(const char *path, char *errstr, size_t errstr_size);
void pp_wh_close(struct pp_wh *wh);

int pp_wh_begin(struct pp_wh *wh);
int pp_wh_commit(struct pp_wh *wh);
int pp_wh_rollback(struct pp_wh *wh);

/* Insert a cleaned row; an existing row with the same ind is replaced (latest wins).
 * @returns 0 or PP_EIO. */
int pp_wh_upsert(struct pp_wh *wh, const struct pp_row *row);
/* Record a consumed position (inside the caller's transaction). */
int pp_wh_offset_set(struct pp_wh *wh, const char *group, const char *topic, int partition,
                     int64_t next_offset);
/* @returns 0 with *next_offset, or PP_ENOENT (start from the beginning). */
int pp_wh_offset_get(struct pp_wh *wh, const char *group, const char *topic, int partition,
                     int64_t *next_offset);
/* Rows in the kind's table. */
int pp_wh_count(struct pp_wh *wh, enum pp_kind kind, int64_t *n);
/* Store a record that could not be cleaned (dead letters). */
int pp_wh_reject(struct pp_wh *wh, const char *topic, int partition, int64_t offset,
                 const char *error, const char *value, size_t vlen);

/* Compute the nine insights now over the current tables and print them to out in format
 * (json: one object keyed by insight name, each an array of row objects; PRODUCT.md contract).
 * @returns 0 or PP_EIO. */
int pp_wh_insights_print(struct pp_wh *wh, enum pp_wh_format format, FILE *out);
/* Compute the insights and store them under run_date ("YYYY-MM-DD"), replacing that date's. */
int pp_wh_insights_snapshot(struct pp_wh *wh, const char *run_date);

#endif
