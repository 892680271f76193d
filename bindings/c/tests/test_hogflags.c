/* The C test program of hogflags: the whole shared conformance corpus through every C entry point
 * (JSON, typed context, typed fast path, bulk), the hash vectors, bad input of every kind, and threads
 * sharing one engine. Prints one line per failure and ends with "N passed, N failed".
 *
 * Usage: test_hogflags <corpus dir> <hash-vectors.json>
 * An extra corpus folder (e.g. the differential corpus) is read from $HOGFLAGS_EXTRA_CORPUS. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hogflags.h"
#include "json.h"

static int passed, failed;
static char why[4096]; /* the reason of the current failure */

static void record(const char *name, int ok) {
  if (ok) {
    passed++;
  } else {
    failed++;
    printf("FAIL %s: %s\n", name, why);
  }
  why[0] = 0;
}

static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return 0;
}

/* EXPECT inside a test function returning int: on a false condition, note where and return 0. */
#define EXPECT(cond)                                                                                 \
  do {                                                                                               \
    if (!(cond)) return fail("line %d: %s (last error: %s)", __LINE__, #cond, hf_last_error());      \
  } while (0)
#define RUN(fn) record(#fn, fn())

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  if (buf) { buf[n] = 0; *len = (size_t)n; }
  return buf;
}

static hf_engine *engine_from(const char *json) {
  hf_engine *e = NULL;
  if (hf_engine_new(json, strlen(json), &e) != HF_OK) return NULL;
  return e;
}

/* ------------------------------------------------------------------------------------------------ */
/* Conformance                                                                                       */

/* Keeps strings made while converting a context, to free them together. */
typedef struct { char *items[512]; int n; } strpool;
static const char *pool_raw(strpool *p, const jval *v) {
  char *s = json_raw_copy(v);
  if (p->n < 512) p->items[p->n++] = s;
  return s;
}
static void pool_free(strpool *p) {
  while (p->n > 0) free(p->items[--p->n]);
}

/* The typed form of one JSON property value; 0 if it cannot be expressed. */
static int to_property(const char *key, const jval *v, strpool *pool, hf_property *out) {
  switch (v->t) {
    case J_STR:
      if (strlen(v->str) != v->str_len) *out = hf_prop_json(key, pool_raw(pool, v)); /* embedded NUL */
      else *out = hf_prop_string(key, v->str);
      return 1;
    case J_NUM:
      if (v->is_int) {
        char *text = json_raw_copy(v), *end;
        long long n;
        errno = 0;
        n = strtoll(text, &end, 10);
        if (errno == 0 && *end == 0) *out = hf_prop_int(key, n);
        else *out = hf_prop_json(key, pool_raw(pool, v));
        free(text);
      } else {
        *out = hf_prop_float(key, v->num);
      }
      return 1;
    case J_TRUE: *out = hf_prop_bool(key, 1); return 1;
    case J_FALSE: *out = hf_prop_bool(key, 0); return 1;
    case J_NULL: *out = hf_prop_null(key); return 1;
    default: *out = hf_prop_json(key, pool_raw(pool, v)); return 1;
  }
}

/* An identifier (distinct id, group key) as the text a host would pass; NULL when it has none. */
static const char *identifier(const jval *v, strpool *pool) {
  if (v->t == J_STR) return v->str;
  if (v->t == J_NUM) return pool_raw(pool, v);
  return NULL;
}

/* Builds an hf_context from a corpus context with the typed setters only. 0: not expressible. */
static int typed_context(const jval *c, hf_context **out) {
  strpool pool = {{0}, 0};
  const jval *did = json_get(c, "distinct_id");
  const char *id = did ? identifier(did, &pool) : NULL;
  hf_context *ctx = NULL;
  size_t i, j;
  int ok = 1;
  *out = NULL;
  if (!id || hf_context_new(id, &ctx) != HF_OK) { pool_free(&pool); return 0; }
  for (i = 0; ok && i < c->n; i++) {
    const char *k = c->keys[i];
    const jval *v = &c->items[i];
    if (!strcmp(k, "distinct_id") || v->t == J_NULL) continue;
    if (!strcmp(k, "person_properties") && v->t == J_OBJ) {
      for (j = 0; ok && j < v->n; j++) {
        hf_property p;
        ok = to_property(v->keys[j], &v->items[j], &pool, &p) && hf_context_set_person_property(ctx, &p) == HF_OK;
      }
    } else if (!strcmp(k, "groups") && v->t == J_OBJ) {
      for (j = 0; ok && j < v->n; j++) {
        const char *key = identifier(&v->items[j], &pool);
        if (key) ok = hf_context_set_group(ctx, v->keys[j], key) == HF_OK; /* no text: group absent (D3) */
      }
    } else if (!strcmp(k, "group_properties") && v->t == J_OBJ) {
      for (j = 0; ok && j < v->n; j++) {
        size_t m;
        const jval *props = &v->items[j];
        if (props->t != J_OBJ) { ok = 0; break; }
        for (m = 0; ok && m < props->n; m++) {
          hf_property p;
          ok = to_property(props->keys[m], &props->items[m], &pool, &p) &&
               hf_context_set_group_property(ctx, v->keys[j], &p) == HF_OK;
        }
      }
    } else if (!strcmp(k, "device_id") && v->t == J_STR) {
      ok = hf_context_set_device_id(ctx, v->str) == HF_OK;
    } else if (!strcmp(k, "now") && v->t == J_STR) {
      ok = hf_context_set_now(ctx, v->str) == HF_OK;
    } else {
      ok = 0;
    }
  }
  pool_free(&pool);
  if (!ok) { hf_context_free(ctx); return 0; }
  *out = ctx;
  return 1;
}

/* Compares a JSON outcome (from the library) with a case's `expected`. */
static int check_json(const jval *got, const jval *expected) {
  const jval *inc = json_get(expected, "inconclusive");
  const jval *g_inc = json_get(got, "inconclusive");
  const jval *v, *p, *r;
  if (!got || got->t != J_OBJ) return fail("result is not a JSON object");
  if (inc) {
    if (!g_inc || g_inc->t != J_STR || !json_equal(g_inc, inc))
      return fail("got %.*s, want inconclusive %.*s", (int)got->raw_len, got->raw, (int)inc->raw_len, inc->raw);
    return 1;
  }
  if (g_inc) return fail("got %.*s, want %.*s", (int)got->raw_len, got->raw, (int)expected->raw_len, expected->raw);
  v = json_get(expected, "value");
  if (!json_equal(json_get(got, "value"), v)) return fail("value: got %.*s, want %.*s", (int)got->raw_len, got->raw, (int)v->raw_len, v->raw);
  if ((p = json_get(expected, "payload")) != NULL) {
    const jval *gp = json_get(got, "payload");
    if (!json_equal(gp, p)) return fail("payload: got %.*s, want %.*s", (int)got->raw_len, got->raw, (int)p->raw_len, p->raw);
  }
  if ((r = json_get(expected, "reason")) != NULL) {
    const jval *gr = json_get(got, "reason");
    const jval *code = json_get(r, "code"), *idx = json_get(r, "condition_index");
    if (code && !json_equal(json_get(gr, "code"), code)) return fail("reason: got %.*s, want %.*s", (int)got->raw_len, got->raw, (int)r->raw_len, r->raw);
    if (idx && !json_equal(json_get(gr, "condition_index"), idx)) return fail("condition_index: got %.*s, want %.*s", (int)got->raw_len, got->raw, (int)r->raw_len, r->raw);
  }
  return 1;
}

