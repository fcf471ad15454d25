/* config.c -- libconfig files in, validated plx_params trees out.
 *
 * Every key a user writes is checked here against the spec table of the
 * module that reads it, before any simulation starts.  Messages name the
 * file, the line, the key's dotted path, what was expected and what was
 * found.  Getters later trust the tree and fall back to spec defaults. */
#include "config.h"
#include "plastix/config.h"
#include "plastix/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct plx_params {
  plx_config *cfg;
  config_setting_t *s;          /* NULL when the section is absent */
  const plx_param_spec *head;   /* spec tables (either may be NULL) */
  const plx_param_spec *body;
  int is_map;                   /* children are MAP entries        */
  char *path;                   /* "model.init"                   */
  size_t n;                     /* bound children                 */
  char **names;
  struct plx_params **kids;
  struct plx_params *next_alloc; /* all nodes of a config, for freeing */
};

struct plx_config {
  config_t cf;
  char *path;
  char *text;
  struct plx_params *nodes;
};

/* ------------------------------------------------------------ utilities */

static char *dupstr(const char *s)
{
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static char *read_whole_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    } else {
      buf[n] = '\0';
    }
  }
  fclose(f);
  return buf;
}

size_t plx_edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), i, j;
  size_t row[64];
  if (lb >= 63 || la >= 63)
    return 99;
  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    size_t prev = row[0];
    row[0] = i;
    for (j = 1; j <= lb; j++) {
      size_t cur = row[j];
      size_t sub = prev + (a[i - 1] != b[j - 1]);
      size_t del = row[j] + 1, ins = row[j - 1] + 1;
      row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      prev = cur;
    }
  }
  return row[lb];
}

static const plx_param_spec *spec_find1(const plx_param_spec *t,
                                        const char *name)
{
  for (; t && t->name; t++)
    if (strcmp(t->name, name) == 0)
      return t;
  return NULL;
}

static const plx_param_spec *spec_find(const plx_params *p, const char *name)
{
  const plx_param_spec *s = spec_find1(p->head, name);
  return s ? s : spec_find1(p->body, name);
}

static const char *setting_file(const plx_config *cfg,
                                const config_setting_t *s)
{
  const char *f = s ? config_setting_source_file(s) : NULL;
  if (s && config_setting_source_line(s) == 0)
    return "--set";
  return f ? f : cfg->path;
}

static void where_setting(const plx_config *cfg, const config_setting_t *s,
                          char *buf, size_t n)
{
  if (s && config_setting_source_line(s) > 0)
    snprintf(buf, n, "%s:%u", setting_file(cfg, s),
             (unsigned)config_setting_source_line(s));
  else if (s && config_setting_source_line(s) == 0 &&
           config_setting_parent(s) != NULL)
    snprintf(buf, n, "--set");
  else
    snprintf(buf, n, "%s", cfg->path);
}

static void join_path(char *out, size_t n, const char *base, const char *key)
{
  if (!base || !*base)
    snprintf(out, n, "%s", key ? key : "");
  else if (!key || !*key)
    snprintf(out, n, "%s", base);
  else
    snprintf(out, n, "%s.%s", base, key);
}

/* "file:line: path: message" */
static int fail_at(const plx_config *cfg, const config_setting_t *s,
                   const char *path, plx_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail_at(const plx_config *cfg, const config_setting_t *s,
                   const char *path, plx_error *err, const char *fmt, ...)
{
  char where[512], what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  where_setting(cfg, s, where, sizeof where);
  return plx_error_set(err, PLX_EINVAL, "%s: %s: %s", where,
                       path && *path ? path : "(top level)", what);
}

static const char *type_name(int t)
{
  switch (t) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64: return "an integer";
  case CONFIG_TYPE_FLOAT: return "a number";
  case CONFIG_TYPE_STRING: return "a string";
  case CONFIG_TYPE_BOOL: return "a boolean";
  case CONFIG_TYPE_ARRAY: return "an array";
  case CONFIG_TYPE_LIST: return "a list";
  case CONFIG_TYPE_GROUP: return "a group { ... }";
  default: return "something else";
  }
}

static const char *kind_name(plx_param_kind k)
{
  switch (k) {
  case PLX_PARAM_FLOAT: return "a number";
  case PLX_PARAM_INT: return "an integer";
  case PLX_PARAM_BOOL: return "true or false";
  case PLX_PARAM_STRING: return "a string";
  case PLX_PARAM_FLOAT_ARRAY: return "an array of numbers [a, b, ...]";
  case PLX_PARAM_STRING_ARRAY: return "an array of strings [\"a\", ...]";
  case PLX_PARAM_GROUP:
  case PLX_PARAM_MAP: return "a group { ... }";
  case PLX_PARAM_LIST: return "a list of groups ( {...}, {...} )";
  default: return "a group { ... }";
  }
}

static int is_number(const config_setting_t *s)
{
  int t = config_setting_type(s);
  return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ||
         t == CONFIG_TYPE_FLOAT;
}

