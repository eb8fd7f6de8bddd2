/* kafka_int.h: internals of the Kafka backend of the log (librdkafka), shared by kafka*.c. */
#ifndef PP_KAFKA_INT_H
#define PP_KAFKA_INT_H

#include <pthread.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "pp_log.h"

#define KAFKA_MOD "kafka"
#define KAFKA_META_TIMEOUT_MS 5000
#define KAFKA_TICKETS_MIN 4096 /* ticket outcomes kept at least this many tickets back */
#define KAFKA_MAX_TOPICS 64
#define KAFKA_MAX_GROUPS 64
#define KAFKA_MAX_CONSUMERS 16

struct kafka_consumer;

/* One produce call's tickets: a slot of the ring holds the outcome of ticket t at t % cap. */
struct kafka_ticket {
    uint64_t ticket; /* 0: unused slot */
    int pending;     /* records without a delivery report yet (+1 while producing) */
    int rc;          /* 0, or the first failure (PP_EAGAIN retriable, PP_EIO fatal) */
    void (*cb)(void *arg, int rc);
    void *arg;
    int nrec;         /* records of the append call */
    int64_t offset;   /* nrec 1: the record's offset from its delivery report (-1) */
    int64_t *offsets; /* nrec > 1: per record, in entry order (owned) */
    int *rcs;         /* nrec > 1: per record, 0 or its delivery failure (in offsets' block) */
};

/* A record's delivery-report opaque: its ticket and its index in the append call. */
#define KAFKA_IDX_BITS 20
#define KAFKA_MAX_BATCH (1 << KAFKA_IDX_BITS)

struct kafka_topic {
    char name[250];
    int nparts;            /* 0 until known */
    rd_kafka_topic_t *rkt; /* producer's handle */
};

struct kafka_group {
    char name[250];
    rd_kafka_t *rk;     /* consumer with group.id = name, never subscribed: commits only */
    int used;           /* committed or looked up by the caller (listed by pp_log_groups) */
    rd_kafka_t *member; /* set while this process is a member (commits go through it) */
};

struct log_kafka {
    struct pp_log_conf conf; /* brokers and properties copied below */
    char *brokers;
    char **props;
    int nprops;
    rd_kafka_t *rk; /* producer: produce, metadata, admin, watermarks */
    /* consumers of the readers (legacy per-partition fetchers); a partition can be started
     * once per consumer, so two readers of one partition use two consumers */
    struct kafka_consumer *cons[KAFKA_MAX_CONSUMERS];
    int ncons;
    pthread_mutex_t mu; /* guards tickets, topics, groups, consumers */
    pthread_cond_t cv;  /* a ticket settled */
    struct kafka_ticket *tk;
    uint64_t cap;  /* slots in tk (power of two) */
    uint64_t last; /* last ticket handed out */
    uint64_t low;  /* every ticket below it is settled */
    struct kafka_topic topics[KAFKA_MAX_TOPICS];
    int ntopics;
    struct kafka_group groups[KAFKA_MAX_GROUPS];
    int ngroups;
    pthread_t poller;
    int poller_started;
    int connecting;         /* atomic: 1 from open until a broker answered (first contact) */
    int64_t down_us;        /* atomic: pp_mono_us() of the first ALL_BROKERS_DOWN, or 0 */
    int fatal;              /* atomic: a hopeless error while connecting (rd_kafka_resp_err_t) */
    pthread_mutex_t fail_mu; /* guards last_fail (not mu: librdkafka logs inside our calls) */
    char last_fail[256];    /* librdkafka's last connection failure while connecting */
    int closing;            /* atomic */
    int active;             /* atomic: calls in flight */
    struct pp_log_stats st; /* atomic counters */
};

/* kafka.c */
int log_kafka_open(struct pp_log *log, char *errstr, size_t errstr_size);
void log_kafka_close(struct pp_log *log);
/* Build a librdkafka configuration: bootstrap servers, the -X properties, then extra
 * "name=value" pairs (NULL-terminated). NULL on error, errstr filled with secrets masked. */
rd_kafka_conf_t *log_kafka_conf(struct log_kafka *kf, const char *const *extra, char *errstr,
                                size_t errstr_size);
