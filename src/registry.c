/* registry.c -- the built-in rule table and libltdl plugin loading with an
 * ABI version check. */
#include "config.h"
#include "plastix/registry.h"
#include "plastix/config.h"
#include "plastix/error.h"

#include <dirent.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const plx_rule_type plx_rule_gradient;
extern const plx_rule_type plx_rule_node_perturbation;
extern const plx_rule_type plx_rule_trifactor;

const plx_rule_type *const plx_builtin_rules[] = {
    &plx_rule_gradient,
    &plx_rule_node_perturbation,
    &plx_rule_trifactor,
    NULL};

#define MAX_LOADED 64
static struct {
  lt_dlhandle h;
  const plx_rule_type *type;
  char name[128];
} loaded[MAX_LOADED];
static size_t n_loaded;
static int lt_ready;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;

static int ensure_ltdl(plx_error *err)
{
  if (!lt_ready) {
    if (lt_dlinit() != 0)
      return plx_error_set(err, PLX_EPLUGIN, "cannot initialise libltdl: %s",
                           lt_dlerror());
    lt_ready = 1;
  }
  return PLX_OK;
}

/* Check and register a freshly opened module; NULL on error. */
static const plx_rule_type *adopt(lt_dlhandle h, const char *path,
                                  const char *expect, plx_error *err)
{
  const plx_rule_type *const *entry;
  const plx_rule_type *t;
  entry = (const plx_rule_type *const *)lt_dlsym(h, PLX_RULE_ENTRY_SYMBOL);
  if (!entry || !*entry) {
    plx_error_set(err, PLX_EPLUGIN,
                  "%s: not a plastix rule module (no exported symbol '%s')",
                  path, PLX_RULE_ENTRY_SYMBOL);
    lt_dlclose(h);
    return NULL;
  }
  t = *entry;
  if (t->abi_version != PLX_RULE_ABI_VERSION) {
    plx_error_set(err, PLX_EPLUGIN,
                  "%s: rule ABI version %u, but this plastix needs %u "
                  "(rebuild the module against this <plastix/rule.h>)",
                  path, t->abi_version, PLX_RULE_ABI_VERSION);
    lt_dlclose(h);
    return NULL;
  }
  if (!t->name || !t->init || !t->apply || !t->free) {
    plx_error_set(err, PLX_EPLUGIN,
                  "%s: rule type lacks a name, init, apply or free", path);
    lt_dlclose(h);
    return NULL;
  }
  if (expect && strcmp(t->name, expect) != 0) {
    plx_error_set(err, PLX_EPLUGIN, "%s: module registers rule '%s', expected '%s'",
                  path, t->name, expect);
    lt_dlclose(h);
    return NULL;
  }
  if (n_loaded == MAX_LOADED) {
    plx_error_set(err, PLX_EPLUGIN, "too many rule modules loaded");
    lt_dlclose(h);
    return NULL;
  }
  loaded[n_loaded].h = h;
  loaded[n_loaded].type = t;
  snprintf(loaded[n_loaded].name, sizeof loaded[n_loaded].name, "%s", t->name);
  n_loaded++;
  return t;
}

const plx_rule_type *plx_rule_load_file(const char *path, plx_error *err)
{
  lt_dlhandle h;
  const plx_rule_type *t;
  FILE *f;
  pthread_mutex_lock(&reg_lock);
  if (ensure_ltdl(err)) {
    pthread_mutex_unlock(&reg_lock);
    return NULL;
  }
  f = fopen(path, "rb");
  if (!f) {
    plx_error_set(err, PLX_ENOTFOUND, "%s: rule module file not found", path);
    pthread_mutex_unlock(&reg_lock);
    return NULL;
  }
  fclose(f);
  h = lt_dlopen(path);
  if (!h) {
    plx_error_set(err, PLX_EPLUGIN,
                  "%s: not a loadable rule module (libltdl: %s)", path,
                  lt_dlerror());
    pthread_mutex_unlock(&reg_lock);
    return NULL;
  }
  t = adopt(h, path, NULL, err);
  pthread_mutex_unlock(&reg_lock);
  return t;
}

/* Try dir/name with libltdl's extensions (.la, .so). 1 found, 0 absent,
 * -1 present but broken (err set). */
static int try_dir(const char *dir, const char *name,
                   const plx_rule_type **out, plx_error *err)
{
  static const char *const exts[] = {".la", ".so", ""};
  char path[4096];
  size_t i;
  for (i = 0; i < sizeof exts / sizeof exts[0]; i++) {
    FILE *f;
    snprintf(path, sizeof path, "%s/%s%s", dir, name, exts[i]);
    if (!*exts[i])
      continue;
    f = fopen(path, "rb");
    if (f) {
      lt_dlhandle h;
      fclose(f);
      h = lt_dlopen(path);
      if (!h) {
        plx_error_set(err, PLX_EPLUGIN,
                      "%s: not a loadable rule module (libltdl: %s)", path,
                      lt_dlerror());
        return -1;
      }
      *out = adopt(h, path, name, err);
      return *out ? 1 : -1;
    }
  }
  return 0;
}

