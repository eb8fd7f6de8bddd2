/* pp_config.h: the configuration file (INI, read with inih), environment variables and their
 * mapping onto each command's options. Precedence: command-line flag > environment variable >
 * configuration file > built-in default. */
#ifndef PP_CONFIG_H
#define PP_CONFIG_H

#include <stddef.h>

/* Resolve the configuration for command cmd and put every value it sets in front of the
 * command's own arguments, as the options they stand for (so flags given later win).
 * The file is --config FILE (taken out of the arguments), else $PINPIPE_CONFIG, else
 * ./pinpipe.conf when it exists, else none. Environment: PINPIPE_<SECTION>_<KEY>, e.g.
 * PINPIPE_SERVE_LISTEN ([pinpipe] keys: PINPIPE_<KEY>, e.g. PINPIPE_DATA_DIR), and
 * PINPIPE_KAFKA_<NAME> for [kafka] properties (PINPIPE_KAFKA_SASL_PASSWORD -> sasl.password).
 * @param argc, argv in/out: replaced by a new vector (owned by this module, valid until exit).
 * @returns 0, or 2 with errstr filled (unreadable file, syntax error, unknown key). */
int pp_config_apply(const char *cmd, int *argc, char ***argv, char *errstr, size_t errstr_size);

/* `pinpipe config`: print the effective configuration as an INI file, every key with its
 * help, default and where its value comes from; secrets masked. */
int cmd_config(int argc, char **argv);

#endif
