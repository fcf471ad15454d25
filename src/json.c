/* json.c -- a small JSON reader (text -> tree) and a streaming writer.
 *
 * The reader is one loop over an explicit stack of open containers, so
 * hostile input cannot exhaust the C stack; depth is capped at
 * PLX_JSON_MAX_DEPTH.  Every node is attached to its parent as soon as it
 * exists, so freeing the root cleans up after any error.  Errors carry
 * name:line:column of the offending character.  The writer keeps a stack
 * of open containers to place commas, newlines and indentation, and
 * records misuse instead of printing it. */
#include "config.h"
#include "plastix/json.h"
#include "plastix/error.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct plx_json {
  plx_json_kind kind;
  union {
    int b;
    double num;
    struct {
      char *s;
      size_t len;
    } str;
    struct {
      plx_json **v;
      char **keys; /* objects only */
      size_t n, cap;
    } c;
  } u;
};

/* ------------------------------------------------------------- the tree */

void plx_json_free(plx_json *v)
{
  size_t i;
  if (!v)
    return;
  if (v->kind == PLX_JSON_STRING) {
    free(v->u.str.s);
  } else if (v->kind == PLX_JSON_ARRAY || v->kind == PLX_JSON_OBJECT) {
    /* depth is bounded by the parser, so recursion is too */
    for (i = 0; i < v->u.c.n; i++) {
      plx_json_free(v->u.c.v[i]);
      if (v->u.c.keys)
        free(v->u.c.keys[i]);
    }
    free(v->u.c.v);
    free(v->u.c.keys);
  }
  free(v);
}

plx_json_kind plx_json_type(const plx_json *v)
{
  return v ? v->kind : PLX_JSON_NULL;
}

const plx_json *plx_json_get(const plx_json *obj, const char *key)
{
  size_t i;
  if (!obj || obj->kind != PLX_JSON_OBJECT || !key)
    return NULL;
  for (i = obj->u.c.n; i-- > 0;)
    if (strcmp(obj->u.c.keys[i], key) == 0)
      return obj->u.c.v[i];
  return NULL;
}

size_t plx_json_len(const plx_json *v)
{
  if (!v || (v->kind != PLX_JSON_ARRAY && v->kind != PLX_JSON_OBJECT))
    return 0;
  return v->u.c.n;
}

const plx_json *plx_json_at(const plx_json *v, size_t i)
{
  if (i >= plx_json_len(v))
    return NULL;
  return v->u.c.v[i];
}

const char *plx_json_key_at(const plx_json *obj, size_t i)
{
  if (!obj || obj->kind != PLX_JSON_OBJECT || i >= obj->u.c.n)
    return NULL;
  return obj->u.c.keys[i];
}

double plx_json_number(const plx_json *v)
{
  return v && v->kind == PLX_JSON_NUMBER ? v->u.num : NAN;
}

const char *plx_json_string(const plx_json *v)
{
  return v && v->kind == PLX_JSON_STRING ? v->u.str.s : NULL;
}

size_t plx_json_string_len(const plx_json *v)
{
  return v && v->kind == PLX_JSON_STRING ? v->u.str.len : 0;
}

int plx_json_bool(const plx_json *v)
{
  return v && v->kind == PLX_JSON_BOOL ? v->u.b : 0;
}

static const char *kind_name(const plx_json *v)
{
  switch (plx_json_type(v)) {
  case PLX_JSON_NULL: return "null";
  case PLX_JSON_BOOL: return "a boolean";
  case PLX_JSON_NUMBER: return "a number";
  case PLX_JSON_STRING: return "a string";
  case PLX_JSON_ARRAY: return "a list";
  case PLX_JSON_OBJECT: return "an object";
  }
  return "?";
}

/* Number or null (NaN) at v, else -1. */
static int cell_value(const plx_json *v, double *x)
{
  if (v && v->kind == PLX_JSON_NUMBER) {
    *x = v->u.num;
    return 0;
  }
  if (v && v->kind == PLX_JSON_NULL) {
    *x = NAN;
    return 0;
  }
  return -1;
}