static int search_path(const char *list, const char *name,
                       const plx_rule_type **out, plx_error *err)
{
  char buf[4096], *save = NULL, *dir;
  int rc;
  if (!list || !*list)
    return 0;
  snprintf(buf, sizeof buf, "%s", list);
  for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
    if ((rc = try_dir(dir, name, out, err)) != 0)
      return rc;
  return 0;
}

static void list_dir(const char *dir, const char **names, size_t max,
                     size_t *n)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  static char store[256][64];
  static size_t nstore;
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name), k;
    int dup = 0;
    size_t ext;
    if (len > 3 && strcmp(e->d_name + len - 3, ".la") == 0)
      ext = 3;
    else if (len > 3 && strcmp(e->d_name + len - 3, ".so") == 0)
      ext = 3;
    else
      continue;
    if (len - ext >= 64)
      continue;
    if (nstore == 256)
      break;
    memcpy(store[nstore], e->d_name, len - ext);
    store[nstore][len - ext] = '\0';
    for (k = 0; k < *n && k < max; k++)
      dup |= strcmp(names[k], store[nstore]) == 0;
    if (!dup) {
      if (*n < max)
        names[*n] = store[nstore];
      (*n)++;
      nstore++;
    }
  }
  closedir(d);
}

size_t plx_rule_names(const char *extra_path, const char **names, size_t max)
{
  size_t n = 0, i;
  const char *lists[3];
  lists[0] = extra_path;
  lists[1] = getenv("PLX_RULE_PATH");
  lists[2] = PLX_RULEDIR;
  for (i = 0; plx_builtin_rules[i]; i++) {
    if (n < max)
      names[n] = plx_builtin_rules[i]->name;
    n++;
  }
  for (i = 0; i < 3; i++) {
    char buf[4096], *save = NULL, *dir;
    if (!lists[i] || !*lists[i])
      continue;
    snprintf(buf, sizeof buf, "%s", lists[i]);
    for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
      list_dir(dir, names, max, &n);
  }
  return n;
}

const plx_rule_type *plx_rule_lookup(const char *name, const char *extra_path,
                                     plx_error *err)
{
  const plx_rule_type *t = NULL;
  const char *names[64];
  char list[1024];
  size_t i, n, k = 0;
  int rc;
  for (i = 0; plx_builtin_rules[i]; i++)
    if (strcmp(plx_builtin_rules[i]->name, name) == 0)
      return plx_builtin_rules[i];
  pthread_mutex_lock(&reg_lock);
  for (i = 0; i < n_loaded; i++)
    if (strcmp(loaded[i].name, name) == 0) {
      pthread_mutex_unlock(&reg_lock);
      return loaded[i].type;
    }
  if (strchr(name, '/') == NULL && !ensure_ltdl(err)) {
    if ((rc = search_path(extra_path, name, &t, err)) == 0 &&
        (rc = search_path(getenv("PLX_RULE_PATH"), name, &t, err)) == 0)
      rc = search_path(PLX_RULEDIR, name, &t, err);
    if (rc != 0) {
      pthread_mutex_unlock(&reg_lock);
      return rc > 0 ? t : NULL;
    }
  }
  pthread_mutex_unlock(&reg_lock);
  n = plx_rule_names(extra_path, names, 64);
  list[0] = '\0';
  {
    const char *best = NULL;
    size_t bd = 99;
    char hint[160] = "";
    for (i = 0; i < n && i < 64; i++) {
      size_t d = plx_edit_distance(name, names[i]);
      k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "",
                            names[i]);
      if (d < bd) {
        bd = d;
        best = names[i];
      }
    }
    if (best && bd <= 2)
      snprintf(hint, sizeof hint, "did you mean '%s'? ", best);
    plx_error_set(err, PLX_ENOTFOUND,
                  "unknown rule '%s' (%svalid rules: %s; modules are searched "
                  "in rule.path, $PLX_RULE_PATH and %s)",
                  name, hint, list, PLX_RULEDIR);
  }
  return NULL;
}

void plx_rule_unload_all(void)
{
  size_t i;
  pthread_mutex_lock(&reg_lock);
  for (i = 0; i < n_loaded; i++)
    lt_dlclose(loaded[i].h);
  n_loaded = 0;
  if (lt_ready) {
    lt_dlexit();
    lt_ready = 0;
  }
  pthread_mutex_unlock(&reg_lock);
}