/* Compares a typed result with a case's `expected`. */
static int check_typed(const hf_result *r, const jval *expected) {
  const jval *inc = json_get(expected, "inconclusive");
  const jval *v, *p, *reason;
  if (inc) {
    if (r->value != HF_VALUE_INCONCLUSIVE || inc->t != J_STR || strcmp(hf_inconclusive_name(r->inconclusive), inc->str))
      return fail("typed: value kind %d inconclusive %s, want inconclusive %s", (int)r->value,
                  hf_inconclusive_name(r->inconclusive), inc->t == J_STR ? inc->str : "?");
    if (r->reason != HF_REASON_NONE || r->variant != NULL) return fail("typed: inconclusive result carries a reason or variant");
    return 1;
  }
  if (r->value == HF_VALUE_INCONCLUSIVE)
    return fail("typed: inconclusive %s (%.*s), want %.*s", hf_inconclusive_name(r->inconclusive), (int)r->detail_len,
                r->detail ? r->detail : "", (int)expected->raw_len, expected->raw);
  if (r->inconclusive != HF_INCONCLUSIVE_NONE) return fail("typed: decided result with an inconclusive kind");
  v = json_get(expected, "value");
  if (!v) return fail("case has no expected value");
  if (v->t == J_TRUE && r->value != HF_VALUE_TRUE) return fail("typed: value kind %d, want true", (int)r->value);
  if (v->t == J_FALSE && r->value != HF_VALUE_FALSE) return fail("typed: value kind %d, want false", (int)r->value);
  if (v->t == J_STR && (r->value != HF_VALUE_VARIANT || r->variant_len != v->str_len || memcmp(r->variant, v->str, v->str_len)))
    return fail("typed: value kind %d variant %.*s, want %s", (int)r->value, (int)r->variant_len, r->variant ? r->variant : "", v->str);
  if (v->t != J_STR && r->variant != NULL) return fail("typed: boolean result carries a variant");
  /* A stored payload "null" is a payload whose value is null: only a non-null one pins has_payload. */
  if ((p = json_get(expected, "payload")) != NULL && p->t != J_NULL && r->has_payload != 1)
    return fail("typed: has_payload %d, want payload %.*s", r->has_payload, (int)p->raw_len, p->raw);
  if ((reason = json_get(expected, "reason")) != NULL) {
    const jval *code = json_get(reason, "code"), *idx = json_get(reason, "condition_index");
    if (code && (code->t != J_STR || strcmp(hf_reason_name(r->reason), code->str)))
      return fail("typed: reason %s, want %.*s", hf_reason_name(r->reason), (int)code->raw_len, code->raw);
    if (idx && ((idx->t == J_NULL && r->condition_index != -1) || (idx->t == J_NUM && r->condition_index != (int32_t)idx->num)))
      return fail("typed: condition_index %d, want %.*s", r->condition_index, (int)idx->raw_len, idx->raw);
  }
  return 1;
}

static int same_result(const hf_result *a, const hf_result *b) {
  return a->value == b->value && a->reason == b->reason && a->condition_index == b->condition_index &&
         a->inconclusive == b->inconclusive && a->variant == b->variant && a->variant_len == b->variant_len &&
         a->detail == b->detail && a->detail_len == b->detail_len && a->has_payload == b->has_payload &&
         a->has_flag_id == b->has_flag_id && a->flag_id == b->flag_id && a->has_version == b->has_version &&
         a->version == b->version;
}

/* Whether a context holds only a string distinct id and person properties (the fast path's inputs). */
static int fast_path_context(const jval *c) {
  size_t i;
  const jval *did = json_get(c, "distinct_id");
  if (!did || did->t != J_STR || strlen(did->str) != did->str_len) return 0;
  for (i = 0; i < c->n; i++) {
    if (!strcmp(c->keys[i], "distinct_id")) continue;
    if (!strcmp(c->keys[i], "person_properties") && (c->items[i].t == J_OBJ || c->items[i].t == J_NULL)) continue;
    return 0;
  }
  return 1;
}

static int cases_run, typed_skipped;

