/* table.c -- tidy tables in memory and as CSV files.
 *
 * Results leave plastix as tidy CSV: one observation per row, a header of
 * column names, optional '#' comment lines on top.  The writer quotes by
 * RFC 4180 (plus fields with surrounding blanks, a leading '#', or the
 * empty field of a one-column table, so that reading gives them back); the
 * reader undoes that, infers column types, and reports malformed input as
 * "file:line: what is wrong". */
#include "config.h"
#include "plastix/table.h"
#include "plastix/error.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plx_col {
  char *name;
  char type;   /* 's', 'f', 'i' */
  double *d;   /* numeric cells (type 'f', 'i') */
  char **s;    /* string cells (type 's')       */
};

struct plx_table {
  size_t ncols, nrows, cap;
  struct plx_col *cols;
  size_t ncomments;
  char **comments;
};

static char *dupn(const char *s, size_t n)
{
  char *d = malloc(n + 1);
  if (d) {
    if (n)
      memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static char *dupstr(const char *s)
{
  return dupn(s, strlen(s));
}

/* ------------------------------------------------------------ the table */

plx_table *plx_table_new(size_t ncols, const char *const *names,
                         const char *types)
{
  plx_table *t;
  size_t j;
  if (ncols == 0 || !names)
    return NULL;
  for (j = 0; j < ncols; j++) {
    char c = types ? types[j] : 'f';
    if (c != 's' && c != 'f' && c != 'i')
      return NULL; /* also stops at a short `types` string's '\0' */
  }
  t = calloc(1, sizeof *t);
  if (!t || !(t->cols = calloc(ncols, sizeof *t->cols))) {
    free(t);
    return NULL;
  }
  t->ncols = ncols;
  for (j = 0; j < ncols; j++) {
    t->cols[j].type = types ? types[j] : 'f';
    if (!(t->cols[j].name = dupstr(names[j] ? names[j] : ""))) {
      plx_table_free(t);
      return NULL;
    }
  }
  return t;
}

void plx_table_free(plx_table *t)
{
  size_t i, j;
  if (!t)
    return;
  for (j = 0; t->cols && j < t->ncols; j++) {
    struct plx_col *c = &t->cols[j];
    if (c->s)
      for (i = 0; i < t->nrows; i++)
        free(c->s[i]);
    free(c->s);
    free(c->d);
    free(c->name);
  }
  for (i = 0; i < t->ncomments; i++)
    free(t->comments[i]);
  free(t->comments);
  free(t->cols);
  free(t);
}

static int reserve(plx_table *t, size_t rows)
{
  size_t cap, j;
  if (rows <= t->cap)
    return PLX_OK;
  cap = t->cap ? t->cap : 16;
  while (cap < rows)
    cap *= 2;
  if (cap > SIZE_MAX / sizeof(double))
    return PLX_ENOMEM;
  for (j = 0; j < t->ncols; j++) {
    struct plx_col *c = &t->cols[j];
    if (c->type == 's') {
      char **s = realloc(c->s, cap * sizeof *s);
      if (!s)
        return PLX_ENOMEM;
      c->s = s;
    } else {
      double *d = realloc(c->d, cap * sizeof *d);
      if (!d)
        return PLX_ENOMEM;
      c->d = d;
    }
  }
  t->cap = cap;
  return PLX_OK;
}

int plx_table_append(plx_table *t, const char *const *s, const double *v)
{
  size_t j, ks = 0, kv = 0, r;
  if (!t)
    return PLX_EINVAL;
  for (j = 0; j < t->ncols; j++) {
    if (t->cols[j].type == 's' && !s)
      return PLX_EINVAL;
    if (t->cols[j].type != 's' && !v)
      return PLX_EINVAL;
  }
  if (reserve(t, t->nrows + 1))
    return PLX_ENOMEM;
  r = t->nrows;
  for (j = 0; j < t->ncols; j++) {
    struct plx_col *c = &t->cols[j];
    if (c->type == 's') {
      const char *x = s[ks++];
      if (!(c->s[r] = dupstr(x ? x : ""))) {
        while (j-- > 0)
          if (t->cols[j].type == 's')
            free(t->cols[j].s[r]);
        return PLX_ENOMEM;
      }
    } else {
      c->d[r] = v[kv++];
    }
  }
  t->nrows++;
  return PLX_OK;
}

size_t plx_table_rows(const plx_table *t)
{
  return t ? t->nrows : 0;
}

size_t plx_table_cols(const plx_table *t)
{
  return t ? t->ncols : 0;
}

const char *plx_table_name(const plx_table *t, size_t col)
{
  return t && col < t->ncols ? t->cols[col].name : NULL;
}

char plx_table_type(const plx_table *t, size_t col)
{
  return t && col < t->ncols ? t->cols[col].type : 0;
}

int plx_table_col_index(const plx_table *t, const char *name)
{
  size_t j;
  if (!t || !name)
    return -1;
  for (j = 0; j < t->ncols && j < (size_t)INT_MAX; j++)
    if (strcmp(t->cols[j].name, name) == 0)
      return (int)j;
  return -1;
}

double plx_table_get(const plx_table *t, size_t row, size_t col)
{
  if (!t || row >= t->nrows || col >= t->ncols || t->cols[col].type == 's')
    return NAN;
  return t->cols[col].d[row];
}

const char *plx_table_get_string(const plx_table *t, size_t row, size_t col)
{
  if (!t || row >= t->nrows || col >= t->ncols || t->cols[col].type != 's')
    return NULL;
  return t->cols[col].s[row];
}

static int add_comment(plx_table *t, const char *s, size_t n)
{
  char **c = realloc(t->comments, (t->ncomments + 1) * sizeof *c);
  if (!c)
    return PLX_ENOMEM;
  t->comments = c;
  if (!(c[t->ncomments] = dupn(s, n)))
    return PLX_ENOMEM;
  t->ncomments++;
  return PLX_OK;
}

int plx_table_comment(plx_table *t, const char *line)
{
  if (!t || !line)
    return PLX_EINVAL;
  for (;;) {
    size_t n = strcspn(line, "\r\n");
    int rc = add_comment(t, line, n);
    if (rc)
      return rc;
    if (!line[n])
      return PLX_OK;
    line += n + (line[n] == '\r' && line[n + 1] == '\n' ? 2 : 1);
  }
}

size_t plx_table_n_comments(const plx_table *t)
{
  return t ? t->ncomments : 0;
}

const char *plx_table_comment_at(const plx_table *t, size_t i)
{
  return t && i < t->ncomments ? t->comments[i] : NULL;
}

/* ---------------------------------------------------------------- writing */

static int is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static void put_field(FILE *f, const char *s, int first, int only)
{
  size_t n = strlen(s);
  int quote = strpbrk(s, ",\"\r\n") != NULL ||
              (n > 0 && (is_blank(s[0]) || is_blank(s[n - 1]))) ||
              (first && s[0] == '#') || (only && n == 0);
  if (!first)
    fputc(',', f);
  if (!quote) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void put_number(FILE *f, double x, char type, int first)
{
  if (!first)
    fputc(',', f);
  if (isnan(x))
    fputs("nan", f);
  else if (isinf(x))
    fputs(x > 0 ? "inf" : "-inf", f);
  else if (type == 'i')
    fprintf(f, "%.0f", x);
  else
    fprintf(f, "%.10g", x);
}

int plx_table_write_csv(const plx_table *t, const char *path, plx_error *err)
{
  FILE *f;
  size_t i, j;
  int bad;
  if (!t || !path)
    return plx_error_set(err, PLX_EINVAL, "%s: no table to write",
                         path ? path : "(null)");
  f = fopen(path, "w");
  if (!f)
    return plx_error_set(err, PLX_EIO, "%s: cannot open for writing: %s",
                         path, strerror(errno));
  for (i = 0; i < t->ncomments; i++)
    fprintf(f, t->comments[i][0] ? "# %s\n" : "#%s\n", t->comments[i]);
  for (j = 0; j < t->ncols; j++)
    put_field(f, t->cols[j].name, j == 0, t->ncols == 1);
  fputc('\n', f);
  for (i = 0; i < t->nrows; i++) {
    for (j = 0; j < t->ncols; j++) {
      const struct plx_col *c = &t->cols[j];
      if (c->type == 's')
        put_field(f, c->s[i], j == 0, t->ncols == 1);
      else
        put_number(f, c->d[i], c->type, j == 0);
    }
    fputc('\n', f);
  }
  bad = ferror(f);
  if (fclose(f) != 0 || bad)
    return plx_error_set(err, PLX_EIO, "%s: write failed: %s", path,
                         strerror(errno ? errno : EIO));
  return PLX_OK;
}

/* ---------------------------------------------------------------- reading */

struct csv {
  const char *path;
  const char *p, *end;
  size_t line;       /* line of *p */
  char *buf;         /* field being assembled */
  size_t len, cap;
  char **cells;      /* all fields of all records, row after row */
  size_t ncells, capcells;
};

static int buf_put(struct csv *c, char ch)
{
  if (c->len + 1 >= c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    char *b = realloc(c->buf, cap);
    if (!b)
      return PLX_ENOMEM;
    c->buf = b;
    c->cap = cap;
  }
  c->buf[c->len++] = ch;
  return PLX_OK;
}

static int push_cell(struct csv *c, const char *s, size_t n)
{
  if (c->ncells == c->capcells) {
    size_t cap = c->capcells ? 2 * c->capcells : 256;
    char **v = realloc(c->cells, cap * sizeof *v);
    if (!v)
      return PLX_ENOMEM;
    c->cells = v;
    c->capcells = cap;
  }
  if (!(c->cells[c->ncells] = dupn(s, n)))
    return PLX_ENOMEM;
  c->ncells++;
  return PLX_OK;
}

/* Consume a line ending at c->p (\n, \r\n or \r); 1 if there was one. */
static int eat_newline(struct csv *c)
{
  if (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
    if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
      c->p++;
    c->p++;
    c->line++;
    return 1;
  }
  return 0;
}

/* Parse one record at c->p, appending its fields to c->cells; *nf gets the
 * number of fields (0 for a blank line, which is skipped). */
static int read_record(struct csv *c, size_t *nf, plx_error *err)
{
  int rc;
  *nf = 0;
  if (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
    eat_newline(c);
    return PLX_OK;
  }
  for (;;) {
    c->len = 0;
    if (c->p < c->end && *c->p == '"') {
      size_t qline = c->line;
      c->p++;
      for (;;) {
        if (c->p >= c->end)
          return plx_error_set(err, PLX_EINVAL,
                               "%s:%zu: unterminated quoted field", c->path,
                               qline);
        if (*c->p == '"') {
          if (c->p + 1 < c->end && c->p[1] == '"') {
            c->p += 2;
            if ((rc = buf_put(c, '"')))
              return rc;
            continue;
          }
          c->p++;
          break;
        }
        if (*c->p == '\n')
          c->line++;
        if ((rc = buf_put(c, *c->p++)))
          return rc;
      }
      if ((rc = push_cell(c, c->buf, c->len)))
        return rc;
    } else {
      const char *s = c->p, *e;
      while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r')
        c->p++;
      e = c->p;
      while (s < e && is_blank(*s))
        s++;
      while (e > s && is_blank(e[-1]))
        e--;
      if ((rc = push_cell(c, s, (size_t)(e - s))))
        return rc;
    }
    (*nf)++;
    if (c->p >= c->end || eat_newline(c))
      return PLX_OK;
    if (*c->p != ',')
      return plx_error_set(err, PLX_EINVAL,
                           "%s:%zu: expected ',' or end of line after "
                           "closing quote of field %zu",
                           c->path, c->line, *nf);
    c->p++;
  }
}

static char *read_file(const char *path, size_t *n, int *errnum)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, len = 0, got;
  *errnum = 0;
  if (!f) {
    *errnum = errno;
    return NULL;
  }
  do {
    if (len + 4096 > cap) {
      size_t ncap = cap ? 2 * cap : 65536;
      char *b = realloc(buf, ncap);
      if (!b) {
        free(buf);
        fclose(f);
        *errnum = ENOMEM;
        return NULL;
      }
      buf = b;
      cap = ncap;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
  } while (got > 0);
  if (ferror(f)) {
    *errnum = errno ? errno : EIO;
    free(buf);
    fclose(f);
    return NULL;
  }
  fclose(f);
  *n = len;
  return buf;
}

static int is_integer_literal(const char *s)
{
  if (*s == '+' || *s == '-')
    s++;
  if (!isdigit((unsigned char)*s))
    return 0;
  while (isdigit((unsigned char)*s))
    s++;
  return *s == '\0';
}

/* 1 number, 0 missing (NaN), -1 not a number. */
static int parse_cell(const char *s, double *x)
{
  char *end;
  if (!s[0] || strcmp(s, "NA") == 0) {
    *x = NAN;
    return 0;
  }
  if (strpbrk(s, "xX") || isspace((unsigned char)s[0]))
    return -1;
  errno = 0;
  *x = strtod(s, &end);
  if (end == s || *end != '\0')
    return -1;
  return 1; /* "nan" and "inf" too: the writer's non-finite numbers */
}

int plx_table_read_csv(plx_table **out, const char *path, plx_error *err)
{
  struct csv c;
  plx_table *t = NULL;
  char *text, *types = NULL;
  size_t n = 0, ncols = 0, nrows, i, j, nf;
  int errnum, rc = PLX_OK;
  char **comments = NULL;
  size_t ncomments = 0;

  if (!out || !path)
    return plx_error_set(err, PLX_EINVAL, "CSV: no file name");
  *out = NULL;
  text = read_file(path, &n, &errnum);
  if (!text)
    return plx_error_set(err, errnum == ENOMEM ? PLX_ENOMEM : PLX_EIO,
                         "%s: cannot read: %s", path, strerror(errnum));
  memset(&c, 0, sizeof c);
  c.path = path;
  c.p = text;
  c.end = text + n;
  c.line = 1;
  if (n >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    c.p += 3;

  /* leading comments and blank lines */
  while (c.p < c.end && (*c.p == '#' || *c.p == '\n' || *c.p == '\r')) {
    if (*c.p == '#') {
      const char *s = c.p + 1, *e;
      char **v;
      if (s < c.end && *s == ' ')
        s++;
      e = s;
      while (e < c.end && *e != '\n' && *e != '\r')
        e++;
      v = realloc(comments, (ncomments + 1) * sizeof *v);
      if (!v || !(v[ncomments] = dupn(s, (size_t)(e - s)))) {
        comments = v ? v : comments;
        rc = plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
        goto done;
      }
      comments = v;
      ncomments++;
      c.p = e;
    }
    eat_newline(&c);
  }

  /* header */
  if (c.p >= c.end) {
    rc = plx_error_set(err, PLX_EINVAL, "%s:%zu: no header row", path,
                       c.line);
    goto done;
  }
  if ((rc = read_record(&c, &ncols, err)))
    goto done;

  /* records */
  while (c.p < c.end) {
    size_t line = c.line;
    if ((rc = read_record(&c, &nf, err)))
      goto done;
    if (nf != 0 && nf != ncols) {
      rc = plx_error_set(err, PLX_EINVAL,
                         "%s:%zu: expected %zu field%s, got %zu", path, line,
                         ncols, ncols == 1 ? "" : "s", nf);
      goto done;
    }
  }
  nrows = c.ncells / ncols - 1;

  /* column types */
  types = malloc(ncols + 1);
  if (!types) {
    rc = plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  for (j = 0; j < ncols; j++) {
    int numbers = 0, integers = 1;
    char type = 'f';
    for (i = 0; i < nrows; i++) {
      const char *s = c.cells[(i + 1) * ncols + j];
      double x;
      int k = parse_cell(s, &x);
      if (k < 0) {
        type = 's';
        break;
      }
      numbers += k;
      if (k > 0 && !is_integer_literal(s))
        integers = 0;
    }
    if (type != 's' && nrows > 0 && numbers == 0)
      type = 's'; /* nothing but empty cells */
    else if (type != 's' && numbers > 0 && integers)
      type = 'i';
    types[j] = type;
  }
  types[ncols] = '\0';

  t = plx_table_new(ncols, (const char *const *)c.cells, types);
  if (!t || reserve(t, nrows)) {
    rc = plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
    goto done;
  }
  /* move the cells into the table */
  for (i = 0; i < nrows; i++) {
    for (j = 0; j < ncols; j++) {
      char **cell = &c.cells[(i + 1) * ncols + j];
      if (types[j] == 's') {
        t->cols[j].s[i] = *cell;
        *cell = NULL;
      } else {
        parse_cell(*cell, &t->cols[j].d[i]);
      }
    }
    t->nrows++;
  }
  t->comments = comments;
  t->ncomments = ncomments;
  comments = NULL;
  ncomments = 0;
  *out = t;
  t = NULL;

done:
  for (i = 0; i < c.ncells; i++)
    free(c.cells[i]);
  free(c.cells);
  free(c.buf);
  for (i = 0; i < ncomments; i++)
    free(comments[i]);
  free(comments);
  free(types);
  free(text);
  plx_table_free(t);
  return rc;
}