static double number_of(const config_setting_t *s)
{
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT: return (double)config_setting_get_int(s);
  case CONFIG_TYPE_INT64: return (double)config_setting_get_int64(s);
  case CONFIG_TYPE_FLOAT: return config_setting_get_float(s);
  default: return NAN;
  }
}

static void range_text(const plx_param_spec *sp, char *buf, size_t n)
{
  int lo = !!(sp->flags & PLX_PARAM_HAS_MIN), hi = !!(sp->flags & PLX_PARAM_HAS_MAX);
  const char *lop = (sp->flags & PLX_PARAM_MIN_EXCL) ? ">" : ">=";
  const char *hip = (sp->flags & PLX_PARAM_MAX_EXCL) ? "<" : "<=";
  if (lo && hi)
    snprintf(buf, n, "%s %g and %s %g", lop, sp->min, hip, sp->max);
  else if (lo)
    snprintf(buf, n, "%s %g", lop, sp->min);
  else if (hi)
    snprintf(buf, n, "%s %g", hip, sp->max);
  else
    buf[0] = '\0';
}

static int check_range(const plx_config *cfg, const config_setting_t *s,
                       const char *path, const plx_param_spec *sp, double v,
                       plx_error *err)
{
  char rt[128];
  int bad = 0;
  if (!isfinite(v))
    return fail_at(cfg, s, path, err, "expected a finite number, got %g", v);
  if (sp->flags & PLX_PARAM_HAS_MIN)
    bad |= (sp->flags & PLX_PARAM_MIN_EXCL) ? !(v > sp->min) : !(v >= sp->min);
  if (sp->flags & PLX_PARAM_HAS_MAX)
    bad |= (sp->flags & PLX_PARAM_MAX_EXCL) ? !(v < sp->max) : !(v <= sp->max);
  if (bad) {
    range_text(sp, rt, sizeof rt);
    return fail_at(cfg, s, path, err, "expected %s %s, got %g",
                   sp->kind == PLX_PARAM_INT ? "an integer" : "a number", rt, v);
  }
  return PLX_OK;
}

static int choice_ok(const char *choices, const char *v)
{
  const char *c = choices;
  size_t lv = strlen(v);
  while (c && *c) {
    const char *bar = strchr(c, '|');
    size_t l = bar ? (size_t)(bar - c) : strlen(c);
    if (l == lv && strncmp(c, v, l) == 0)
      return 1;
    c = bar ? bar + 1 : NULL;
  }
  return 0;
}

static void choices_text(const char *choices, char *buf, size_t n)
{
  size_t k = 0;
  const char *c;
  for (c = choices; *c && k + 8 < n; c++) {
    if (*c == '|') {
      buf[k++] = ',';
      buf[k++] = ' ';
    } else {
      buf[k++] = *c;
    }
  }
  buf[k] = '\0';
}

/* ----------------------------------------------------------- the nodes */

static plx_params *node_new(plx_config *cfg, config_setting_t *s,
                            const plx_param_spec *head,
                            const plx_param_spec *body, const char *path)
{
  plx_params *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->path = dupstr(path ? path : "");
  if (!p->path) {
    free(p);
    return NULL;
  }
  p->cfg = cfg;
  p->s = s;
  p->head = head;
  p->body = body;
  p->next_alloc = cfg->nodes;
  cfg->nodes = p;
  return p;
}

static int node_add_child(plx_params *p, const char *name, plx_params *kid)
{
  char **nn = realloc(p->names, (p->n + 1) * sizeof *nn);
  plx_params **kk;
  if (!nn)
    return PLX_ENOMEM;
  p->names = nn;
  kk = realloc(p->kids, (p->n + 1) * sizeof *kk);
  if (!kk)
    return PLX_ENOMEM;
  p->kids = kk;
  p->names[p->n] = dupstr(name);
  if (!p->names[p->n])
    return PLX_ENOMEM;
  p->kids[p->n++] = kid;
  return PLX_OK;
}

static void suggest(const plx_param_spec *head, const plx_param_spec *body,
                    const char *bad, char *buf, size_t n)
{
  const plx_param_spec *tabs[2] = {head, body}, *t;
  const char *best = NULL;
  size_t bestd = 99, k = 0;
  int i;
  char list[600];
  list[0] = '\0';
  for (i = 0; i < 2; i++)
    for (t = tabs[i]; t && t->name; t++) {
      size_t d = plx_edit_distance(bad, t->name);
      if (d < bestd) {
        bestd = d;
        best = t->name;
      }
      if (k + strlen(t->name) + 3 < sizeof list)
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", k ? ", " : "",
                              t->name);
    }
  if (best && bestd <= 2 && bestd < strlen(bad))
    snprintf(buf, n, "unknown key (did you mean '%s'? valid keys: %s)", best,
             list);
  else
    snprintf(buf, n, "unknown key (valid keys: %s)", list);
}