static void run_case(hf_engine *engine, const char *file, const jval *c) {
  char name[600], base[512];
  const jval *id = json_get(c, "id"), *flag = json_get(c, "flag"), *ctxv = json_get(c, "context");
  const jval *expected = json_get(c, "expected");
  char *ctx_text, *out = NULL;
  jval *single = NULL;
  hf_context *tctx = NULL;
  hf_result r;
  int ok;

  snprintf(base, sizeof base, "%s/%s", file, id && id->t == J_STR ? id->str : "?");
  snprintf(name, sizeof name, "%s [json]", base);
  if (!flag || flag->t != J_STR || !ctxv || !expected) {
    record(name, fail("malformed case"));
    return;
  }
  cases_run++;
  ctx_text = json_raw_copy(ctxv);

  /* 1. The JSON entry point. */
  ok = hf_engine_evaluate_json(engine, flag->str, ctx_text, &out) == HF_OK;
  if (!ok) fail("hf_engine_evaluate_json: %s", hf_last_error());
  if (ok) {
    single = json_parse(out, strlen(out));
    ok = check_json(single, expected);
  }
  record(name, ok);
  hf_string_free(out);
  out = NULL;

  /* 2. The typed context, built with the setters: the typed result, and the JSON of the same context. */
  snprintf(name, sizeof name, "%s [context]", base);
  if (typed_context(ctxv, &tctx)) {
    ok = hf_engine_evaluate_context(engine, flag->str, tctx, &r) == HF_OK;
    if (!ok) fail("hf_engine_evaluate_context: %s", hf_last_error());
    if (ok) ok = check_typed(&r, expected);
    if (ok) {
      jval *j = NULL;
      ok = hf_engine_evaluate_context_json(engine, flag->str, tctx, &out) == HF_OK;
      if (ok) j = json_parse(out, strlen(out));
      ok = ok && json_equal(j, single);
      if (!ok) fail("context JSON %s differs from JSON entry point", out ? out : "(none)");
      json_free(j);
      hf_string_free(out);
      out = NULL;
    }
    record(name, ok);

    /* 3. The fast path (distinct id + person properties only); must equal the context result. */
    if (fast_path_context(ctxv)) {
      const jval *props = json_get(ctxv, "person_properties");
      hf_property arr[256];
      hf_result f;
      size_t n = 0, i;
      strpool pool = {{0}, 0};
      snprintf(name, sizeof name, "%s [fast]", base);
      for (i = 0; props && props->t == J_OBJ && i < props->n && n < 256; i++)
        to_property(props->keys[i], &props->items[i], &pool, &arr[n++]);
      memset(&f, 0xAB, sizeof f);
      ok = hf_engine_evaluate(engine, flag->str, json_get(ctxv, "distinct_id")->str, n ? arr : NULL, n, &f) == HF_OK;
      if (!ok) fail("hf_engine_evaluate: %s", hf_last_error());
      if (ok) ok = check_typed(&f, expected);
      if (ok && !same_result(&f, &r)) ok = fail("fast path and context results differ");
      record(name, ok);
      pool_free(&pool);
    }
    hf_context_free(tctx);
  } else {
    typed_skipped++;
  }

  /* 4. The bulk call agrees with the single call, for flags that exist. */
  {
    const jval *inc = single ? json_get(single, "inconclusive") : NULL;
    if (single && !(inc && inc->t == J_STR && !strcmp(inc->str, "unknown_flag"))) {
      jval *all = NULL;
      size_t i;
      const jval *mine = NULL;
      snprintf(name, sizeof name, "%s [bulk]", base);
      ok = hf_engine_evaluate_all_json(engine, ctx_text, &out) == HF_OK;
      if (ok) all = json_parse(out, strlen(out));
      for (i = 0; all && all->t == J_ARR && i < all->n; i++) {
        const jval *k = json_get(&all->items[i], "key");
        if (k && k->t == J_STR && !strcmp(k->str, flag->str)) mine = &all->items[i];
      }
      ok = ok && mine && json_equal(mine, single);
      if (!ok) fail("bulk result %.*s differs from single %.*s", mine ? (int)mine->raw_len : 0, mine ? mine->raw : "",
                    (int)single->raw_len, single->raw);
      record(name, ok);
      json_free(all);
      hf_string_free(out);
      out = NULL;
    }
  }
  json_free(single);
  free(ctx_text);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void run_corpus(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char *names[256];
  int n = 0, i;
  if (!d) {
    record("corpus", fail("cannot open %s", dir));
    return;
  }
  while ((e = readdir(d)) != NULL && n < 256) {
    size_t l = strlen(e->d_name);
    if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], name_cmp);
  for (i = 0; i < n; i++) {
    char path[1024], label[512];
    size_t len = 0, k;
    char *text;
    jval *suite;
    const jval *defs, *cases;
    hf_engine *engine = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    snprintf(label, sizeof label, "%s [load]", names[i]);
    text = read_file(path, &len);
    suite = text ? json_parse(text, len) : NULL;
    defs = json_get(suite, "definitions");
    cases = json_get(suite, "cases");
    if (!defs || !cases || cases->t != J_ARR) {
      record(label, fail("%s is not a corpus file", path));
    } else if (hf_engine_new(defs->raw, defs->raw_len, &engine) != HF_OK) {
      record(label, fail("hf_engine_new: %s", hf_last_error()));
    } else {
      for (k = 0; k < cases->n; k++) run_case(engine, names[i], &cases->items[k]);
      hf_engine_free(engine);
    }
    json_free(suite);
    free(text);
    free(names[i]);
  }
  if (n == 0) record("corpus", fail("no corpus files in %s", dir));
}