int plx_json_vector(const plx_json *v, const char *what, double **out,
                    size_t *n, plx_error *err)
{
  size_t i, len;
  double *a;
  *out = NULL;
  *n = 0;
  if (!what)
    what = "value";
  if (!v)
    return plx_error_set(err, PLX_ENOTFOUND, "%s: missing", what);
  if (v->kind != PLX_JSON_ARRAY)
    return plx_error_set(err, PLX_EINVAL,
                         "%s: expected a list of numbers, got %s", what,
                         kind_name(v));
  len = v->u.c.n;
  if (!(a = malloc((len ? len : 1) * sizeof *a)))
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", what);
  for (i = 0; i < len; i++) {
    if (cell_value(v->u.c.v[i], &a[i])) {
      free(a);
      return plx_error_set(err, PLX_EINVAL,
                           "%s[%zu]: expected a number, got %s", what, i,
                           kind_name(v->u.c.v[i]));
    }
  }
  *out = a;
  *n = len;
  return PLX_OK;
}

int plx_json_matrix(const plx_json *v, const char *what, double **out,
                    size_t *rows, size_t *cols, plx_error *err)
{
  size_t i, j, m, n;
  double *a;
  *out = NULL;
  *rows = *cols = 0;
  if (!what)
    what = "value";
  if (!v)
    return plx_error_set(err, PLX_ENOTFOUND, "%s: missing", what);
  if (v->kind != PLX_JSON_ARRAY)
    return plx_error_set(err, PLX_EINVAL,
                         "%s: expected a list of rows, got %s", what,
                         kind_name(v));
  m = v->u.c.n;
  n = 0;
  for (i = 0; i < m; i++) {
    const plx_json *r = v->u.c.v[i];
    if (r->kind != PLX_JSON_ARRAY)
      return plx_error_set(err, PLX_EINVAL,
                           "%s[%zu]: expected a row (a list of numbers), "
                           "got %s",
                           what, i, kind_name(r));
    if (i == 0)
      n = r->u.c.n;
    else if (r->u.c.n != n)
      return plx_error_set(err, PLX_EINVAL,
                           "%s[%zu]: expected %zu numbers (as in %s[0]), "
                           "got %zu",
                           what, i, n, what, r->u.c.n);
  }
  if (m > 0 && n > SIZE_MAX / sizeof *a / m)
    return plx_error_set(err, PLX_ENOMEM, "%s: too large", what);
  if (!(a = malloc((m > 0 && n > 0 ? m * n : 1) * sizeof *a)))
    return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", what);
  for (i = 0; i < m; i++) {
    const plx_json *r = v->u.c.v[i];
    for (j = 0; j < n; j++) {
      if (cell_value(r->u.c.v[j], &a[i + j * m])) {
        free(a);
        return plx_error_set(err, PLX_EINVAL,
                             "%s[%zu][%zu]: expected a number, got %s", what,
                             i, j, kind_name(r->u.c.v[j]));
      }
    }
  }
  *out = a;
  *rows = m;
  *cols = n;
  return PLX_OK;
}

/* ---------------------------------------------------------------- parser */

struct parser {
  const char *start, *p, *end; /* start: after any byte order mark */
  const char *name;
  plx_error *err;
};

/* name:line:column: msg, for the character at `at`. */
static int syntax(struct parser *ps, const char *at, const char *msg)
{
  size_t line = 1, col = 1;
  const char *q;
  for (q = ps->start; q < at && q < ps->end; q++) {
    if (*q == '\n') {
      line++;
      col = 1;
    } else if (((unsigned char)*q & 0xC0) != 0x80) {
      col++; /* count characters, not UTF-8 continuation bytes */
    }
  }
  return plx_error_set(ps->err, PLX_EINVAL, "%s:%zu:%zu: %s", ps->name, line,
                       col, msg);
}