static int validate(plx_config *cfg, plx_params *node, plx_error *err);

static int validate_value(plx_config *cfg, plx_params *node,
                          const plx_param_spec *sp, config_setting_t *m,
                          const char *path, plx_error *err)
{
  int t = config_setting_type(m), rc;
  char ct[512];
  switch (sp->kind) {
  case PLX_PARAM_FLOAT:
    if (!is_number(m))
      return fail_at(cfg, m, path, err, "expected a number, got %s",
                     type_name(t));
    return check_range(cfg, m, path, sp, number_of(m), err);
  case PLX_PARAM_INT:
    if (t == CONFIG_TYPE_FLOAT)
      return fail_at(cfg, m, path, err, "expected an integer, got %g",
                     config_setting_get_float(m));
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
      return fail_at(cfg, m, path, err, "expected an integer, got %s",
                     type_name(t));
    return check_range(cfg, m, path, sp, number_of(m), err);
  case PLX_PARAM_BOOL:
    if (t != CONFIG_TYPE_BOOL)
      return fail_at(cfg, m, path, err, "expected true or false, got %s",
                     type_name(t));
    return PLX_OK;
  case PLX_PARAM_STRING:
    if (t != CONFIG_TYPE_STRING)
      return fail_at(cfg, m, path, err, "expected a string, got %s",
                     type_name(t));
    if (sp->choices && !choice_ok(sp->choices, config_setting_get_string(m))) {
      choices_text(sp->choices, ct, sizeof ct);
      return fail_at(cfg, m, path, err, "expected one of: %s; got \"%s\"", ct,
                     config_setting_get_string(m));
    }
    return PLX_OK;
  case PLX_PARAM_FLOAT_ARRAY:
  case PLX_PARAM_STRING_ARRAY: {
    int i, len;
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
      return fail_at(cfg, m, path, err, "expected %s, got %s",
                     kind_name(sp->kind), type_name(t));
    len = config_setting_length(m);
    for (i = 0; i < len; i++) {
      config_setting_t *e = config_setting_get_elem(m, (unsigned)i);
      char ep[512];
      snprintf(ep, sizeof ep, "%s[%d]", path, i);
      if (sp->kind == PLX_PARAM_FLOAT_ARRAY) {
        if (!is_number(e))
          return fail_at(cfg, m, ep, err, "expected a number, got %s",
                         type_name(config_setting_type(e)));
        if ((rc = check_range(cfg, m, ep, sp, number_of(e), err)))
          return rc;
      } else {
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
          return fail_at(cfg, m, ep, err, "expected a string, got %s",
                         type_name(config_setting_type(e)));
        if (sp->choices &&
            !choice_ok(sp->choices, config_setting_get_string(e))) {
          choices_text(sp->choices, ct, sizeof ct);
          return fail_at(cfg, m, ep, err, "expected one of: %s; got \"%s\"",
                         ct, config_setting_get_string(e));
        }
      }
    }
    return PLX_OK;
  }
  case PLX_PARAM_GROUP:
  case PLX_PARAM_MAP:
    if (t != CONFIG_TYPE_GROUP)
      return fail_at(cfg, m, path, err, "expected a group { ... }, got %s",
                     type_name(t));
    return PLX_OK; /* contents checked by the caller */
  case PLX_PARAM_LIST:
    if (t != CONFIG_TYPE_LIST)
      return fail_at(cfg, m, path, err,
                     "expected a list of groups ( {...}, {...} ), got %s",
                     type_name(t));
    return PLX_OK; /* elements checked by the caller */
  case PLX_PARAM_ANY:
  default:
    (void)node;
    return PLX_OK;
  }
}

