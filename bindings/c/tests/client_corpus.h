/* The client conformance corpus (tests/client/cases.json) through the C API: answers, the /flags
 * requests each call makes, the $feature_flag_called events and the errors, as every binding runs it
 * (see tests/client/README.md). Included by test_client.c, which provides the test server, http_body(),
 * base_config(), fail() and EXPECT. */
#ifndef HOGFLAGS_TEST_CLIENT_CORPUS_H
#define HOGFLAGS_TEST_CLIENT_CORPUS_H

#include "json.h"

#define CORPUS_MAX_EVENTS 64

typedef struct {
  pthread_mutex_t lock;
  int n;
  char *events[CORPUS_MAX_EVENTS];
} corpus_events;

static void corpus_on_event(void *user_data, const char *json) {
  corpus_events *s = (corpus_events *)user_data;
  pthread_mutex_lock(&s->lock);
  if (s->n < CORPUS_MAX_EVENTS) s->events[s->n++] = strdup(json);
  pthread_mutex_unlock(&s->lock);
}

static void corpus_clear(corpus_events *s) {
  int i;
  pthread_mutex_lock(&s->lock);
  for (i = 0; i < s->n; i++) free(s->events[i]);
  s->n = 0;
  pthread_mutex_unlock(&s->lock);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  if (buf) { buf[n] = 0; *len = (size_t)n; }
  fclose(f);
  return buf;
}

/* Every field of `expected` is in `got` with an equal value (objects field by field, recursively). */
static int json_subset(const jval *expected, const jval *got) {
  size_t i;
  if (expected->t != J_OBJ) return json_equal(expected, got);
  if (!got || got->t != J_OBJ) return 0;
  for (i = 0; i < expected->n; i++) {
    const jval *g = json_get(got, expected->keys[i]);
    if (!g && expected->items[i].t == J_NULL) continue;
    if (!g || !json_subset(&expected->items[i], g)) return 0;
  }
  return 1;
}

/* Two arrays of strings with the same members, in any order. */
static int same_members(const jval *a, const jval *b) {
  size_t i, j;
  if (!a || !b || a->t != J_ARR || b->t != J_ARR || a->n != b->n) return 0;
  for (i = 0; i < a->n; i++) {
    int found = 0;
    for (j = 0; j < b->n && !found; j++) found = json_equal(&a->items[i], &b->items[j]);
    if (!found) return 0;
  }
  return 1;
}

/* Appends printf-style text to a growing buffer. */
static void cat(char *buf, size_t cap, const char *fmt, ...) {
  size_t len = strlen(buf);
  va_list ap;
  if (len >= cap) return;
  va_start(ap, fmt);
  vsnprintf(buf + len, cap - len, fmt, ap);
  va_end(ap);
}

static void cat_raw(char *buf, size_t cap, const jval *v) {
  if (!v) { cat(buf, cap, "null"); return; }
  cat(buf, cap, "%.*s", (int)v->raw_len, v->raw);
}

/* The answer of one call in the corpus's form, from the C API's JSON. */
static int corpus_answer(const jval *out, int bulk, char *buf, size_t cap) {
  size_t i;
  buf[0] = 0;
  if (!out || out->t != J_OBJ) return 0;
  if (!bulk) {
    if (json_get(out, "kind")) {
      cat(buf, cap, "{\"kind\":");
      cat_raw(buf, cap, json_get(out, "kind"));
      cat(buf, cap, ",\"detail\":");
      cat_raw(buf, cap, json_get(out, "detail"));
    } else {
      cat(buf, cap, "{\"value\":");
      cat_raw(buf, cap, json_get(out, "value"));
      cat(buf, cap, ",\"source\":");
      cat_raw(buf, cap, json_get(out, "source"));
    }
    cat(buf, cap, "}");
    return 1;
  }
  {
    const jval *flags = json_get(out, "flags"), *unresolved = json_get(out, "unresolved");
    if (!flags || !unresolved) return 0;
    cat(buf, cap, "{\"flags\":{");
    for (i = 0; i < flags->n; i++) {
      cat(buf, cap, "%s\"%s\":", i ? "," : "", flags->keys[i]);
      cat_raw(buf, cap, json_get(&flags->items[i], "value"));
    }
    cat(buf, cap, "},\"unresolved\":{");
    for (i = 0; i < unresolved->n; i++) {
      cat(buf, cap, "%s\"%s\":{\"kind\":", i ? "," : "", unresolved->keys[i]);
      cat_raw(buf, cap, json_get(&unresolved->items[i], "kind"));
      cat(buf, cap, ",\"detail\":");
      cat_raw(buf, cap, json_get(&unresolved->items[i], "detail"));
      cat(buf, cap, "}");
    }
    cat(buf, cap, "}}");
  }
  return 1;
}