static void skip_ws(struct parser *ps)
{
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                             *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* 4 hex digits at q (bounds checked), or -1. */
static long hex4(struct parser *ps, const char *q)
{
  long v = 0;
  int i;
  if (ps->end - q < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    int h = hexval(q[i]);
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* String at ps->p (on the opening quote) -> malloc'd UTF-8. */
static int parse_string(struct parser *ps, char **out, size_t *outlen)
{
  const char *open = ps->p, *q = ps->p + 1, *close;
  char *s, *o;
  *out = NULL;
  /* find the closing quote; decoding never makes the text longer */
  while (q < ps->end && *q != '"') {
    if (*q == '\\' && ps->end - q < 2) {
      q = ps->end;
      break;
    }
    q += *q == '\\' ? 2 : 1;
  }
  if (q >= ps->end)
    return syntax(ps, open, "unterminated string");
  close = q;
  if (!(s = malloc((size_t)(close - open))))
    return plx_error_set(ps->err, PLX_ENOMEM, "%s: out of memory", ps->name);
  o = s;
  for (q = open + 1; q < close;) {
    unsigned char c = (unsigned char)*q;
    if (c < 0x20) {
      free(s);
      return syntax(ps, q, "control character in string (use an escape)");
    }
    if (c != '\\') {
      *o++ = (char)c;
      q++;
      continue;
    }
    switch (q[1]) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      long cp = hex4(ps, q + 2), lo;
      if (cp < 0) {
        free(s);
        return syntax(ps, q, "invalid \\u escape (expected 4 hex digits)");
      }
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        free(s);
        return syntax(ps, q, "unpaired low surrogate in \\u escape");
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (q + 12 > close || q[6] != '\\' || q[7] != 'u' ||
            (lo = hex4(ps, q + 8)) < 0xDC00 || lo > 0xDFFF) {
          free(s);
          return syntax(ps, q, "unpaired high surrogate in \\u escape");
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        q += 6;
      }
      o += put_utf8(o, (unsigned long)cp);
      q += 6;
      continue;
    }
    default:
      free(s);
      return syntax(ps, q, "invalid escape in string");
    }
    q += 2;
  }
  *o = '\0';
  *out = s;
  *outlen = (size_t)(o - s);
  ps->p = close + 1;
  return PLX_OK;
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static int parse_number(struct parser *ps, double *x)
{
  const char *start = ps->p, *q = ps->p;
  char small[64], *buf = small, *end;
  size_t n;
  if (q < ps->end && *q == '-')
    q++;
  if (q < ps->end && *q == '0') {
    q++;
  } else if (q < ps->end && is_digit(*q)) {
    while (q < ps->end && is_digit(*q))
      q++;
  } else {
    return syntax(ps, q, "invalid number (expected a digit)");
  }
  if (q < ps->end && *q == '.') {
    q++;
    if (q >= ps->end || !is_digit(*q))
      return syntax(ps, q, "invalid number (expected a digit after '.')");
    while (q < ps->end && is_digit(*q))
      q++;
  }
  if (q < ps->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < ps->end && (*q == '+' || *q == '-'))
      q++;
    if (q >= ps->end || !is_digit(*q))
      return syntax(ps, q, "invalid number (expected a digit in exponent)");
    while (q < ps->end && is_digit(*q))
      q++;
  }
  n = (size_t)(q - start);
  if (n >= sizeof small && !(buf = malloc(n + 1)))
    return plx_error_set(ps->err, PLX_ENOMEM, "%s: out of memory", ps->name);
  memcpy(buf, start, n);
  buf[n] = '\0';
  errno = 0;
  *x = strtod(buf, &end);
  if (buf != small)
    free(buf);
  if (errno == ERANGE && isinf(*x))
    return syntax(ps, start, "number out of range");
  ps->p = q;
  return PLX_OK;
}

static int match_word(struct parser *ps, const char *w)
{
  size_t n = strlen(w);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
    return 0;
  ps->p += n;
  return 1;
}

static plx_json *new_node(plx_json_kind kind)
{
  plx_json *v = calloc(1, sizeof *v);
  if (v)
    v->kind = kind;
  return v;
}

/* Append v (and *key, for objects) to container c; takes ownership of v
 * and *key in every case. */
static int append_child(plx_json *c, plx_json *v, char **key)
{
  if (c->u.c.n == c->u.c.cap) {
    size_t cap = c->u.c.cap ? 2 * c->u.c.cap : 4;
    plx_json **nv = realloc(c->u.c.v, cap * sizeof *nv);
    if (nv)
      c->u.c.v = nv;
    if (nv && c->kind == PLX_JSON_OBJECT) {
      char **nk = realloc(c->u.c.keys, cap * sizeof *nk);
      if (nk)
        c->u.c.keys = nk;
      else
        nv = NULL;
    }
    if (!nv) {
      plx_json_free(v);
      free(*key);
      *key = NULL;
      return PLX_ENOMEM;
    }
    c->u.c.cap = cap;
  }
  c->u.c.v[c->u.c.n] = v;
  if (c->kind == PLX_JSON_OBJECT) {
    c->u.c.keys[c->u.c.n] = *key;
    *key = NULL;
  }
  c->u.c.n++;
  return PLX_OK;
}

enum pstate { P_VALUE, P_KEY, P_AFTER };

int plx_json_parse(plx_json **out, const char *text, size_t len,
                   const char *name, plx_error *err)
{
  struct parser ps;
  plx_json *root = NULL, *stack[PLX_JSON_MAX_DEPTH];
  size_t depth = 0;
  char *key = NULL;
  enum pstate st = P_VALUE;
  int rc = PLX_OK;

  if (!out)
    return plx_error_set(err, PLX_EINVAL, "JSON: no output");
  *out = NULL;
  if (!name)
    name = "<json>";
  if (!text && len > 0)
    return plx_error_set(err, PLX_EINVAL, "%s: no text", name);
  ps.start = ps.p = text ? text : "";
  ps.end = ps.start + (text ? len : 0);
  ps.name = name;
  ps.err = err;
  if (len >= 3 && memcmp(ps.p, "\xef\xbb\xbf", 3) == 0) {
    ps.p += 3; /* UTF-8 byte order mark: not part of line 1's columns */
    ps.start = ps.p;
  }

  while (rc == PLX_OK) {
    if (st == P_VALUE) {
      plx_json *v = NULL;
      int container = 0;
      char c;
      skip_ws(&ps);
      if (ps.p >= ps.end) {
        rc = syntax(&ps, ps.p, "expected a value, got end of input");
        break;
      }
      c = *ps.p;
      if (c == '{' || c == '[') {
        if (depth == PLX_JSON_MAX_DEPTH) {
          rc = syntax(&ps, ps.p, "nesting deeper than 512 levels");
          break;
        }
        v = new_node(c == '{' ? PLX_JSON_OBJECT : PLX_JSON_ARRAY);
        container = 1;
        ps.p++;
      } else if (c == '"') {
        char *s = NULL;
        size_t n = 0;
        if ((rc = parse_string(&ps, &s, &n)))
          break;
        if ((v = new_node(PLX_JSON_STRING))) {
          v->u.str.s = s;
          v->u.str.len = n;
        } else {
          free(s);
        }
      } else if (c == '-' || is_digit(c)) {
        double x = 0;
        if (match_word(&ps, "-Infinity")) {
          x = -INFINITY;
        } else if ((rc = parse_number(&ps, &x))) {
          break;
        }
        if ((v = new_node(PLX_JSON_NUMBER)))
          v->u.num = x;
      } else if (match_word(&ps, "true")) {
        if ((v = new_node(PLX_JSON_BOOL)))
          v->u.b = 1;
      } else if (match_word(&ps, "false")) {
        v = new_node(PLX_JSON_BOOL);
      } else if (match_word(&ps, "null")) {
        v = new_node(PLX_JSON_NULL);
      } else if (match_word(&ps, "NaN")) {
        if ((v = new_node(PLX_JSON_NUMBER)))
          v->u.num = NAN;
      } else if (match_word(&ps, "Infinity")) {
        if ((v = new_node(PLX_JSON_NUMBER)))
          v->u.num = INFINITY;
      } else {
        rc = syntax(&ps, ps.p, "expected a value");
        break;
      }
      if (!v) {
        rc = plx_error_set(err, PLX_ENOMEM, "%s: out of memory", name);
        break;
      }
      /* attach at once so that freeing the root frees everything */
      if (depth == 0)
        root = v;
      else if (append_child(stack[depth - 1], v, &key)) {
        rc = plx_error_set(err, PLX_ENOMEM, "%s: out of memory", name);
        break;
      }
      if (container) {
        stack[depth++] = v;
        skip_ws(&ps);
        if (ps.p < ps.end && *ps.p == (c == '{' ? '}' : ']')) {
          ps.p++;
          depth--;
          st = P_AFTER;
        } else {
          st = c == '{' ? P_KEY : P_VALUE;
        }
      } else {
        st = P_AFTER;
      }
    } else if (st == P_KEY) {
      size_t n;
      skip_ws(&ps);
      if (ps.p >= ps.end || *ps.p != '"') {
        rc = syntax(&ps, ps.p, "expected a string key");
        break;
      }
      if ((rc = parse_string(&ps, &key, &n)))
        break;
      skip_ws(&ps);
      if (ps.p >= ps.end || *ps.p != ':') {
        rc = syntax(&ps, ps.p, "expected ':'");
        break;
      }
      ps.p++;
      st = P_VALUE;
    } else { /* P_AFTER: a value just ended */
      plx_json *top;
      skip_ws(&ps);
      if (depth == 0) {
        if (ps.p < ps.end)
          rc = syntax(&ps, ps.p, "expected end of input after the value");
        break;
      }
      top = stack[depth - 1];
      if (ps.p < ps.end && *ps.p == ',') {
        ps.p++;
        st = top->kind == PLX_JSON_OBJECT ? P_KEY : P_VALUE;
      } else if (ps.p < ps.end &&
                 *ps.p == (top->kind == PLX_JSON_OBJECT ? '}' : ']')) {
        ps.p++;
        depth--;
      } else {
        rc = syntax(&ps, ps.p,
                    top->kind == PLX_JSON_OBJECT ? "expected ',' or '}'"
                                                 : "expected ',' or ']'");
      }
    }
  }
  free(key);
  if (rc) {
    plx_json_free(root);
    return rc;
  }
  *out = root;
  return PLX_OK;
}

int plx_json_parse_file(plx_json **out, const char *path, plx_error *err)
{
  FILE *f;
  char *buf = NULL;
  size_t len = 0, cap = 0, got;
  int rc, e;
  if (!out || !path)
    return plx_error_set(err, PLX_EINVAL, "JSON: no file name");
  *out = NULL;
  if (!(f = fopen(path, "rb")))
    return plx_error_set(err, PLX_EIO, "%s: cannot read: %s", path,
                         strerror(errno));
  do {
    if (len == cap) {
      size_t ncap = cap ? 2 * cap : 65536;
      char *b = realloc(buf, ncap);
      if (!b) {
        free(buf);
        fclose(f);
        return plx_error_set(err, PLX_ENOMEM, "%s: out of memory", path);
      }
      buf = b;
      cap = ncap;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
  } while (got > 0);
  if (ferror(f)) {
    e = errno ? errno : EIO;
    free(buf);
    fclose(f);
    return plx_error_set(err, PLX_EIO, "%s: cannot read: %s", path,
                         strerror(e));
  }
  fclose(f);
  rc = plx_json_parse(out, buf, len, path, err);
  free(buf);
  return rc;
}

/* ---------------------------------------------------------------- writer */

struct jw_level {
  char kind;    /* '{' or '[' */
  size_t count; /* members written so far */
};

struct plx_jw {
  FILE *f;
  struct jw_level *st;
  size_t depth, cap;
  int done;   /* a complete top-level value was written */
  int misuse; /* the caller broke the protocol */
};

plx_jw *plx_jw_new(FILE *f)
{
  plx_jw *w;
  if (!f || !(w = calloc(1, sizeof *w)))
    return NULL;
  w->f = f;
  return w;
}

void plx_jw_free(plx_jw *w)
{
  if (!w)
    return;
  free(w->st);
  free(w);
}

int plx_jw_status(const plx_jw *w)
{
  if (!w)
    return PLX_EINVAL;
  if (ferror(w->f))
    return PLX_EIO;
  if (w->misuse || w->depth != 0 || !w->done)
    return PLX_EINVAL;
  return PLX_OK;
}

static void jw_indent(plx_jw *w, size_t depth)
{
  size_t i;
  for (i = 0; i < depth; i++)
    fputs("  ", w->f);
}

static void jw_string(FILE *f, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    case '\b': fputs("\\b", f); break;
    case '\f': fputs("\\f", f); break;
    default:
      if (c < 0x20 || c == 0x7F) {
        fputs("\\u00", f);
        fputc(hex[c >> 4], f);
        fputc(hex[c & 15], f);
      } else {
        fputc(c, f);
      }
    }
  }
  fputc('"', f);
}

