/* pp_err.h: pinpipe's error codes. Fallible functions return 0 or a negative PP_E* code. */
#ifndef PP_ERR_H
#define PP_ERR_H

#define PP_OK 0
#define PP_ENOMEM (-1)     /* allocation failed or a buffer cap was reached */
#define PP_EIO (-2)        /* an I/O call failed; errno tells more */
#define PP_EPARSE (-3)     /* malformed input (JSON, datetime, number, config) */
#define PP_EINVAL (-4)     /* well-formed but invalid argument or record */
#define PP_ETIMEDOUT (-5)  /* a wait ran out */
#define PP_ETOOBIG (-6)    /* input over a configured size limit */
#define PP_ENOENT (-7)     /* no such topic, partition, file, key */
#define PP_EFULL (-8)      /* back-pressure: log or queue full, retry later */
#define PP_ESHUTDOWN (-9)  /* the component is shutting down */
#define PP_ECORRUPT (-10)  /* checksum or framing mismatch in stored data */
#define PP_EBUSY (-11)     /* resource locked by another process */
#define PP_EAGAIN (-12)    /* nothing available now, try again */
#define PP_ERANGE (-13)    /* offset or value out of range */
#define PP_ECONFLICT (-14) /* a compare-and-set lost: another writer changed it first */

/* @returns static string naming rc ("ok" for 0, "unknown error" for unknown codes). */
const char *pp_err_str(int rc);

#endif
