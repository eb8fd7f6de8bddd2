/* fault.c: named fault points switched on by $PINPIPE_TEST_FAULTS (tests only). */
#include <stdlib.h>
#include <string.h>

#include "pp_fault.h"

int pp_fault_in(const char *list, const char *point)
{
    if (!list || !point || !*point)
        return 0;
    size_t plen = strlen(point);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ", ");
        if (len == plen && !memcmp(p, point, plen))
            return 1;
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

int pp_fault(const char *point)
{
    const char *list = getenv(PP_FAULT_ENV);
    return list && *list ? pp_fault_in(list, point) : 0;
}