/* Validate node->s against node's spec, creating children nodes. */
static int validate(plx_config *cfg, plx_params *node, plx_error *err)
{
  const plx_param_spec *tabs[2] = {node->head, node->body}, *sp;
  char path[512];
  int i, rc, len;

  /* 1. every present key must be known and well-typed */
  if (node->s) {
    len = config_setting_length(node->s);
    for (i = 0; i < len; i++) {
      config_setting_t *m = config_setting_get_elem(node->s, (unsigned)i);
      const char *name = config_setting_name(m);
      join_path(path, sizeof path, node->path, name);
      sp = spec_find(node, name);
      if (!sp) {
        char msg[800];
        suggest(node->head, node->body, name, msg, sizeof msg);
        return fail_at(cfg, m, path, err, "%s", msg);
      }
      if ((rc = validate_value(cfg, node, sp, m, path, err)))
        return rc;
    }
  }
  /* 2. required keys, and child groups (present or not, for defaults) */
  for (i = 0; i < 2; i++)
    for (sp = tabs[i]; sp && sp->name; sp++) {
      config_setting_t *m =
          node->s ? config_setting_get_member(node->s, sp->name) : NULL;
      join_path(path, sizeof path, node->path, sp->name);
      if (!m && (sp->flags & PLX_PARAM_REQUIRED))
        return fail_at(cfg, node->s, path, err,
                       "missing required key (expected %s%s%s)",
                       kind_name(sp->kind), sp->help ? ": " : "",
                       sp->help ? sp->help : "");
      if (sp->kind == PLX_PARAM_GROUP) {
        plx_params *kid = node_new(cfg, m, sp->children, NULL, path);
        if (!kid || node_add_child(node, sp->name, kid))
          return plx_error_set(err, PLX_ENOMEM, "out of memory");
        if ((rc = validate(cfg, kid, err)))
          return rc;
      } else if (sp->kind == PLX_PARAM_LIST) {
        plx_params *list = node_new(cfg, m, NULL, NULL, path);
        int k, mlen = m ? config_setting_length(m) : 0;
        if (!list || node_add_child(node, sp->name, list))
          return plx_error_set(err, PLX_ENOMEM, "out of memory");
        list->is_map = 1;
        for (k = 0; k < mlen; k++) {
          config_setting_t *e = config_setting_get_elem(m, (unsigned)k);
          char epath[600], key[32];
          plx_params *kid;
          snprintf(epath, sizeof epath, "%s[%d]", path, k);
          snprintf(key, sizeof key, "%d", k);
          if (config_setting_type(e) != CONFIG_TYPE_GROUP)
            return fail_at(cfg, e, epath, err, "expected a group { ... }, got %s",
                           type_name(config_setting_type(e)));
          kid = node_new(cfg, e, sp->children, NULL, epath);
          if (!kid || node_add_child(list, key, kid))
            return plx_error_set(err, PLX_ENOMEM, "out of memory");
          if ((rc = validate(cfg, kid, err)))
            return rc;
        }
      } else if (sp->kind == PLX_PARAM_MAP) {
        plx_params *map = node_new(cfg, m, NULL, NULL, path);
        int k, mlen = m ? config_setting_length(m) : 0;
        if (!map || node_add_child(node, sp->name, map))
          return plx_error_set(err, PLX_ENOMEM, "out of memory");
        map->is_map = 1;
        for (k = 0; k < mlen; k++) {
          config_setting_t *e = config_setting_get_elem(m, (unsigned)k);
          char epath[600];
          plx_params *kid;
          join_path(epath, sizeof epath, path, config_setting_name(e));
          if (config_setting_type(e) != CONFIG_TYPE_GROUP)
            return fail_at(cfg, e, epath, err,
                           "expected a group { ... }, got %s",
                           type_name(config_setting_type(e)));
          kid = node_new(cfg, e, sp->children, NULL, epath);
          if (!kid || node_add_child(map, config_setting_name(e), kid))
            return plx_error_set(err, PLX_ENOMEM, "out of memory");
          if ((rc = validate(cfg, kid, err)))
            return rc;
        }
      }
    }
  return PLX_OK;
}

/* ------------------------------------------------------------- loading */