/* PostHog's bit-exact hash vectors through hf_hash (one test for the whole file). */
static int hash_vectors(const char *path) {
  size_t len = 0, i, bad = 0;
  char *text = read_file(path, &len);
  jval *doc = text ? json_parse(text, len) : NULL;
  const jval *vs = json_get(doc, "vectors");
  if (!vs || vs->t != J_ARR || vs->n < 1000) {
    json_free(doc); free(text);
    return fail("no vectors in %s", path);
  }
  for (i = 0; i < vs->n; i++) {
    const jval *v = &vs->items[i];
    const jval *p = json_get(v, "prefix"), *id = json_get(v, "distinct_id"), *salt = json_get(v, "salt");
    const jval *hex = json_get(v, "expected_hash_binary64_hex");
    double h = -1;
    uint64_t bits, want;
    if (!p || !id || !salt || !hex || p->t != J_STR || id->t != J_STR || salt->t != J_STR || hex->t != J_STR) { bad++; continue; }
    if (strlen(id->str) != id->str_len) continue; /* an embedded NUL cannot pass through a C string */
    if (hf_hash(p->str, id->str, salt->str, &h) != HF_OK) { bad++; continue; }
    memcpy(&bits, &h, sizeof bits);
    want = strtoull(hex->str, NULL, 16);
    if (bits != want) {
      if (bad < 3) printf("  hash %s%s%s: got %016llx want %016llx\n", p->str, id->str, salt->str,
                          (unsigned long long)bits, (unsigned long long)want);
      bad++;
    }
  }
  json_free(doc);
  free(text);
  if (bad) return fail("%zu of %zu hash vectors differ", bad, vs->n);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ */
/* API behaviour and bad input                                                                       */

static const char *DOC =
    "{\"flags\":["
    "{\"id\":7,\"version\":3,\"key\":\"beta\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":"
    "[{\"key\":\"plan\",\"value\":\"pro\",\"type\":\"person\"}],\"rollout_percentage\":100}],"
    "\"payloads\":{\"true\":\"{\\\"color\\\":\\\"blue\\\"}\"}}},"
    "{\"key\":\"exp\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":[],\"rollout_percentage\":100}],"
    "\"multivariate\":{\"variants\":[{\"key\":\"control-long-variant-name\",\"rollout_percentage\":100}]}}},"
    "{\"key\":\"adults\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":"
    "[{\"key\":\"age\",\"value\":18,\"operator\":\"gte\",\"type\":\"person\"}],\"rollout_percentage\":100}]}},"
    "{\"key\":\"tags\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":"
    "[{\"key\":\"tag\",\"value\":[\"a\",\"b\"],\"operator\":\"exact\",\"type\":\"person\"}],\"rollout_percentage\":100}]}},"
    "{\"key\":\"org\",\"active\":true,\"filters\":{\"aggregation_group_type_index\":0,\"groups\":[{\"properties\":"
    "[{\"key\":\"seats\",\"value\":10,\"operator\":\"gt\",\"type\":\"group\",\"group_type_index\":0}],\"rollout_percentage\":100}]}},"
    "{\"key\":\"off\",\"active\":false,\"filters\":{\"groups\":[{\"rollout_percentage\":100}]}}"
    "],\"group_type_mapping\":{\"0\":\"company\"}}";

static int t_version_and_names(void) {
  EXPECT(hf_version() != NULL && strlen(hf_version()) >= 5 && strchr(hf_version(), '.') != NULL);
  EXPECT(!strcmp(hf_status_name(HF_OK), "HF_OK"));
  EXPECT(!strcmp(hf_status_name(HF_ERR_INVALID_JSON), "HF_ERR_INVALID_JSON"));
  EXPECT(!strcmp(hf_status_name(12345), "HF_ERR_UNKNOWN"));
  EXPECT(!strcmp(hf_status_name(-1), "HF_ERR_UNKNOWN"));
  EXPECT(!strcmp(hf_reason_name(HF_REASON_CONDITION_MATCH), "condition_match"));
  EXPECT(!strcmp(hf_reason_name(HF_REASON_SUPER_CONDITION_VALUE), "super_condition_value"));
  EXPECT(!strcmp(hf_reason_name(HF_REASON_NONE), ""));
  EXPECT(!strcmp(hf_reason_name(-7), ""));
  EXPECT(!strcmp(hf_inconclusive_name(HF_INCONCLUSIVE_UNKNOWN_FLAG), "unknown_flag"));
  EXPECT(!strcmp(hf_inconclusive_name(HF_INCONCLUSIVE_MISSING_PROPERTY), "missing_property"));
  EXPECT(!strcmp(hf_inconclusive_name(999), ""));
  return 1;
}

static int t_engine_new_bad_input(void) {
  hf_engine *e = (hf_engine *)0x1;
  const char *bad_utf8 = "{\"flags\":[{\"key\":\"\xff\xfe\"}]}";
  char deep[20000];
  EXPECT(hf_engine_new(NULL, 10, &e) == HF_ERR_NULL_ARGUMENT && e == NULL);
  EXPECT(strstr(hf_last_error(), "NULL") != NULL);
  EXPECT(hf_engine_new("{}", 2, NULL) == HF_ERR_NULL_ARGUMENT);
  e = (hf_engine *)0x1;
  EXPECT(hf_engine_new("{\"flags\":", 9, &e) == HF_ERR_INVALID_JSON && e == NULL);
  EXPECT(strlen(hf_last_error()) > 0);
  EXPECT(hf_engine_new("", 0, &e) == HF_ERR_INVALID_JSON && e == NULL);
  EXPECT(hf_engine_new("{\"flags\":3}", 11, &e) == HF_ERR_INVALID_JSON && e == NULL);
  EXPECT(hf_engine_new("[1,2]", 5, &e) == HF_ERR_INVALID_JSON && e == NULL);
  EXPECT(hf_engine_new(bad_utf8, strlen(bad_utf8), &e) == HF_ERR_INVALID_JSON && e == NULL);
  memset(deep, '[', sizeof deep);
  memcpy(deep, "{\"flags\":", 9);
  EXPECT(hf_engine_new(deep, sizeof deep, &e) == HF_ERR_INVALID_JSON && e == NULL);
  /* The length is honoured: the bytes after it are never read. */
  EXPECT(hf_engine_new("{\"flags\":[]}garbage", 12, &e) == HF_OK && e != NULL);
  hf_engine_free(e);
  return 1;
}

static int t_engine_limits(void) {
  /* 100 001 flags: over the default limit of 100 000, refused as a whole. */
  const size_t n = 100001;
  size_t cap = n * 24 + 32, len = 0, i;
  char *doc = (char *)malloc(cap);
  hf_engine *e = (hf_engine *)0x1;
  hf_status st;
  EXPECT(doc != NULL);
  len += (size_t)sprintf(doc + len, "{\"flags\":[");
  for (i = 0; i < n; i++) len += (size_t)sprintf(doc + len, "%s{\"key\":\"f%zu\"}", i ? "," : "", i);
  len += (size_t)sprintf(doc + len, "]}");
  st = hf_engine_new(doc, len, &e);
  free(doc);
  EXPECT(st == HF_ERR_LIMIT_EXCEEDED && e == NULL);
  EXPECT(strstr(hf_last_error(), "100000") != NULL || strstr(hf_last_error(), "limit") != NULL);
  return 1;
}

static int t_skipped_flags_are_reported(void) {
  const char *doc = "{\"flags\":[{\"key\":\"good\",\"active\":true,\"filters\":{\"groups\":[{\"rollout_percentage\":100}]}},"
                    "{\"key\":\"bad\",\"active\":\"yes\"}]}";
  hf_engine *e = engine_from(doc);
  size_t count = 99;
  char *info = NULL;
  jval *j;
  const jval *skipped;
  EXPECT(e != NULL);
  EXPECT(hf_engine_flag_count(e, &count) == HF_OK && count == 1);
  EXPECT(hf_engine_flag_count(e, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_flag_count(NULL, &count) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_info_json(e, &info) == HF_OK && info != NULL);
  j = json_parse(info, strlen(info));
  hf_string_free(info);
  skipped = json_get(j, "skipped");
  EXPECT(skipped && skipped->t == J_ARR && skipped->n == 1);
  EXPECT(json_get(&skipped->items[0], "key")->t == J_STR && !strcmp(json_get(&skipped->items[0], "key")->str, "bad"));
  EXPECT(json_get(j, "flags")->n == 1);
  json_free(j);
  EXPECT(hf_engine_info_json(NULL, &info) == HF_ERR_NULL_ARGUMENT && info == NULL);
  EXPECT(hf_engine_info_json(e, NULL) == HF_ERR_NULL_ARGUMENT);
  hf_engine_free(e);
  return 1;
}

static int t_info_lists_property_keys(void) {
  hf_engine *e = engine_from(DOC);
  char *info = NULL;
  jval *j;
  const jval *person, *groups;
  size_t i;
  int plan = 0, age = 0, tag = 0;
  EXPECT(e && hf_engine_info_json(e, &info) == HF_OK);
  j = json_parse(info, strlen(info));
  hf_string_free(info);
  person = json_get(json_get(j, "property_keys"), "person");
  groups = json_get(json_get(j, "property_keys"), "groups");
  EXPECT(person && person->t == J_ARR);
  for (i = 0; i < person->n; i++) {
    plan |= !strcmp(person->items[i].str, "plan");
    age |= !strcmp(person->items[i].str, "age");
    tag |= !strcmp(person->items[i].str, "tag");
  }
  EXPECT(plan && age && tag);
  EXPECT(json_get(groups, "company") && json_get(groups, "company")->n == 1);
  EXPECT(json_get(j, "flags")->n == 6);
  json_free(j);
  hf_engine_free(e);
  return 1;
}

static int t_fast_path_results(void) {
  hf_engine *e = engine_from(DOC);
  hf_property pro = hf_prop_string("plan", "pro");
  hf_property free_plan = hf_prop_string("plan", "free");
  hf_result r;
  char buf[64];
  size_t len = 0;
  EXPECT(e != NULL);
  EXPECT(hf_engine_evaluate(e, "beta", "u1", &pro, 1, &r) == HF_OK);
  EXPECT(r.value == HF_VALUE_TRUE && r.reason == HF_REASON_CONDITION_MATCH && r.condition_index == 0);
  EXPECT(r.has_payload == 1 && r.has_flag_id == 1 && r.flag_id == 7 && r.has_version == 1 && r.version == 3);
  EXPECT(r.variant == NULL && r.inconclusive == HF_INCONCLUSIVE_NONE);
  EXPECT(hf_engine_evaluate(e, "beta", "u1", &free_plan, 1, &r) == HF_OK);
  EXPECT(r.value == HF_VALUE_FALSE && r.reason == HF_REASON_NO_CONDITION_MATCH && r.has_payload == 0);
  EXPECT(hf_engine_evaluate(e, "beta", "u1", NULL, 0, &r) == HF_OK);
  EXPECT(r.value == HF_VALUE_INCONCLUSIVE && r.inconclusive == HF_INCONCLUSIVE_MISSING_PROPERTY);
  EXPECT(r.detail_len == 4 && !memcmp(r.detail, "plan", 4) && r.reason == HF_REASON_NONE && r.condition_index == -1);
  EXPECT(hf_engine_evaluate(e, "exp", "u1", NULL, 0, &r) == HF_OK);
  EXPECT(r.value == HF_VALUE_VARIANT && r.variant_len == 25 && !memcmp(r.variant, "control-long-variant-name", 25));
  EXPECT(r.has_flag_id == 0 && r.has_version == 0);
  EXPECT(hf_result_copy_variant(&r, buf, sizeof buf, &len) == HF_OK && len == 25 && !strcmp(buf, "control-long-variant-name"));
  EXPECT(hf_result_copy_variant(&r, buf, 26, &len) == HF_OK && !strcmp(buf, "control-long-variant-name"));
  buf[0] = 'x';
  EXPECT(hf_result_copy_variant(&r, buf, 25, &len) == HF_ERR_BUFFER_TOO_SMALL && len == 25 && buf[0] == 'x');
  EXPECT(hf_result_copy_variant(&r, NULL, 0, &len) == HF_ERR_BUFFER_TOO_SMALL && len == 25);
  EXPECT(hf_result_copy_variant(&r, NULL, 100, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_result_copy_variant(NULL, buf, sizeof buf, &len) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate(e, "off", "u1", NULL, 0, &r) == HF_OK);
  EXPECT(r.value == HF_VALUE_FALSE && r.reason == HF_REASON_FLAG_DISABLED && r.condition_index == -1);
  EXPECT(hf_result_copy_variant(&r, buf, 1, &len) == HF_OK && len == 0 && buf[0] == 0);
  EXPECT(hf_engine_evaluate(e, "no-such-flag", "u1", NULL, 0, &r) == HF_OK);
  EXPECT(r.value == HF_VALUE_INCONCLUSIVE && r.inconclusive == HF_INCONCLUSIVE_UNKNOWN_FLAG && r.detail == NULL);
  hf_engine_free(e);
  return 1;
}

/* Every property kind through the fast path gives the answer of the same value through JSON. */
static int t_property_kinds_match_json(void) {
  struct { const char *flag; hf_property p; const char *json; } rows[] = {
      {"adults", hf_prop_int("age", 30), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":30}}"},
      {"adults", hf_prop_int("age", 17), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":17}}"},
      {"adults", hf_prop_float("age", 18.0), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":18.0}}"},
      {"adults", hf_prop_float("age", 17.99), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":17.99}}"},
      {"adults", hf_prop_string("age", "42"), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":\"42\"}}"},
      {"adults", hf_prop_string("age", "old"), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":\"old\"}}"},
      {"adults", hf_prop_bool("age", 1), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":true}}"},
      {"adults", hf_prop_null("age"), "{\"distinct_id\":\"u\",\"person_properties\":{\"age\":null}}"},
      {"tags", hf_prop_string("tag", "b"), "{\"distinct_id\":\"u\",\"person_properties\":{\"tag\":\"b\"}}"},
      {"tags", hf_prop_json("tag", "[\"a\"]"), "{\"distinct_id\":\"u\",\"person_properties\":{\"tag\":[\"a\"]}}"},
      {"tags", hf_prop_json("tag", "{\"x\":1}"), "{\"distinct_id\":\"u\",\"person_properties\":{\"tag\":{\"x\":1}}}"},
      {"tags", hf_prop_bool("tag", 0), "{\"distinct_id\":\"u\",\"person_properties\":{\"tag\":false}}"},
  };
  hf_engine *e = engine_from(DOC);
  size_t i;
  int decided_true = 0, decided_false = 0;
  EXPECT(e != NULL);
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    hf_result r;
    char *out = NULL;
    jval *j;
    const jval *v;
    EXPECT(hf_engine_evaluate(e, rows[i].flag, "u", &rows[i].p, 1, &r) == HF_OK);
    EXPECT(hf_engine_evaluate_json(e, rows[i].flag, rows[i].json, &out) == HF_OK);
    j = json_parse(out, strlen(out));
    hf_string_free(out);
    v = json_get(j, "value");
    if (r.value == HF_VALUE_TRUE) { decided_true++; EXPECT(v && v->t == J_TRUE); }
    else if (r.value == HF_VALUE_FALSE) { decided_false++; EXPECT(v && v->t == J_FALSE); }
    else EXPECT(json_get(j, "inconclusive") != NULL);
    if (v) EXPECT(!strcmp(hf_reason_name(r.reason), json_get(json_get(j, "reason"), "code")->str));
    json_free(j);
  }
  EXPECT(decided_true >= 3 && decided_false >= 3); /* the rows exercise both outcomes */
  hf_engine_free(e);
  return 1;
}

static int t_fast_path_bad_input(void) {
  hf_engine *e = engine_from(DOC);
  hf_result r;
  hf_property p;
  hf_property two[2];
  char deep[5000];
  EXPECT(e != NULL);
#define BAD(call, status)                                 \
  do {                                                    \
    memset(&r, 0xAB, sizeof r);                           \
    EXPECT((call) == (status));                           \
    EXPECT(r.value == HF_VALUE_FALSE && r.variant == NULL && r.detail == NULL && r.reason == HF_REASON_NONE); \
    EXPECT(strlen(hf_last_error()) > 0);                  \
  } while (0)
  BAD(hf_engine_evaluate(NULL, "beta", "u", NULL, 0, &r), HF_ERR_NULL_ARGUMENT);
  BAD(hf_engine_evaluate(e, NULL, "u", NULL, 0, &r), HF_ERR_NULL_ARGUMENT);
  BAD(hf_engine_evaluate(e, "beta", NULL, NULL, 0, &r), HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate(e, "beta", "u", NULL, 0, NULL) == HF_ERR_NULL_ARGUMENT);
  BAD(hf_engine_evaluate(e, "beta", "u", NULL, 3, &r), HF_ERR_NULL_ARGUMENT);
  BAD(hf_engine_evaluate(e, "be\xc3\x28ta", "u", NULL, 0, &r), HF_ERR_INVALID_UTF8);
  BAD(hf_engine_evaluate(e, "beta", "\xed\xa0\x80", NULL, 0, &r), HF_ERR_INVALID_UTF8); /* a surrogate */
  p = hf_prop_string(NULL, "x");
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_NULL_ARGUMENT);
  p = hf_prop_string("plan", NULL);
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_NULL_ARGUMENT);
  p = hf_prop_string("plan", "\xc0\xaf");
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_INVALID_UTF8);
  p = hf_prop_string("pl\xff", "pro");
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_INVALID_UTF8);
  /* Properties no flag reads are still checked. */
  p = hf_prop_string("unread", "\xff");
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_INVALID_UTF8);
  p = hf_prop_json("unread", "{not json");
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_INVALID_JSON);
  p = hf_prop_string("plan", "pro");
  p.kind = 42;
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_INVALID_ARGUMENT);
  p.kind = -1;
  BAD(hf_engine_evaluate(e, "beta", "u", &p, 1, &r), HF_ERR_INVALID_ARGUMENT);
  p = hf_prop_float("age", NAN);
  BAD(hf_engine_evaluate(e, "adults", "u", &p, 1, &r), HF_ERR_INVALID_ARGUMENT);
  p = hf_prop_float("age", INFINITY);
  BAD(hf_engine_evaluate(e, "adults", "u", &p, 1, &r), HF_ERR_INVALID_ARGUMENT);
  p = hf_prop_json("tag", "[1,");
  BAD(hf_engine_evaluate(e, "tags", "u", &p, 1, &r), HF_ERR_INVALID_JSON);
  p = hf_prop_json("tag", NULL);
  BAD(hf_engine_evaluate(e, "tags", "u", &p, 1, &r), HF_ERR_NULL_ARGUMENT);
  memset(deep, '[', sizeof deep - 1);
  deep[sizeof deep - 1] = 0;
  p = hf_prop_json("tag", deep);
  BAD(hf_engine_evaluate(e, "tags", "u", &p, 1, &r), HF_ERR_INVALID_JSON);
  /* A bad second property fails the call even when the first is fine. */
  two[0] = hf_prop_string("plan", "pro");
  two[1] = hf_prop_string("plan", NULL);
  BAD(hf_engine_evaluate(e, "beta", "u", two, 2, &r), HF_ERR_NULL_ARGUMENT);
  /* The engine still works after all of that. */
  two[1] = hf_prop_string("plan", "pro");
  EXPECT(hf_engine_evaluate(e, "beta", "u", two, 2, &r) == HF_OK && r.value == HF_VALUE_TRUE);
  /* A key given twice keeps its last value. */
  two[1] = hf_prop_string("plan", "free");
  EXPECT(hf_engine_evaluate(e, "beta", "u", two, 2, &r) == HF_OK && r.value == HF_VALUE_FALSE);