static int stats_flags_requests(jval **stats) {
  char *text = http_get_body("/_control/stats");
  const jval *n;
  *stats = text ? json_parse(text, strlen(text)) : NULL;
  free(text);
  n = *stats ? json_get(*stats, "flags_requests") : NULL;
  return n ? (int)n->num : -1;
}

/* Compares one call's /flags requests with `expect_requests`. */
static int corpus_requests(const jval *want, int before, const char *what) {
  jval *stats = NULL;
  int count = stats_flags_requests(&stats), ok = 1;
  const jval *body = stats ? json_get(stats, "last_flags_request") : NULL;
  const jval *w_count = json_get(want, "count"), *w_keys = json_get(want, "flag_keys"),
             *w_props = json_get(want, "person_properties");
  if (!stats) return fail("%s: no stats", what);
  if (w_count && (int)w_count->num != count - before) ok = fail("%s: %d /flags requests, expected %d", what, count - before, (int)w_count->num);
  if (ok && w_keys) {
    const jval *keys = body ? json_get(body, "flag_keys_to_evaluate") : NULL;
    int got_null = !keys || keys->t == J_NULL;
    if (w_keys->t == J_NULL ? !got_null : !same_members(w_keys, keys))
      ok = fail("%s: asked for %.*s, expected %.*s", what, keys ? (int)keys->raw_len : 4, keys ? keys->raw : "null",
                (int)w_keys->raw_len, w_keys->raw);
  }
  if (ok && w_props && !json_subset(w_props, body ? json_get(body, "person_properties") : NULL))
    ok = fail("%s: person_properties sent are not %.*s", what, (int)w_props->raw_len, w_props->raw);
  json_free(stats);
  return ok;
}

/* Compares the $feature_flag_called events of one call with `expect_events`. */
static int corpus_events_match(corpus_events *s, const jval *want, const char *what) {
  char buf[4096] = "[";
  int i, first = 1, ok;
  jval *got;
  pthread_mutex_lock(&s->lock);
  for (i = 0; i < s->n; i++) {
    jval *e = json_parse(s->events[i], strlen(s->events[i]));
    const jval *name = e ? json_get(e, "event") : NULL, *props = e ? json_get(e, "properties") : NULL;
    if (name && props && !strcmp(name->str, "$feature_flag_called")) {
      cat(buf, sizeof buf, "%s{\"flag\":", first ? "" : ",");
      cat_raw(buf, sizeof buf, json_get(props, "$feature_flag"));
      cat(buf, sizeof buf, ",\"response\":");
      cat_raw(buf, sizeof buf, json_get(props, "$feature_flag_response"));
      cat(buf, sizeof buf, ",\"error\":");
      cat_raw(buf, sizeof buf, json_get(props, "$feature_flag_error"));
      cat(buf, sizeof buf, "}");
      first = 0;
    }
    json_free(e);
  }
  pthread_mutex_unlock(&s->lock);
  cat(buf, sizeof buf, "]");
  got = json_parse(buf, strlen(buf));
  ok = json_equal(want, got) ? 1 : fail("%s: events %s, expected %.*s", what, buf, (int)want->raw_len, want->raw);
  json_free(got);
  return ok;
}