static int apply_override(plx_config *cfg, const char *ov, plx_error *err)
{
  const char *eq = strchr(ov, '=');
  char key[512], *text;
  size_t text_len;
  config_t tmp;
  config_setting_t *val, *parent, *dst;
  char *dot, *seg;
  int type, rc = PLX_OK;

  if (!eq || eq == ov || (size_t)(eq - ov) >= sizeof key)
    return plx_error_set(err, PLX_EINVAL,
                         "--set %s: expected key.path=value", ov);
  memcpy(key, ov, (size_t)(eq - ov));
  key[eq - ov] = '\0';
  /* any length: a list of file names can run to kilobytes */
  text_len = strlen(eq + 1) + sizeof "v = ;";
  if (!(text = malloc(text_len)))
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  snprintf(text, text_len, "v = %s;", eq + 1);
  config_init(&tmp);
  rc = config_read_string(&tmp, text) == CONFIG_TRUE;
  free(text);
  if (!rc) {
    /* quote at most 60 characters of the value, so the reason fits */
    const size_t n = strlen(eq + 1);
    rc = plx_error_set(err, PLX_EINVAL,
                       "--set %s: value '%.60s%s' is not valid config syntax "
                       "(strings need quotes: key=\\\"text\\\")",
                       key, eq + 1, n > 60 ? "..." : "");
    goto done;
  }
  rc = PLX_OK;
  val = config_lookup(&tmp, "v");
  type = config_setting_type(val);

  /* walk/create groups */
  parent = config_root_setting(&cfg->cf);
  seg = key;
  while ((dot = strchr(seg, '.')) != NULL) {
    config_setting_t *g;
    *dot = '\0';
    if (seg[0] == '[') {
      /* an element of a list of groups: model.layers.[0].out=256 */
      char *end;
      long idx = strtol(seg + 1, &end, 10);
      g = (*end == ']' && end[1] == '\0' && idx >= 0 &&
           (config_setting_type(parent) == CONFIG_TYPE_LIST ||
            config_setting_type(parent) == CONFIG_TYPE_ARRAY))
              ? config_setting_get_elem(parent, (unsigned)idx) : NULL;
      if (g && config_setting_type(g) != CONFIG_TYPE_GROUP)
        g = NULL;
    } else {
      g = config_setting_get_member(parent, seg);
      if (!g)
        g = config_setting_add(parent, seg, CONFIG_TYPE_GROUP);
      else if (config_setting_type(g) != CONFIG_TYPE_GROUP &&
               config_setting_type(g) != CONFIG_TYPE_LIST)
        g = NULL;
    }
    if (!g) {
      *dot = '.';
      rc = plx_error_set(err, PLX_EINVAL,
                         "--set %s: '%s' is not a group, a list element [i] "
                         "or a valid name", ov, seg);
      goto done;
    }
    *dot = '.';
    parent = g;
    seg = dot + 1;
  }
  if ((dst = config_setting_get_member(parent, seg)) != NULL)
    config_setting_remove(parent, seg);
  dst = config_setting_add(parent, seg, type);
  if (!dst) {
    rc = plx_error_set(err, PLX_EINVAL, "--set %s: invalid key name '%s'", ov,
                       seg);
    goto done;
  }
  switch (type) {
  case CONFIG_TYPE_INT: config_setting_set_int(dst, config_setting_get_int(val)); break;
  case CONFIG_TYPE_INT64: config_setting_set_int64(dst, config_setting_get_int64(val)); break;
  case CONFIG_TYPE_FLOAT: config_setting_set_float(dst, config_setting_get_float(val)); break;
  case CONFIG_TYPE_BOOL: config_setting_set_bool(dst, config_setting_get_bool(val)); break;
  case CONFIG_TYPE_STRING: config_setting_set_string(dst, config_setting_get_string(val)); break;
  case CONFIG_TYPE_ARRAY:
  case CONFIG_TYPE_LIST: {
    int i, n = config_setting_length(val);
    for (i = 0; i < n; i++) {
      config_setting_t *e = config_setting_get_elem(val, (unsigned)i);
      int et = config_setting_type(e);
      config_setting_t *ne = config_setting_add(dst, NULL, et);
      if (!ne) {
        rc = plx_error_set(err, PLX_EINVAL, "--set %s: unsupported array element", ov);
        goto done;
      }
      if (et == CONFIG_TYPE_FLOAT) config_setting_set_float(ne, config_setting_get_float(e));
      else if (et == CONFIG_TYPE_INT) config_setting_set_int(ne, config_setting_get_int(e));
      else if (et == CONFIG_TYPE_INT64) config_setting_set_int64(ne, config_setting_get_int64(e));
      else if (et == CONFIG_TYPE_STRING) config_setting_set_string(ne, config_setting_get_string(e));
      else if (et == CONFIG_TYPE_BOOL) config_setting_set_bool(ne, config_setting_get_bool(e));
    }
    break;
  }
  default:
    rc = plx_error_set(err, PLX_EINVAL,
                       "--set %s: groups cannot be set from the command line; "
                       "set their keys one by one",
                       ov);
  }
done:
  config_destroy(&tmp);
  return rc;
}

static plx_config *config_new(const char *name)
{
  plx_config *cfg = calloc(1, sizeof *cfg);
  if (!cfg)
    return NULL;
  config_init(&cfg->cf);
  cfg->path = dupstr(name);
  if (!cfg->path) {
    config_destroy(&cfg->cf);
    free(cfg);
    return NULL;
  }
  return cfg;
}

int plx_config_load(plx_config **out, const char *path,
                    const char *const *overrides, size_t n_overrides,
                    plx_error *err)
{
  plx_config *cfg;
  FILE *f;
  size_t i;
  int rc;

  *out = NULL;
  f = fopen(path, "r");
  if (!f)
    return plx_error_set(err, PLX_EINVAL, "%s: cannot open config file: %s",
                         path, strerror(errno));
  fclose(f);
  cfg = config_new(path);
  if (!cfg)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  cfg->text = read_whole_file(path);
  if (config_read_file(&cfg->cf, path) != CONFIG_TRUE) {
    const char *ef = config_error_file(&cfg->cf);
    const char *et = config_error_text(&cfg->cf);
    rc = plx_error_set(err, PLX_EINVAL, "%s:%d: %s%s", ef ? ef : path,
                       config_error_line(&cfg->cf),
                       strstr(et, "syntax") ? "" : "syntax error: ", et);
    plx_config_free(cfg);
    return rc;
  }
  for (i = 0; i < n_overrides; i++)
    if ((rc = apply_override(cfg, overrides[i], err))) {
      plx_config_free(cfg);
      return rc;
    }
  *out = cfg;
  return PLX_OK;
}

