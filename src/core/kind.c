/* kind.c: record kinds and the topic-name convention of the REST-proxy and Kinesis clients. */
#include <string.h>

#include "pp_kind.h"

static const char *const kind_names[PP_KIND_COUNT] = {"pin", "geo", "user"};
static const char *const id_fields[PP_KIND_COUNT] = {"index", "ind", "ind"};

const char *pp_kind_name(enum pp_kind kind)
{
    return kind >= 0 && kind < PP_KIND_COUNT ? kind_names[kind] : NULL;
}

const char *pp_kind_id_field(enum pp_kind kind)
{
    return kind >= 0 && kind < PP_KIND_COUNT ? id_fields[kind] : NULL;
}

enum pp_kind pp_kind_from_topic(const char *name, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.' || name[i] == '-' || name[i] == '_')
            start = i + 1;
    for (int k = 0; k < PP_KIND_COUNT; k++) {
        size_t n = strlen(kind_names[k]);
        if (len - start == n && memcmp(name + start, kind_names[k], n) == 0)
            return (enum pp_kind)k;
    }
    return PP_KIND_NONE;
}
