/* err.c: names for PP_E* codes. */
#include "pp_err.h"

const char *pp_err_str(int rc)
{
    switch (rc) {
    case PP_OK: return "ok";
    case PP_ENOMEM: return "out of memory";
    case PP_EIO: return "I/O error";
    case PP_EPARSE: return "parse error";
    case PP_EINVAL: return "invalid argument";
    case PP_ETIMEDOUT: return "timed out";
    case PP_ETOOBIG: return "too big";
    case PP_ENOENT: return "not found";
    case PP_EFULL: return "full, retry later";
    case PP_ESHUTDOWN: return "shutting down";
    case PP_ECORRUPT: return "corrupt data";
    case PP_EBUSY: return "busy: locked by another process";
    case PP_EAGAIN: return "try again";
    case PP_ERANGE: return "out of range";
    case PP_ECONFLICT: return "conflict: changed by another writer";
    default: return "unknown error";
    }
}