int plx_config_load_string(plx_config **out, const char *text,
                           const char *name, plx_error *err)
{
  plx_config *cfg = config_new(name ? name : "(string)");
  int rc;
  *out = NULL;
  if (!cfg)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if (config_read_string(&cfg->cf, text) != CONFIG_TRUE) {
    const char *et = config_error_text(&cfg->cf);
    rc = plx_error_set(err, PLX_EINVAL, "%s:%d: %s%s", cfg->path,
                       config_error_line(&cfg->cf),
                       strstr(et, "syntax") ? "" : "syntax error: ", et);
    plx_config_free(cfg);
    return rc;
  }
  cfg->text = dupstr(text);
  *out = cfg;
  return PLX_OK;
}

void plx_config_free(plx_config *cfg)
{
  plx_params *p, *next;
  size_t i;
  if (!cfg)
    return;
  for (p = cfg->nodes; p; p = next) {
    next = p->next_alloc;
    for (i = 0; i < p->n; i++)
      free(p->names[i]);
    free(p->names);
    free(p->kids);
    free(p->path);
    free(p);
  }
  config_destroy(&cfg->cf);
  free(cfg->path);
  free(cfg->text);
  free(cfg);
}

const char *plx_config_path(const plx_config *cfg) { return cfg->path; }

void plx_config_relative(const plx_config *cfg, const char *name, char *buf, size_t n)
{
  const char *cp = cfg->path, *slash = cp ? strrchr(cp, '/') : NULL;
  if (name[0] == '/' || !slash)
    snprintf(buf, n, "%s", name);
  else
    snprintf(buf, n, "%.*s/%s", (int)(slash - cp), cp, name);
}
config_t *plx_config_raw(plx_config *cfg) { return &cfg->cf; }
const char *plx_config_text(const plx_config *cfg) { return cfg->text; }

int plx_config_write(plx_config *cfg, const char *path, plx_error *err)
{
  if (config_write_file(&cfg->cf, path) != CONFIG_TRUE)
    return plx_error_set(err, PLX_EIO, "%s: cannot write config: %s", path,
                         strerror(errno));
  return PLX_OK;
}

int plx_config_bind(plx_config *cfg, const char *path,
                    const plx_param_spec *head, const plx_param_spec *body,
                    const plx_params **out, plx_error *err)
{
  config_setting_t *s = (path && *path) ? config_lookup(&cfg->cf, path)
                                        : config_root_setting(&cfg->cf);
  plx_params *node;
  int rc;
  *out = NULL;
  if (s && config_setting_type(s) != CONFIG_TYPE_GROUP)
    return fail_at(cfg, s, path, err, "expected a group { ... }, got %s",
                   type_name(config_setting_type(s)));
  node = node_new(cfg, s, head, body, path);
  if (!node)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if ((rc = validate(cfg, node, err)))
    return rc;
  *out = node;
  return PLX_OK;
}

int plx_params_bind_child(const plx_params *parent, const char *key,
                          const plx_param_spec *head,
                          const plx_param_spec *body, const plx_params **out,
                          plx_error *err)
{
  config_setting_t *s =
      parent->s ? config_setting_get_member(parent->s, key) : NULL;
  char path[512];
  plx_params *node;
  int rc;
  *out = NULL;
  join_path(path, sizeof path, parent->path, key);
  if (s && config_setting_type(s) != CONFIG_TYPE_GROUP)
    return fail_at(parent->cfg, s, path, err,
                   "expected a group { ... }, got %s",
                   type_name(config_setting_type(s)));
  node = node_new(parent->cfg, s, head, body, path);
  if (!node)
    return plx_error_set(err, PLX_ENOMEM, "out of memory");
  if ((rc = validate(parent->cfg, node, err)))
    return rc;
  *out = node;
  return PLX_OK;
}

/* ------------------------------------------------------------- getters */

config_setting_t *plx_params_setting(const plx_params *p, const char *key)
{
  return (p && p->s) ? config_setting_get_member(p->s, key) : NULL;
}

plx_config *plx_params_config(const plx_params *p) { return p->cfg; }
const char *plx_params_path(const plx_params *p) { return p->path; }

static const plx_param_spec *must_spec(const plx_params *p, const char *key)
{
  const plx_param_spec *sp = p ? spec_find(p, key) : NULL;
  if (!sp) {
    /* a module asked for a key it did not declare: a programming error */
    fprintf(stderr, "plastix: internal error: key '%s' not declared in %s\n",
            key, p ? p->path : "(null)");
    abort();
  }
  return sp;
}

double plx_params_float(const plx_params *p, const char *key)
{
  const plx_param_spec *sp = must_spec(p, key);
  config_setting_t *m = plx_params_setting(p, key);
  return m ? number_of(m) : sp->def;
}

long plx_params_int(const plx_params *p, const char *key)
{
  const plx_param_spec *sp = must_spec(p, key);
  config_setting_t *m = plx_params_setting(p, key);
  return m ? (long)number_of(m) : (long)sp->def;
}

int plx_params_bool(const plx_params *p, const char *key)
{
  const plx_param_spec *sp = must_spec(p, key);
  config_setting_t *m = plx_params_setting(p, key);
  return m ? config_setting_get_bool(m) : (sp->def != 0);
}

