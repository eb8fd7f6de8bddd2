/* pp_fault.h: named fault points for tests (SQLite's and curl's habit of injecting failures
 * into the real binary). Never set in production. */
#ifndef PP_FAULT_H
#define PP_FAULT_H

/* The environment variable listing the active fault points, comma-separated
 * (PINPIPE_TEST_FAULTS=log_ticket_records,...). */
#define PP_FAULT_ENV "PINPIPE_TEST_FAULTS"

/* Is fault point `point` switched on? A point is a name of [a-z0-9_.]; it matches a whole
 * entry of $PINPIPE_TEST_FAULTS only ("ticket" does not match "ticket_records"). Reads the
 * environment on every call (a scan of environ, no allocation): for paths taken once per
 * request or less, never per record. @returns 1 on, 0 off. @thread any (as getenv).
 *
 * Points:
 *   log_ticket_records  pp_log_ticket_range on Kafka fails with PP_ENOENT, as for a ticket
 *                       forgotten since it settled: the records' offsets are unknown
 *                       (src/log/sync.c; tests/integration/kafka_faults.sh). */
int pp_fault(const char *point);

/* pp_fault on a given list instead of the environment (for unit tests).
 * @returns 1 if `point` is an entry of `list` (NULL: none), 0 otherwise. */
int pp_fault_in(const char *list, const char *point);

#endif