#undef BAD
  hf_engine_free(e);
  return 1;
}

static int t_json_entry_bad_input(void) {
  hf_engine *e = engine_from(DOC);
  char *out = (char *)0x1;
  char deep[3000];
  EXPECT(e != NULL);
  EXPECT(hf_engine_evaluate_json(NULL, "beta", "{\"distinct_id\":\"u\"}", &out) == HF_ERR_NULL_ARGUMENT && out == NULL);
  out = (char *)0x1;
  EXPECT(hf_engine_evaluate_json(e, NULL, "{\"distinct_id\":\"u\"}", &out) == HF_ERR_NULL_ARGUMENT && out == NULL);
  EXPECT(hf_engine_evaluate_json(e, "beta", NULL, &out) == HF_ERR_NULL_ARGUMENT && out == NULL);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":\"u\"}", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{", &out) == HF_ERR_INVALID_JSON && out == NULL);
  EXPECT(strstr(hf_last_error(), "context") != NULL);
  EXPECT(hf_engine_evaluate_json(e, "beta", "", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{}", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":true}", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":null}", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":\"u\",\"bogus\":1}", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":\"u\",\"person_properties\":[]}", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":\"u\",\"now\":\"yesterday\"}", &out) == HF_ERR_INVALID_JSON);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":\"\xff\"}", &out) == HF_ERR_INVALID_UTF8 && out == NULL);
  EXPECT(hf_engine_evaluate_json(e, "\xff", "{\"distinct_id\":\"u\"}", &out) == HF_ERR_INVALID_UTF8 && out == NULL);
  memset(deep, '[', sizeof deep - 1);
  deep[sizeof deep - 1] = 0;
  memcpy(deep, "{\"distinct_id\":", 15);
  EXPECT(hf_engine_evaluate_json(e, "beta", deep, &out) == HF_ERR_INVALID_JSON && out == NULL);
  EXPECT(hf_engine_evaluate_all_json(NULL, "{\"distinct_id\":\"u\"}", &out) == HF_ERR_NULL_ARGUMENT && out == NULL);
  EXPECT(hf_engine_evaluate_all_json(e, NULL, &out) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate_all_json(e, "{\"distinct_id\":\"u\"}", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate_all_json(e, "nope", &out) == HF_ERR_INVALID_JSON && out == NULL);
  /* Integer distinct ids and group keys are accepted (D3). */
  EXPECT(hf_engine_evaluate_json(e, "org", "{\"distinct_id\":42,\"groups\":{\"company\":7},"
                                           "\"group_properties\":{\"company\":{\"seats\":11}}}", &out) == HF_OK);
  EXPECT(strstr(out, "\"value\":true") != NULL);
  hf_string_free(out);
  hf_engine_free(e);
  return 1;
}