const char *plx_params_string(const plx_params *p, const char *key)
{
  const plx_param_spec *sp = must_spec(p, key);
  config_setting_t *m = plx_params_setting(p, key);
  return m ? config_setting_get_string(m) : sp->def_str;
}

int plx_params_has(const plx_params *p, const char *key)
{
  return plx_params_setting(p, key) != NULL;
}

size_t plx_params_float_array(const plx_params *p, const char *key,
                              double *out, size_t max)
{
  config_setting_t *m = plx_params_setting(p, key);
  size_t i, n;
  (void)must_spec(p, key);
  if (!m)
    return 0;
  n = (size_t)config_setting_length(m);
  for (i = 0; i < n && i < max; i++)
    out[i] = number_of(config_setting_get_elem(m, (unsigned)i));
  return n;
}

const plx_params *plx_params_group(const plx_params *p, const char *key)
{
  size_t i;
  if (!p)
    return NULL;
  for (i = 0; i < p->n; i++)
    if (strcmp(p->names[i], key) == 0)
      return p->kids[i];
  return NULL;
}

size_t plx_params_count(const plx_params *p) { return p ? p->n : 0; }
const char *plx_params_key(const plx_params *p, size_t i) { return p->names[i]; }
const plx_params *plx_params_at(const plx_params *p, size_t i) { return p->kids[i]; }

void plx_config_where(const plx_config *cfg, const config_setting_t *s,
                      char *buf, size_t n)
{
  where_setting(cfg, s, buf, n);
}

void plx_params_where(const plx_params *p, const char *key, char *buf,
                      size_t n)
{
  config_setting_t *m = key ? plx_params_setting(p, key) : NULL;
  if (!m)
    m = p->s;
  where_setting(p->cfg, m, buf, n);
}

int plx_params_error(const plx_params *p, const char *key, plx_error *err,
                     const char *fmt, ...)
{
  char where[512], path[512], what[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  plx_params_where(p, key, where, sizeof where);
  join_path(path, sizeof path, p->path, key);
  return plx_error_set(err, PLX_EINVAL, "%s: %s: %s", where,
                       *path ? path : "(top level)", what);
}

void plx_params_describe(const plx_param_spec *spec, const char *prefix,
                         void (*emit)(const char *line, void *ctx), void *ctx)
{
  const plx_param_spec *sp;
  char line[1024], path[512], extra[256];
  for (sp = spec; sp && sp->name; sp++) {
    join_path(path, sizeof path, prefix, sp->name);
    extra[0] = '\0';
    switch (sp->kind) {
    case PLX_PARAM_FLOAT:
    case PLX_PARAM_INT: {
      char rt[128];
      range_text(sp, rt, sizeof rt);
      snprintf(extra, sizeof extra, "default %g%s%s", sp->def, *rt ? ", " : "", rt);
      break;
    }
    case PLX_PARAM_BOOL:
      snprintf(extra, sizeof extra, "default %s", sp->def ? "true" : "false");
      break;
    case PLX_PARAM_STRING:
      if ((sp->flags & PLX_PARAM_REQUIRED) && !sp->def_str && !sp->choices)
        break;
      if (sp->choices) {
        char ct[200];
        choices_text(sp->choices, ct, sizeof ct);
        snprintf(extra, sizeof extra, "default \"%s\"; one of %s",
                 sp->def_str ? sp->def_str : "", ct);
      } else {
        snprintf(extra, sizeof extra, "default \"%s\"", sp->def_str ? sp->def_str : "");
      }
      break;
    default:
      break;
    }
    snprintf(line, sizeof line, "%-34s %s%s%s%s%s", path, kind_name(sp->kind),
             (sp->flags & PLX_PARAM_REQUIRED) ? " (required)" : "",
             *extra ? " [" : "", extra, *extra ? "]" : "");
    emit(line, ctx);
    if (sp->help) {
      snprintf(line, sizeof line, "%-34s   %s", "", sp->help);
      emit(line, ctx);
    }
    if (sp->kind == PLX_PARAM_GROUP)
      plx_params_describe(sp->children, path, emit, ctx);
    else if (sp->kind == PLX_PARAM_MAP || sp->kind == PLX_PARAM_LIST) {
      char mp[560];
      snprintf(mp, sizeof mp, sp->kind == PLX_PARAM_MAP ? "%s.<name>" : "%s[i]", path);
      plx_params_describe(sp->children, mp, emit, ctx);
    }
  }
}

int plx_config_task_is(const char *path, const char *type)
{
  config_t cf;
  const char *t = NULL;
  int yes;
  config_init(&cf);
  yes = config_read_file(&cf, path) == CONFIG_TRUE &&
        config_lookup_string(&cf, "task.type", &t) == CONFIG_TRUE && strcmp(t, type) == 0;
  config_destroy(&cf);
  return yes;
}

/* ------------------------------------------------- comparing two configs */

static int ignored(const char *path, const char *const *ignore)
{
  size_t i, n;
  for (i = 0; ignore && ignore[i]; i++) {
    n = strlen(ignore[i]);
    if (!strncmp(path, ignore[i], n) && (path[n] == '\0' || path[n] == '.'))
      return 1;
  }
  return 0;
}

static void value_text(const config_setting_t *s, char *buf, size_t n)
{
  if (!s) {
    snprintf(buf, n, "absent");
    return;
  }
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    snprintf(buf, n, "%lld", config_setting_get_int64(s));
    break;
  case CONFIG_TYPE_FLOAT:
    snprintf(buf, n, "%.17g", config_setting_get_float(s));
    break;
  case CONFIG_TYPE_STRING:
    snprintf(buf, n, "\"%s\"", config_setting_get_string(s));
    break;
  case CONFIG_TYPE_BOOL:
    snprintf(buf, n, "%s", config_setting_get_bool(s) ? "true" : "false");
    break;
  case CONFIG_TYPE_GROUP:
    snprintf(buf, n, "a group of %d settings", config_setting_length(s));
    break;
  default:
    snprintf(buf, n, "%s of %d elements", type_name(config_setting_type(s)),
             config_setting_length(s));
  }
}

