/* plastix/error.h -- error codes, messages and CLI exit codes.
 * Errors travel as negative PLX_E* codes plus a message in a caller-supplied
 * plx_error (declared in rule.h, which plugins see).  Only the CLI prints. */
#ifndef PLASTIX_ERROR_H
#define PLASTIX_ERROR_H

#include "plastix/rule.h"

/* Exit statuses of the plastix command. */
enum { PLX_EXIT_OK = 0, PLX_EXIT_FAILED = 1, PLX_EXIT_BADINPUT = 2 };

/* Reset an error slot to "no error". */
void plx_error_clear(plx_error *err);
/* Short name of a status code ("bad input", "out of memory", ...). */
const char *plx_strerror(int code);
/* Exit status for a failure code: 2 for bad input (EINVAL, ENOTFOUND,
 * EPLUGIN, EUNSUPPORTED, and EDIVERGE: diverging dynamics come from the
 * parameters the user chose), 1 for everything else (EIO, ENOMEM). */
int plx_exit_status(int code);
/* Turn GSL's abort-on-error handler off (once, process-wide): plastix
 * checks GSL's return codes instead.  Called by every entry point that
 * uses GSL numerics. */
void plx_gsl_quiet(void);

/* Prefix err->msg with "prefix: " (keeps the code). */
void plx_error_prefix(plx_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