static int t_json_results(void) {
  hf_engine *e = engine_from(DOC);
  char *out = NULL;
  jval *j;
  const jval *payload;
  EXPECT(e != NULL);
  EXPECT(hf_engine_evaluate_json(e, "beta", "{\"distinct_id\":\"u\",\"person_properties\":{\"plan\":\"pro\"}}", &out) == HF_OK);
  j = json_parse(out, strlen(out));
  hf_string_free(out);
  EXPECT(j && json_get(j, "value")->t == J_TRUE && json_get(j, "enabled")->t == J_TRUE);
  payload = json_get(j, "payload");
  EXPECT(payload && payload->t == J_OBJ && !strcmp(json_get(payload, "color")->str, "blue"));
  EXPECT(!strcmp(json_get(json_get(j, "reason"), "description")->str, "Matched condition set 1"));
  EXPECT(json_get(j, "flag_id")->num == 7 && json_get(j, "version")->num == 3);
  json_free(j);
  EXPECT(hf_engine_evaluate_json(e, "nope", "{\"distinct_id\":\"u\"}", &out) == HF_OK);
  j = json_parse(out, strlen(out));
  hf_string_free(out);
  EXPECT(j && !strcmp(json_get(j, "inconclusive")->str, "unknown_flag") && json_get(j, "detail")->t == J_NULL);
  json_free(j);
  EXPECT(hf_engine_evaluate_all_json(e, "{\"distinct_id\":\"u\",\"person_properties\":{\"plan\":\"pro\",\"age\":3}}", &out) == HF_OK);
  j = json_parse(out, strlen(out));
  hf_string_free(out);
  EXPECT(j && j->t == J_ARR && j->n == 6);
  EXPECT(!strcmp(json_get(&j->items[0], "key")->str, "beta") && json_get(&j->items[0], "value")->t == J_TRUE);
  EXPECT(!strcmp(json_get(&j->items[2], "key")->str, "adults") && json_get(&j->items[2], "value")->t == J_FALSE);
  EXPECT(!strcmp(json_get(&j->items[5], "key")->str, "off"));
  json_free(j);
  hf_engine_free(e);
  return 1;
}