/* Scalars equal as values (an int 2 and a float 2.0 are one number). */
static int same_scalar(const config_setting_t *a, const config_setting_t *b)
{
  if (is_number(a) && is_number(b))
    return number_of(a) == number_of(b);
  if (config_setting_type(a) != config_setting_type(b))
    return 0;
  if (config_setting_type(a) == CONFIG_TYPE_STRING)
    return !strcmp(config_setting_get_string(a), config_setting_get_string(b));
  return config_setting_get_bool(a) == config_setting_get_bool(b);
}

static int first_difference(const config_setting_t *a, const config_setting_t *b,
                            const char *path, const char *const *ignore, plx_config_diff *d)
{
  char sub[sizeof d->key];
  int i, n;
  if (*path && ignored(path, ignore))
    return 0;
  if (a && b && config_setting_is_aggregate(a) &&
      config_setting_type(a) == config_setting_type(b)) {
    if (config_setting_is_group(a)) {
      /* members of a, then members of b that a lacks */
      for (n = 0; n < 2; n++) {
        const config_setting_t *x = n ? b : a, *y = n ? a : b;
        for (i = 0; i < config_setting_length(x); i++) {
          const config_setting_t *m = config_setting_get_elem(x, (unsigned)i);
          const config_setting_t *o = config_setting_get_member(y, config_setting_name(m));
          if (n && o)
            continue;
          join_path(sub, sizeof sub, path, config_setting_name(m));
          if (n ? first_difference(o, m, sub, ignore, d)
                : first_difference(m, o, sub, ignore, d))
            return 1;
        }
      }
      return 0;
    }
    if (config_setting_length(a) == config_setting_length(b)) {
      for (i = 0; i < config_setting_length(a); i++) {
        char idx[32];
        snprintf(idx, sizeof idx, "[%d]", i);
        join_path(sub, sizeof sub, path, idx);
        if (first_difference(config_setting_get_elem(a, (unsigned)i),
                             config_setting_get_elem(b, (unsigned)i), sub, ignore, d))
          return 1;
      }
      return 0;
    }
  } else if (a && b && !config_setting_is_aggregate(a) && !config_setting_is_aggregate(b) &&
             same_scalar(a, b))
    return 0;
  snprintf(d->key, sizeof d->key, "%s", path);
  d->line_a = a ? (int)config_setting_source_line(a) : 0;
  d->line_b = b ? (int)config_setting_source_line(b) : 0;
  value_text(a, d->a, sizeof d->a);
  value_text(b, d->b, sizeof d->b);
  return 1;
}

int plx_config_first_difference(plx_config *a, plx_config *b, const char *const *ignore,
                                plx_config_diff *d)
{
  memset(d, 0, sizeof *d);
  return first_difference(config_root_setting(&a->cf), config_root_setting(&b->cf), "", ignore,
                          d);
}

int plx_config_same_design(plx_config *a, plx_config *b, const char *const *may_differ,
                           const char *hint, plx_error *err)
{
  plx_config_diff d;
  char keys[512] = "";
  size_t i, o = 0;
  if (!plx_config_first_difference(a, b, may_differ, &d))
    return PLX_OK;
  for (i = 0; may_differ && may_differ[i] && o < sizeof keys; i++)
    o += (size_t)snprintf(keys + o, sizeof keys - o, "%s%s",
                          i == 0 ? "" : may_differ[i + 1] ? ", " : " and ", may_differ[i]);
  return plx_error_set(err, PLX_EINVAL,
                       "%s:%d: %s: %s, but %s in %s; runs of one report must share their "
                       "design (they may differ only in %s%s)",
                       b->path, d.line_b, d.key[0] ? d.key : "(top level)", d.b, d.a, a->path,
                       keys, hint ? hint : "");
}
