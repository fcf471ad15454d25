/* plastix/table.h -- tidy tables (one observation per row, named columns)
 * and their CSV files.
 *
 * Columns are typed: 's' string, 'f' double, 'i' integer (held as a double,
 * printed without decimals).  CSV files have a header row, RFC 4180
 * quoting, numbers as "%.10g" ("nan", "inf", "-inf" for non-finite values)
 * and may start with '#' comment lines.  Reading infers each column's type:
 * integer when every cell is an integer literal, number when every cell
 * parses as a number ("nan", "inf" included), else string.  Empty and "NA"
 * cells are missing numbers (NaN), but a column of nothing but such cells
 * is a string column; a table without rows has all-'f' columns.  Unquoted
 * fields lose surrounding blanks; blank lines are skipped.  Reader errors
 * are one line naming file:line. */
#ifndef PLASTIX_TABLE_H
#define PLASTIX_TABLE_H

#include "plastix/rule.h"
#include <stddef.h>

typedef struct plx_table plx_table;

/* `names` has ncols entries (copied); `types` one char per column from
 * "sfi" (NULL: all 'f').  NULL on bad arguments or out of memory. */
plx_table *plx_table_new(size_t ncols, const char *const *names,
                         const char *types);
void plx_table_free(plx_table *t);

/* Append a row: string columns take their values from s[] in order (NULL
 * entries are empty strings), numeric columns from v[] in order.  Either
 * array may be NULL when the table has no columns of that kind. */
int plx_table_append(plx_table *t, const char *const *s, const double *v);

size_t plx_table_rows(const plx_table *t);
size_t plx_table_cols(const plx_table *t);
const char *plx_table_name(const plx_table *t, size_t col);
/* 's', 'f' or 'i'; 0 when col is out of range. */
char plx_table_type(const plx_table *t, size_t col);
/* Index of the first column called `name`, -1 if absent. */
int plx_table_col_index(const plx_table *t, const char *name);
/* Numeric cell; NaN for string columns or out-of-range indices. */
double plx_table_get(const plx_table *t, size_t row, size_t col);
/* String cell; NULL for numeric columns or out-of-range indices. */
const char *plx_table_get_string(const plx_table *t, size_t row, size_t col);

/* Header comments, written as "# line" before the header row (embedded
 * newlines start new comment lines).  Reading a CSV collects its leading
 * comment lines here, without the '#' and one following space. */
int plx_table_comment(plx_table *t, const char *line);
size_t plx_table_n_comments(const plx_table *t);
const char *plx_table_comment_at(const plx_table *t, size_t i);

int plx_table_write_csv(const plx_table *t, const char *path, plx_error *err);
/* Read a CSV with a header row (types inferred as described above). */
int plx_table_read_csv(plx_table **out, const char *path, plx_error *err);

#endif