static int t_context_api(void) {
  hf_engine *e = engine_from(DOC);
  hf_context *c = (hf_context *)0x1, *cj = NULL;
  hf_property seats = hf_prop_int("seats", 25), p;
  hf_result r, rj;
  char *out = NULL;
  EXPECT(e != NULL);
  EXPECT(hf_context_new(NULL, &c) == HF_ERR_NULL_ARGUMENT && c == NULL);
  EXPECT(hf_context_new("u", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_new("\xff", &c) == HF_ERR_INVALID_UTF8 && c == NULL);
  EXPECT(hf_context_new("u", &c) == HF_OK && c != NULL);
  /* Group flag without the group: false, no_group_type. */
  EXPECT(hf_engine_evaluate_context(e, "org", c, &r) == HF_OK && r.value == HF_VALUE_FALSE && r.reason == HF_REASON_NO_GROUP_TYPE);
  EXPECT(hf_context_set_group(c, "company", "acme") == HF_OK);
  EXPECT(hf_engine_evaluate_context(e, "org", c, &r) == HF_OK && r.value == HF_VALUE_INCONCLUSIVE &&
         r.inconclusive == HF_INCONCLUSIVE_MISSING_PROPERTY);
  EXPECT(hf_context_set_group_property(c, "company", &seats) == HF_OK);
  EXPECT(hf_engine_evaluate_context(e, "org", c, &r) == HF_OK && r.value == HF_VALUE_TRUE);
  seats = hf_prop_int("seats", 5);
  EXPECT(hf_context_set_group_property(c, "company", &seats) == HF_OK); /* replaces */
  EXPECT(hf_engine_evaluate_context(e, "org", c, &r) == HF_OK && r.value == HF_VALUE_FALSE);
  p = hf_prop_string("plan", "pro");
  EXPECT(hf_context_set_person_property(c, &p) == HF_OK);
  EXPECT(hf_context_set_device_id(c, "dev-1") == HF_OK);
  EXPECT(hf_context_set_now(c, "2026-01-15T12:00:00Z") == HF_OK);
  EXPECT(hf_engine_evaluate_context(e, "beta", c, &r) == HF_OK && r.value == HF_VALUE_TRUE);
  /* The same context from JSON gives the same answers. */
  EXPECT(hf_context_from_json("{\"distinct_id\":\"u\",\"person_properties\":{\"plan\":\"pro\"},\"groups\":{\"company\":\"acme\"},"
                              "\"group_properties\":{\"company\":{\"seats\":5}},\"device_id\":\"dev-1\","
                              "\"now\":\"2026-01-15T12:00:00Z\"}", &cj) == HF_OK);
  EXPECT(hf_engine_evaluate_context(e, "beta", cj, &rj) == HF_OK && same_result(&r, &rj));
  EXPECT(hf_engine_evaluate_context(e, "org", cj, &rj) == HF_OK && rj.value == HF_VALUE_FALSE);
  EXPECT(hf_engine_evaluate_context_json(e, "beta", cj, &out) == HF_OK && strstr(out, "\"color\":\"blue\"") != NULL);
  hf_string_free(out);
  /* Bad input. */
  EXPECT(hf_context_set_person_property(NULL, &p) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_set_person_property(c, NULL) == HF_ERR_NULL_ARGUMENT);
  p = hf_prop_float("x", NAN);
  EXPECT(hf_context_set_person_property(c, &p) == HF_ERR_INVALID_ARGUMENT);
  p = hf_prop_json("x", "{");
  EXPECT(hf_context_set_person_property(c, &p) == HF_ERR_INVALID_JSON);
  EXPECT(hf_context_set_group(c, NULL, "k") == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_set_group(c, "company", "\xff") == HF_ERR_INVALID_UTF8);
  EXPECT(hf_context_set_group(NULL, "company", "k") == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_set_group_property(c, "company", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_set_group_property(c, "\xff", &seats) == HF_ERR_INVALID_UTF8);
  EXPECT(hf_context_set_device_id(c, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_set_now(c, "next tuesday") == HF_ERR_INVALID_ARGUMENT);
  EXPECT(hf_context_set_now(c, NULL) == HF_ERR_NULL_ARGUMENT);
  hf_context_free(cj);
  EXPECT(hf_context_from_json("{\"distinct_id\":[]}", &cj) == HF_ERR_INVALID_JSON && cj == NULL);
  EXPECT(hf_context_from_json(NULL, &cj) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_context_from_json("{\"distinct_id\":\"u\"}", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate_context(e, "beta", NULL, &r) == HF_ERR_NULL_ARGUMENT && r.value == HF_VALUE_FALSE);
  EXPECT(hf_engine_evaluate_context(NULL, "beta", c, &r) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate_context(e, NULL, c, &r) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_engine_evaluate_context(e, "beta", c, NULL) == HF_ERR_NULL_ARGUMENT);
  out = (char *)0x1;
  EXPECT(hf_engine_evaluate_context_json(e, "beta", NULL, &out) == HF_ERR_NULL_ARGUMENT && out == NULL);
  EXPECT(hf_engine_evaluate_context_json(e, "beta", c, NULL) == HF_ERR_NULL_ARGUMENT);
  /* After the failures the context is unchanged. */
  EXPECT(hf_engine_evaluate_context(e, "beta", c, &r) == HF_OK && r.value == HF_VALUE_TRUE);
  hf_context_free(c);
  hf_context_free(cj);
  hf_engine_free(e);
  return 1;
}

static int t_free_functions_accept_null(void) {
  hf_engine_free(NULL);
  hf_context_free(NULL);
  hf_string_free(NULL);
  return 1; /* reaching this line is the assertion: none of them crashed */
}

static int t_hash(void) {
  double h = -1;
  EXPECT(hf_hash("", "", "", &h) == HF_OK && h >= 0.0 && h <= 1.0);
  EXPECT(hf_hash(NULL, "a", "", &h) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_hash("a", "b", "", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_hash("a", "\xff", "", &h) == HF_ERR_INVALID_UTF8);
  return 1;
}

static void *error_thread(void *arg) {
  int *ok = (int *)arg;
  hf_engine *e = NULL;
  /* A fresh thread starts with no error, whatever other threads did. */
  *ok = strcmp(hf_last_error(), "") == 0;
  *ok = *ok && hf_engine_new("{\"flags\":", 9, &e) == HF_ERR_INVALID_JSON;
  *ok = *ok && strstr(hf_last_error(), "definitions") != NULL;
  return NULL;
}

static int t_last_error_is_thread_local(void) {
  pthread_t t;
  int ok = 0;
  hf_context *c = NULL;
  EXPECT(hf_context_new(NULL, &c) == HF_ERR_NULL_ARGUMENT);
  EXPECT(strstr(hf_last_error(), "distinct_id is NULL") != NULL);
  EXPECT(pthread_create(&t, NULL, error_thread, &ok) == 0 && pthread_join(t, NULL) == 0);
  EXPECT(ok);
  EXPECT(strstr(hf_last_error(), "distinct_id is NULL") != NULL); /* untouched by the other thread */
  /* A successful call does not clear it (documented, like errno). */
  EXPECT(hf_context_new("u", &c) == HF_OK);
  hf_context_free(c);
  EXPECT(strstr(hf_last_error(), "distinct_id is NULL") != NULL);
  return 1;
}

/* ------------------------------------------------------------------------------------------------ */
/* Threads                                                                                           */

#define THREADS 8
#define ITERATIONS 2000
typedef struct {
  const hf_engine *engine;
  const hf_context *shared_ctx;
  const hf_result *expected; /* per user: beta with plan=pro (user i) */
  int index;
  int mismatches;
} worker;

static void *work(void *arg) {
  worker *w = (worker *)arg;
  int i;
  for (i = 0; i < ITERATIONS; i++) {
    char id[32];
    int user = (i * 7 + w->index) % 50;
    hf_property props[2];
    hf_result r;
    snprintf(id, sizeof id, "user-%d", user);
    props[0] = hf_prop_string("plan", (user % 3) ? "pro" : "free");
    props[1] = hf_prop_int("age", user);
    if (hf_engine_evaluate(w->engine, "adults", id, props, 2, &r) != HF_OK || !same_result(&r, &w->expected[user])) w->mismatches++;
    if (hf_engine_evaluate_context(w->engine, "exp", w->shared_ctx, &r) != HF_OK || r.value != HF_VALUE_VARIANT) w->mismatches++;
    if (i % 20 == 0) {
      char *out = NULL;
      char ctx[128];
      snprintf(ctx, sizeof ctx, "{\"distinct_id\":\"%s\",\"person_properties\":{\"plan\":\"%s\"}}", id, (user % 3) ? "pro" : "free");
      if (hf_engine_evaluate_json(w->engine, "beta", ctx, &out) != HF_OK ||
          strstr(out, (user % 3) ? "\"value\":true" : "\"value\":false") == NULL)
        w->mismatches++;
      hf_string_free(out);
    }
    if (i % 100 == 0) { /* errors on many threads at once stay per-thread */
      if (hf_engine_evaluate(w->engine, NULL, id, NULL, 0, &r) != HF_ERR_NULL_ARGUMENT || strstr(hf_last_error(), "flag_key") == NULL)
        w->mismatches++;
    }
  }
  return NULL;
}

static int t_threads_share_one_engine(void) {
  hf_engine *e = engine_from(DOC);
  hf_context *shared = NULL;
  hf_result expected[50];
  pthread_t threads[THREADS];
  worker workers[THREADS];
  int i, total = 0;
  EXPECT(e != NULL && hf_context_new("shared-user", &shared) == HF_OK);
  for (i = 0; i < 50; i++) {
    char id[32];
    hf_property props[2];
    snprintf(id, sizeof id, "user-%d", i);
    props[0] = hf_prop_string("plan", (i % 3) ? "pro" : "free");
    props[1] = hf_prop_int("age", i);
    EXPECT(hf_engine_evaluate(e, "adults", id, props, 2, &expected[i]) == HF_OK);
    EXPECT(expected[i].value == (i >= 18 ? HF_VALUE_TRUE : HF_VALUE_FALSE));
  }
  for (i = 0; i < THREADS; i++) {
    workers[i].engine = e;
    workers[i].shared_ctx = shared;
    workers[i].expected = expected;
    workers[i].index = i;
    workers[i].mismatches = 0;
    EXPECT(pthread_create(&threads[i], NULL, work, &workers[i]) == 0);
  }
  for (i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    total += workers[i].mismatches;
  }
  hf_context_free(shared);
  hf_engine_free(e);
  if (total) return fail("%d mismatches across %d threads", total, THREADS);
  return 1;
}

int main(int argc, char **argv) {
  const char *corpus = argc > 1 ? argv[1] : "tests/conformance";
  const char *vectors = argc > 2 ? argv[2] : "tests/vectors/hash-vectors.json";

  RUN(t_version_and_names);
  RUN(t_engine_new_bad_input);
  RUN(t_engine_limits);
  RUN(t_skipped_flags_are_reported);
  RUN(t_info_lists_property_keys);
  RUN(t_fast_path_results);
  RUN(t_property_kinds_match_json);
  RUN(t_fast_path_bad_input);
  RUN(t_json_entry_bad_input);
  RUN(t_json_results);
  RUN(t_context_api);
  RUN(t_free_functions_accept_null);
  RUN(t_hash);
  RUN(t_last_error_is_thread_local);
  RUN(t_threads_share_one_engine);
  record("hash_vectors", hash_vectors(vectors));
  run_corpus(corpus);
  if (getenv("HOGFLAGS_EXTRA_CORPUS") && *getenv("HOGFLAGS_EXTRA_CORPUS")) run_corpus(getenv("HOGFLAGS_EXTRA_CORPUS"));

  printf("conformance: %d cases through the C API (%d not expressible with the typed setters)\n", cases_run, typed_skipped);
  if (cases_run < 500) record("corpus size", fail("only %d cases, want at least 500", cases_run));
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