/* One case: a fresh client against the server set up as the case says, then its calls. */
static int corpus_case(const jval *corpus, const jval *c) {
  char path_body[65536], answer[8192], what[512], *defs, *text = NULL;
  const jval *name = json_get(c, "name"), *client_opts = json_get(c, "client"), *persons = json_get(corpus, "persons");
  const jval *secret = client_opts ? json_get(client_opts, "secret_key") : NULL;
  const jval *only_local = client_opts ? json_get(client_opts, "only_evaluate_locally") : NULL;
  const jval *calls = json_get(c, "calls"), *faults = json_get(c, "faults"), *expect_error = json_get(c, "expect_error");
  const jval *definitions = json_get(c, "definitions") ? json_get(c, "definitions") : json_get(corpus, "definitions");
  hf_client_config *cfg;
  hf_client *cl = NULL;
  hf_status st;
  corpus_events events;
  size_t i;
  int ok = 1;
  memset(&events, 0, sizeof events);
  pthread_mutex_init(&events.lock, NULL);
  EXPECT(http("POST", "/_control/reset", "{}") == 200);
  defs = json_raw_copy(definitions);
  EXPECT(defs && http("POST", "/_control/definitions", defs) == 200);
  free(defs);
  for (i = 0; persons && i < persons->n; i++) {
    snprintf(path_body, sizeof path_body, "{\"distinct_id\":\"%s\",\"properties\":%.*s}", persons->keys[i],
             (int)persons->items[i].raw_len, persons->items[i].raw);
    EXPECT(http("POST", "/_control/persons", path_body) == 200);
  }
  if (json_get(c, "quota_limited") && json_get(c, "quota_limited")->t == J_TRUE)
    EXPECT(http("POST", "/_control/quota_limited", "{\"enabled\":true}") == 200);
  cfg = base_config(secret && secret->t == J_NULL ? NULL : secret && secret->t == J_STR ? secret->str : SECRET_KEY);
  EXPECT(cfg != NULL);
  hf_client_config_set_remote_timeout_ms(cfg, 1000);
  if (only_local) hf_client_config_set_only_evaluate_locally(cfg, only_local->t == J_TRUE);
  hf_client_config_set_on_flag_called(cfg, corpus_on_event, &events);
  st = hf_client_new(cfg, &cl);
  hf_client_config_free(cfg);
  if (expect_error) {
    if (st != HF_ERR_CLIENT) ok = fail("%s: created (status %d), expected error %s", name->str, (int)st, expect_error->str);
    else if (strcmp(hf_last_error_code(), expect_error->str))
      ok = fail("%s: error code '%s', expected '%s'", name->str, hf_last_error_code(), expect_error->str);
    hf_client_free(cl);
    pthread_mutex_destroy(&events.lock);
    return ok;
  }
  EXPECT(st == HF_OK);
  if (!(secret && secret->t == J_NULL)) EXPECT(hf_client_wait_until_ready(cl, 5000) == HF_OK);
  if (faults) {
    defs = json_raw_copy(faults);
    EXPECT(defs && http("POST", "/_control/faults", defs) == 200);
    free(defs);
  }
  for (i = 0; ok && calls && i < calls->n; i++) {
    const jval *call = &calls->items[i], *kind = json_get(call, "call"), *props = json_get(call, "person_properties");
    const jval *keys = json_get(call, "flag_keys"), *only = json_get(call, "only_evaluate_locally");
    const jval *want_events = json_get(call, "expect_events");
    int bulk = !strcmp(kind->str, "all"), options = only && only->t == J_TRUE ? HF_FLAG_ONLY_LOCAL : 0, before;
    char ctx[4096], *keys_text = keys ? json_raw_copy(keys) : NULL;
    jval *stats = NULL, *out = NULL, *got = NULL;
    snprintf(what, sizeof what, "%s / call %zu", name->str, i);
    snprintf(ctx, sizeof ctx, "{\"distinct_id\":\"%s\",\"person_properties\":%.*s}", json_get(call, "distinct_id")->str,
             props ? (int)props->raw_len : 2, props ? props->raw : "{}");
    before = stats_flags_requests(&stats);
    json_free(stats);
    corpus_clear(&events);
    st = bulk ? hf_client_get_flags_json(cl, ctx, keys_text, options, &text)
              : hf_client_get_flag_json(cl, json_get(call, "key")->str, ctx, options, &text);
    free(keys_text);
    if (st != HF_OK) { ok = fail("%s: status %d (%s)", what, (int)st, hf_last_error()); break; }
    out = json_parse(text, strlen(text));
    if (!corpus_answer(out, bulk, answer, sizeof answer)) ok = fail("%s: unexpected answer shape", what);
    hf_string_free(text); /* after the answer: the parsed tree points into it */
    got = ok ? json_parse(answer, strlen(answer)) : NULL;
    if (ok && !json_equal(json_get(call, "expect"), got))
      ok = fail("%s: answer %s, expected %.*s", what, answer, (int)json_get(call, "expect")->raw_len, json_get(call, "expect")->raw);
    json_free(out);
    json_free(got);
    if (ok) ok = corpus_requests(json_get(call, "expect_requests"), before, what);
    if (ok && want_events) ok = corpus_events_match(&events, want_events, what);
  }
  hf_client_free(cl);
  corpus_clear(&events);
  pthread_mutex_destroy(&events.lock);
  return ok;
}

/* Runs every case of the corpus at `path`; one recorded result per case. */
static void run_client_corpus(const char *path) {
  size_t len = 0, i;
  char *text = read_file(path, &len);
  jval *corpus = text ? json_parse(text, len) : NULL;
  const jval *cases = corpus ? json_get(corpus, "cases") : NULL;
  if (!cases) {
    fail("cannot read the client corpus %s", path);
    record("client corpus", 0);
  }
  for (i = 0; cases && i < cases->n; i++) {
    char label[300];
    snprintf(label, sizeof label, "client corpus: %s", json_get(&cases->items[i], "name")->str);
    record(label, corpus_case(corpus, &cases->items[i]));
  }
  json_free(corpus);
  free(text);
}

#endif /* HOGFLAGS_TEST_CLIENT_CORPUS_H */