/* Separator, indentation and key before a value; 0 if w is NULL. */
static int jw_begin_value(plx_jw *w, const char *key)
{
  struct jw_level *top;
  if (!w)
    return 0;
  if (w->depth == 0) {
    if (w->done)
      w->misuse = 1; /* second top-level value */
    return 1;
  }
  top = &w->st[w->depth - 1];
  if (top->count++ > 0)
    fputc(',', w->f);
  fputc('\n', w->f);
  jw_indent(w, w->depth);
  if (top->kind == '{') {
    if (!key) {
      w->misuse = 1;
      key = "";
    }
    jw_string(w->f, key);
    fputs(": ", w->f);
  }
  return 1;
}

static void jw_end_value(plx_jw *w)
{
  if (w->depth == 0) {
    w->done = 1;
    fputc('\n', w->f);
  }
}

static void jw_open(plx_jw *w, const char *key, char kind)
{
  if (!jw_begin_value(w, key))
    return;
  if (w->depth == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 16;
    struct jw_level *st = realloc(w->st, cap * sizeof *st);
    if (!st) {
      w->misuse = 1;
      return;
    }
    w->st = st;
    w->cap = cap;
  }
  fputc(kind, w->f);
  w->st[w->depth].kind = kind;
  w->st[w->depth].count = 0;
  w->depth++;
}