/* Is name the key of a secret (its value must never appear in a message)? */
int log_kafka_secret(const char *name);
/* Replace, in msg, the value of every secret -X property by "***" (in place). */
void log_kafka_mask(const struct log_kafka *kf, char *msg);
/* Map a librdkafka error to PP_E*: retriable ones to PP_EAGAIN, the rest to PP_EIO. */
int log_kafka_err(rd_kafka_resp_err_t err);
int log_kafka_append(struct pp_log *log, const char *topic, int partition, const void *key,
                     size_t keylen, const void *value, size_t vlen, int64_t ts_ms,
                     int *partition_out, int64_t *offset, uint64_t *ticket);
int log_kafka_append_batch(struct pp_log *log, const char *topic, struct pp_log_entry *ents, int n,
                           int64_t ts_ms, uint64_t *ticket);
int log_kafka_durable(struct pp_log *log, uint64_t ticket);
int log_kafka_wait_durable(struct pp_log *log, uint64_t ticket, int timeout_ms);
int log_kafka_on_durable(struct pp_log *log, uint64_t ticket, void (*cb)(void *arg, int rc),
                         void *arg);
void log_kafka_stats(struct pp_log *log, struct pp_log_stats *st);
int log_kafka_ticket_offsets(struct pp_log *log, uint64_t ticket, int first, int64_t *offsets,
                             int *rcs, int n);

/* kafka_connect.c */
/* librdkafka's log callback for every handle: levels mapped onto pinpipe's diagnostics; the
 * producer's lines are debug while it is connecting (open reports in one line). */
void log_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
/* Route the producer's error events (ALL_BROKERS_DOWN, ...) to first contact, then to the
 * diagnostics. Only for the producer, whose poll thread serves them. */
void log_kafka_conf_errors(rd_kafka_conf_t *conf);
/* First contact: wait until a broker answers a metadata request, at most
 * conf.connect_timeout_ms; fail sooner after ALL_BROKERS_DOWN (1 s later) or a hopeless
 * error (name not resolved, authentication, TLS).
 * Needs the producer and its poll thread running. @returns 0, PP_ETIMEDOUT or PP_EIO with
 * errstr one line naming the brokers and what to check. */
int log_kafka_contact(struct pp_log *log, char *errstr, size_t errstr_size);

/* kafka_meta.c */
/* The topic entry of name (looked up or created in the table, metadata fetched when its
 * partition count is unknown). Called with kf->mu held. NULL if the table is full. */
struct kafka_topic *log_kafka_topic(struct log_kafka *kf, const char *name);
int log_kafka_partitions(struct pp_log *log, const char *topic, int create);
int log_kafka_topics(struct pp_log *log, const char **names, int max);
int log_kafka_watermarks(struct pp_log *log, const char *topic, int partition, int64_t *low,
                         int64_t *high);
void log_kafka_meta_free(struct log_kafka *kf);

/* kafka_read.c */
/* A reader of one partition (reader.c wraps it in a struct pp_log_reader). */
struct kafka_reader;
struct kafka_reader *log_kafka_reader_open(struct pp_log *log, const char *topic, int partition,
                                           int64_t offset, char *errstr, size_t errstr_size);
void log_kafka_reader_close(struct kafka_reader *krd);
int log_kafka_read(struct kafka_reader *krd, struct pp_log_rec *recs, int max, int timeout_ms);
int64_t log_kafka_reader_position(const struct kafka_reader *krd);
int log_kafka_commit(struct pp_log *log, const char *group, const char *topic, int partition,
                     int64_t next_offset, const char *meta);
int log_kafka_committed(struct pp_log *log, const char *group, const char *topic, int partition,
                        int64_t *next_offset, char *meta, size_t meta_size);
int log_kafka_groups(struct pp_log *log, char **names, int max);
void log_kafka_read_free(struct log_kafka *kf);
/* Route commits of group through member (NULL: back to the plain commit handle). */
void log_kafka_group_member(struct log_kafka *kf, const char *group, rd_kafka_t *member);

/* kafka_member.c: consumer-group membership (pp_log_subscribe on Kafka) */
struct kafka_member;
struct kafka_member *log_kafka_subscribe(struct pp_log *log, const char *group,
                                         const char *const *topics, int ntopics,
                                         const struct pp_log_member_cbs *cbs, char *errstr,
                                         size_t errstr_size);
int log_kafka_member_poll(struct kafka_member *km, int timeout_ms);
void log_kafka_unsubscribe(struct kafka_member *km);

#endif
