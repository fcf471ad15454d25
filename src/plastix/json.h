/* plastix/json.h -- reading JSON documents and writing them as a stream.
 *
 * The reader builds an immutable tree from RFC 8259 text (plus NaN,
 * Infinity and -Infinity, which Python's json module writes).  It is
 * iterative, rejects nesting deeper than PLX_JSON_MAX_DEPTH, and reports
 * errors as "name:line:column: what was expected" (columns count
 * characters, from 1).  Numbers are doubles; strings are UTF-8 with every
 * escape, \uXXXX surrogate pairs included, decoded.
 *
 * The writer streams pretty-printed JSON (2-space indent) to a FILE*, for
 * manifests: numbers round-trip exactly (shortest of %.15g/%.16g/%.17g that
 * reads back equal); non-finite numbers become null. */
#ifndef PLASTIX_JSON_H
#define PLASTIX_JSON_H

#include "plastix/rule.h"
#include <stddef.h>
#include <stdio.h>

#define PLX_JSON_MAX_DEPTH 512

typedef enum {
  PLX_JSON_NULL,
  PLX_JSON_BOOL,
  PLX_JSON_NUMBER,
  PLX_JSON_STRING,
  PLX_JSON_ARRAY,
  PLX_JSON_OBJECT
} plx_json_kind;

typedef struct plx_json plx_json;

/* Parse `len` bytes of `text` (need not be NUL-terminated); `name` stands
 * for the file in messages.  *out is owned by the caller (plx_json_free). */
int plx_json_parse(plx_json **out, const char *text, size_t len,
                   const char *name, plx_error *err);
int plx_json_parse_file(plx_json **out, const char *path, plx_error *err);
void plx_json_free(plx_json *v);

/* Accessors are NULL-safe: a NULL or wrong-kind value gives NULL, 0, NaN. */
plx_json_kind plx_json_type(const plx_json *v); /* PLX_JSON_NULL for NULL */
/* Member `key` of an object (the last one if repeated). */
const plx_json *plx_json_get(const plx_json *obj, const char *key);
size_t plx_json_len(const plx_json *v); /* array/object length, else 0 */
const plx_json *plx_json_at(const plx_json *v, size_t i); /* array/object */
const char *plx_json_key_at(const plx_json *obj, size_t i);
double plx_json_number(const plx_json *v);      /* NaN if not a number */
const char *plx_json_string(const plx_json *v); /* NULL if not a string */
/* Byte length of a string value (it may contain "\u0000"), else 0. */
size_t plx_json_string_len(const plx_json *v);
int plx_json_bool(const plx_json *v);           /* 1 for true, else 0 */

/* [[a,b],[c,d]] (a list of rows) -> column-major rows x cols doubles,
 * malloc'd (never NULL on success).  null entries read as NaN (the
 * writer's non-finite numbers).  Errors name `what` and the offending row
 * or entry, e.g. "W[3]: expected 40 numbers, got 39". */
int plx_json_matrix(const plx_json *v, const char *what, double **out,
                    size_t *rows, size_t *cols, plx_error *err);
/* [a, b, c] -> n doubles, malloc'd (never NULL on success). */
int plx_json_vector(const plx_json *v, const char *what, double **out,
                    size_t *n, plx_error *err);

/* Streaming writer.  `key` names a member inside objects and is ignored
 * inside arrays and at the top level.  Misuse (unbalanced ends, a missing
 * key in an object, a second top-level value) and write errors are
 * remembered, not printed: see plx_jw_status. */
typedef struct plx_jw plx_jw;
plx_jw *plx_jw_new(FILE *f);
void plx_jw_free(plx_jw *w);
void plx_jw_object_begin(plx_jw *w, const char *key);
void plx_jw_object_end(plx_jw *w);
void plx_jw_array_begin(plx_jw *w, const char *key);
void plx_jw_array_end(plx_jw *w);
void plx_jw_string(plx_jw *w, const char *key, const char *value);
void plx_jw_number(plx_jw *w, const char *key, double value);
void plx_jw_int(plx_jw *w, const char *key, long long value);
void plx_jw_bool(plx_jw *w, const char *key, int value);
void plx_jw_null(plx_jw *w, const char *key);
/* PLX_OK when one complete value was written without error; PLX_EINVAL
 * on misuse or an unfinished document, PLX_EIO when the stream failed. */
int plx_jw_status(const plx_jw *w);

#endif