static void jw_close(plx_jw *w, char kind)
{
  if (!w)
    return;
  if (w->depth == 0 || w->st[w->depth - 1].kind != kind) {
    w->misuse = 1;
    return;
  }
  w->depth--;
  if (w->st[w->depth].count > 0) {
    fputc('\n', w->f);
    jw_indent(w, w->depth);
  }
  fputc(kind == '{' ? '}' : ']', w->f);
  jw_end_value(w);
}

void plx_jw_object_begin(plx_jw *w, const char *key)
{
  jw_open(w, key, '{');
}

void plx_jw_object_end(plx_jw *w)
{
  jw_close(w, '{');
}

void plx_jw_array_begin(plx_jw *w, const char *key)
{
  jw_open(w, key, '[');
}

void plx_jw_array_end(plx_jw *w)
{
  jw_close(w, '[');
}

void plx_jw_string(plx_jw *w, const char *key, const char *value)
{
  if (!jw_begin_value(w, key))
    return;
  if (value)
    jw_string(w->f, value);
  else
    fputs("null", w->f);
  jw_end_value(w);
}

void plx_jw_number(plx_jw *w, const char *key, double value)
{
  char buf[40];
  int prec;
  if (!jw_begin_value(w, key))
    return;
  if (!isfinite(value)) {
    fputs("null", w->f);
  } else {
    /* shortest of %.15g..%.17g that reads back as the same double */
    for (prec = 15; prec <= 17; prec++) {
      snprintf(buf, sizeof buf, "%.*g", prec, value);
      if (strtod(buf, NULL) == value)
        break;
    }
    fputs(buf, w->f);
  }
  jw_end_value(w);
}

void plx_jw_int(plx_jw *w, const char *key, long long value)
{
  if (!jw_begin_value(w, key))
    return;
  fprintf(w->f, "%lld", value);
  jw_end_value(w);
}

void plx_jw_bool(plx_jw *w, const char *key, int value)
{
  if (!jw_begin_value(w, key))
    return;
  fputs(value ? "true" : "false", w->f);
  jw_end_value(w);
}

void plx_jw_null(plx_jw *w, const char *key)
{
  if (!jw_begin_value(w, key))
    return;
  fputs("null", w->f);
  jw_end_value(w);
}
