/* stream_int.h: internal to src/stream: the set of partition readers both consumers share. */
#ifndef PP_STREAM_INT_H
#define PP_STREAM_INT_H

#include <signal.h>
#include <stdint.h>

#include "pp_kind.h"
#include "pp_log.h"

#define PP_STREAM_DISCOVER_MS 100 /* retry period for topics that do not exist yet */

/* One partition being consumed. */
struct pp_part {
    const char *topic; /* static: one of the kind names */
    enum pp_kind kind;
    int partition;
    struct pp_log_reader *rd;
    int64_t committed; /* position stored by the consumer's source of truth */
    int64_t loaded;    /* position after the last batch handed to the warehouse (committed or
                          in flight): where the next batch's records of it start */
    int64_t pos;       /* next offset after the records consumed so far */
    int touched;       /* consumed records not yet committed */
    int log_dirty;     /* committed position not yet copied to the log's group (stream) */
    int64_t end;       /* lake stopping: read up to here before leaving (-1: not set yet) */
};

/* Where a partition starts: fill *offset (the consumer's committed position, 0 if none).
 * May also prepare the sink (the lake truncates). @returns 0 or <0 (fatal). */
typedef int (*pp_part_start_fn)(void *arg, const char *topic, int partition, int64_t *offset);

/* The consumer gives up its partitions (a rebalance, or leaving the group): make what it
 * consumed durable (commit) now; the readers are closed right after. */
/* lost: the group moved on without this member (see pp_log_member_cbs.on_revoke). */
typedef void (*pp_part_revoke_fn)(void *arg, int lost);

struct pp_parts {
    struct pp_log *log;
    const char *mod;              /* diagnostics module name ("stream", "lake") */
    struct pp_log_member *member; /* group membership (Kafka); NULL: every partition */
    pp_part_revoke_fn revoke;
    pp_part_start_fn start;
    void *arg;
    struct pp_part *v;
    int n, cap;
    int have[PP_KIND_COUNT]; /* topic's partitions added */
    int64_t next_check_us;   /* next discovery attempt (monotonic) */
    int rr;                  /* round-robin cursor for blocking waits */
    unsigned assigns;        /* group assignments served so far (Kafka; empty ones too) */
};

void pp_parts_init(struct pp_parts *ps, struct pp_log *log, pp_part_start_fn start, void *arg);
/* Join group for pin/geo/user when the log is Kafka (the embedded log keeps discovering every
 * partition): from then on pp_parts_discover serves rebalances, adding the assigned
 * partitions and removing revoked ones (after revoke(arg)). @returns 0 or <0 (logged). */
int pp_parts_subscribe(struct pp_parts *ps, const char *group, pp_part_revoke_fn revoke);
/* Leave the group (revoke runs) and close every reader. */
void pp_parts_free(struct pp_parts *ps);
/* Add the partitions of pin/geo/user topics that exist now (at most every
 * PP_STREAM_DISCOVER_MS unless force); when subscribed, serve the group's rebalances instead.
 * @returns 0 or <0 fatal (logged). */
int pp_parts_discover(struct pp_parts *ps, int force);
/* Are all three topics being consumed? */
int pp_parts_complete(const struct pp_parts *ps);
/* Reopen part's reader at offset (after a rolled-back transaction). @returns 0 or <0. */
int pp_parts_reopen(struct pp_parts *ps, struct pp_part *part, int64_t offset);
/* Sleep up to ms in short steps, returning early when *stop is set. */
void pp_parts_nap(int ms, volatile sig_atomic_t *stop);

#endif
