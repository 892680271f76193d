/* The networked client through the C API, against the local PostHog-compatible test server
 * (tests/server): configuration errors, polling, local and remote answers, events, definitions updates,
 * errors and their callbacks, manual driver, logging, threads, shutdown. Prints one line per failure and
 * ends with "N passed, N failed".
 *
 * Then the client conformance corpus (tests/client/cases.json, see client_corpus.h).
 *
 * Usage: test_client <path to hogflags-test-server> <path to tests/client/cases.json> */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hogflags.h"

#define PROJECT_KEY "phc_test_project_key"
#define SECRET_KEY "phs_test_secret_key"

static int passed, failed;
static char why[2048];
static char url[128];
static int port;

static void record(const char *name, int ok) {
  if (ok) passed++;
  else { failed++; printf("FAIL %s: %s\n", name, why); }
  why[0] = 0;
}
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return 0;
}
#define EXPECT(cond)                                                                            \
  do {                                                                                          \
    if (!(cond)) return fail("line %d: %s (last error: %s)", __LINE__, #cond, hf_last_error()); \
  } while (0)
#define RUN(fn) record(#fn, fn())

/* ---- the test server ---------------------------------------------------------------------------- */

static pid_t server_pid = -1;
static int server_stdin = -1;

static int start_server(const char *binary) {
  int in[2], out[2];
  char line[256];
  size_t n = 0;
  if (pipe(in) || pipe(out)) return 0;
  server_pid = fork();
  if (server_pid < 0) return 0;
  if (server_pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(binary, binary, "--exit-on-stdin-eof", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  server_stdin = in[1];
  while (n + 1 < sizeof line) { /* first line: "listening on http://127.0.0.1:PORT" */
    ssize_t r = read(out[0], line + n, 1);
    if (r <= 0 || line[n] == '\n') break;
    n++;
  }
  line[n] = 0;
  close(out[0]);
  if (sscanf(line, "listening on http://127.0.0.1:%d", &port) != 1) return 0;
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  return 1;
}

static void stop_server(void) {
  int status;
  if (server_stdin >= 0) close(server_stdin); /* --exit-on-stdin-eof */
  if (server_pid > 0) waitpid(server_pid, &status, 0);
}

/* A minimal HTTP/1.1 request to the control API; returns the status code (0 on failure) and, when
   `out` is not NULL, copies the response body there (NUL-terminated, cut at `cap`). */
static int http_body(const char *method, const char *path, const char *body, char *out, size_t cap) {
  struct sockaddr_in addr;
  static char req[65536], resp[65536];
  int fd = socket(AF_INET, SOCK_STREAM, 0), status = 0;
  size_t len, got = 0;
  ssize_t r;
  const char *start;
  if (fd < 0) return 0;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { close(fd); return 0; }
  len = (size_t)snprintf(req, sizeof req,
                         "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         method, path, strlen(body), body);
  if (write(fd, req, len) != (ssize_t)len) { close(fd); return 0; }
  while ((r = read(fd, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)r;
  resp[got] = 0;
  close(fd);
  sscanf(resp, "HTTP/1.1 %d", &status);
  if (out && cap > 0) {
    start = strstr(resp, "\r\n\r\n");
    snprintf(out, cap, "%s", start ? start + 4 : "");
  }
  return status;
}

static int http(const char *method, const char *path, const char *body) {
  return http_body(method, path, body, NULL, 0);
}

/* The body of a GET to the control API, as a new string (free it), or NULL. */
static char *http_get_body(const char *path) {
  char *out = malloc(65536);
  if (out && http_body("GET", path, "", out, 65536) != 200) {
    free(out);
    out = NULL;
  }
  return out;
}

/* ---- callbacks ---------------------------------------------------------------------------------- */

typedef struct {
  pthread_mutex_t lock;
  int events, errors, updates, logs;
  char last_event[4096], last_error_code[64], last_error[512], last_update[1024];
  int leaked_secret; /* a callback saw a key */
} sink;

static void note_secret(sink *s, const char *text) {
  if (strstr(text, SECRET_KEY) || strstr(text, "phs_wrong_secret") || strstr(text, PROJECT_KEY)) s->leaked_secret = 1;
}

static void on_event(void *user_data, const char *json) {
  sink *s = (sink *)user_data;
  pthread_mutex_lock(&s->lock);
  s->events++;
  snprintf(s->last_event, sizeof s->last_event, "%s", json);
  pthread_mutex_unlock(&s->lock);
}
static void on_error(void *user_data, const char *code, const char *message) {
  sink *s = (sink *)user_data;
  pthread_mutex_lock(&s->lock);
  s->errors++;
  snprintf(s->last_error_code, sizeof s->last_error_code, "%s", code);
  snprintf(s->last_error, sizeof s->last_error, "%s", message);
  note_secret(s, message);
  pthread_mutex_unlock(&s->lock);
}
static void on_update(void *user_data, const char *json) {
  sink *s = (sink *)user_data;
  pthread_mutex_lock(&s->lock);
  s->updates++;
  snprintf(s->last_update, sizeof s->last_update, "%s", json);
  pthread_mutex_unlock(&s->lock);
}
static void on_log(void *user_data, int32_t level, const char *message) {
  sink *s = (sink *)user_data;
  pthread_mutex_lock(&s->lock);
  if (level >= 1 && level <= 5) s->logs++;
  note_secret(s, message);
  pthread_mutex_unlock(&s->lock);
}

static sink S = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, "", "", "", "", 0};

/* A copy of the sink's counters and texts, taken under its lock (the copy's own lock is unused). */
static sink peek(void) {
  sink copy;
  pthread_mutex_lock(&S.lock);
  copy = S;
  pthread_mutex_unlock(&S.lock);
  return copy;
}

static int events_seen(void) {
  int n;
  pthread_mutex_lock(&S.lock);
  n = S.events;
  pthread_mutex_unlock(&S.lock);
  return n;
}

static const char *DEFS =
    "{\"flags\":["
    "{\"id\":1,\"version\":3,\"key\":\"beta\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":"
    "[{\"key\":\"plan\",\"value\":\"pro\",\"type\":\"person\"}],\"rollout_percentage\":100}],"
    "\"payloads\":{\"true\":\"{\\\"color\\\":\\\"blue\\\"}\"}}},"
    "{\"id\":2,\"key\":\"exp\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":[],\"rollout_percentage\":100}],"
    "\"multivariate\":{\"variants\":[{\"key\":\"control-long-variant-name\",\"rollout_percentage\":100}]}}}"
    "],\"group_type_mapping\":{}}";

static const char *DEFS2 =
    "{\"flags\":["
    "{\"id\":1,\"version\":3,\"key\":\"beta\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":"
    "[{\"key\":\"plan\",\"value\":\"pro\",\"type\":\"person\"}],\"rollout_percentage\":100}]}},"
    "{\"id\":3,\"key\":\"fresh\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":[],\"rollout_percentage\":100}]}}"
    "],\"group_type_mapping\":{}}";

static hf_client_config *base_config(const char *secret) {
  hf_client_config *cfg = NULL;
  if (hf_client_config_new(PROJECT_KEY, &cfg) != HF_OK) return NULL;
  if (secret && hf_client_config_set_secret_key(cfg, secret) != HF_OK) return NULL;
  hf_client_config_set_host(cfg, url);
  hf_client_config_set_poll_interval_ms(cfg, 200);
  hf_client_config_set_definitions_timeout_ms(cfg, 5000);
  hf_client_config_set_remote_timeout_ms(cfg, 5000);
  hf_client_config_set_use_system_proxy(cfg, 0);
  return cfg;
}

#include "client_corpus.h"

static hf_client *client; /* the shared background client of most tests (polls rarely: tests reload) */

/* ---- tests -------------------------------------------------------------------------------------- */

static int t_config_errors(void) {
  hf_client_config *cfg = (hf_client_config *)0x1;
  hf_client *c = (hf_client *)0x1;
  EXPECT(hf_client_config_new(NULL, &cfg) == HF_ERR_NULL_ARGUMENT && cfg == NULL);
  EXPECT(hf_client_config_new(PROJECT_KEY, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_config_new("\xff", &cfg) == HF_ERR_INVALID_UTF8);
  EXPECT(hf_client_new(NULL, &c) == HF_ERR_NULL_ARGUMENT && c == NULL);
  /* No secret key: a valid client that polls nothing (every flag through /flags; t_project_key_only). */
  cfg = base_config(NULL);
  EXPECT(cfg != NULL);
  EXPECT(hf_client_new(cfg, NULL) == HF_ERR_NULL_ARGUMENT);
  /* A project key given as the secret. */
  EXPECT(hf_client_config_set_secret_key(cfg, "phc_another") == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_ERR_CLIENT && strstr(hf_last_error(), "phc_another") == NULL);
  /* A host that is not http(s). */
  EXPECT(hf_client_config_set_secret_key(cfg, SECRET_KEY) == HF_OK);
  EXPECT(hf_client_config_set_host(cfg, "ftp://example.com") == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_ERR_CLIENT && strstr(hf_last_error(), "host") != NULL);
  /* Setters reject NULL and bad input. */
  EXPECT(hf_client_config_set_host(NULL, url) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_config_set_host(cfg, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_config_set_secret_key(cfg, "\xfe") == HF_ERR_INVALID_UTF8);
  EXPECT(hf_client_config_set_poll_interval_ms(NULL, 5) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_config_set_cache_path(cfg, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_config_set_on_flag_called(NULL, on_event, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_config_set_on_flag_called(cfg, NULL, NULL) == HF_OK); /* NULL removes it */
  hf_client_config_free(cfg);
  hf_client_config_free(NULL);
  hf_client_free(NULL);
  return 1;
}

static int t_client_becomes_ready(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  char *status = NULL;
  EXPECT(cfg != NULL);
  EXPECT(hf_client_config_set_poll_interval_ms(cfg, 60000) == HF_OK);
  EXPECT(hf_client_config_set_on_flag_called(cfg, on_event, &S) == HF_OK);
  EXPECT(hf_client_config_set_on_error(cfg, on_error, &S) == HF_OK);
  EXPECT(hf_client_config_set_on_definitions_updated(cfg, on_update, &S) == HF_OK);
  EXPECT(hf_client_new(cfg, &client) == HF_OK && client != NULL);
  hf_client_config_free(cfg); /* the client keeps its own copy */
  EXPECT(hf_client_wait_until_ready(client, 10000) == HF_OK);
  {
    sink now = peek();
    EXPECT(now.updates >= 1 && strstr(now.last_update, "\"flags\":2") != NULL);
  }
  EXPECT(hf_client_status_json(client, &status) == HF_OK);
  EXPECT(strstr(status, "\"ready\":true") && strstr(status, "\"flags_loaded\":2"));
  hf_string_free(status);
  return 1;
}

static int t_local_flag_and_event(void) {
  hf_context *ctx = NULL;
  hf_property pro = hf_prop_string("plan", "pro");
  hf_flag f;
  hf_engine *engine = NULL;
  hf_result r;
  char buf[64];
  int before;
  EXPECT(hf_context_new("user-1", &ctx) == HF_OK && hf_context_set_person_property(ctx, &pro) == HF_OK);
  before = events_seen();
  EXPECT(hf_client_get_flag(client, "beta", ctx, HF_FLAG_DEFAULT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(f.value == HF_VALUE_TRUE && f.source == HF_SOURCE_LOCAL && f.unresolved == HF_UNRESOLVED_NONE);
  EXPECT(f.reason == HF_REASON_CONDITION_MATCH && f.condition_index == 0 && f.has_payload == 1);
  EXPECT(f.has_flag_id && f.flag_id == 1 && f.has_version && f.version == 3 && buf[0] == 0);
  /* The same answer as the engine over the client's definitions. */
  EXPECT(hf_client_snapshot(client, &engine) == HF_OK);
  EXPECT(hf_engine_evaluate_context(engine, "beta", ctx, &r) == HF_OK && r.value == HF_VALUE_TRUE && r.reason == f.reason);
  hf_engine_free(engine);
  /* One event, with the flag and its response; a repeat is deduplicated. */
  EXPECT(events_seen() == before + 1);
  {
    sink now = peek();
    EXPECT(strstr(now.last_event, "\"event\":\"$feature_flag_called\"") && strstr(now.last_event, "\"distinct_id\":\"user-1\""));
    EXPECT(strstr(now.last_event, "\"$feature_flag\":\"beta\"") && strstr(now.last_event, "\"$feature_flag_response\":true"));
    EXPECT(strstr(now.last_event, "\"locally_evaluated\":true"));
  }
  EXPECT(hf_client_get_flag(client, "beta", ctx, HF_FLAG_DEFAULT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(events_seen() == before + 1);
  EXPECT(hf_client_get_flag(client, "exp", ctx, HF_FLAG_NO_EVENT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(events_seen() == before + 1);
  hf_context_free(ctx);
  return 1;
}

static int t_variant_buffer(void) {
  hf_context *ctx = NULL;
  hf_flag f;
  char small[8], big[64];
  EXPECT(hf_context_new("user-2", &ctx) == HF_OK);
  EXPECT(hf_client_get_flag(client, "exp", ctx, HF_FLAG_NO_EVENT, &f, big, sizeof big) == HF_OK);
  EXPECT(f.value == HF_VALUE_VARIANT && f.variant_len == 25 && !strcmp(big, "control-long-variant-name"));
  EXPECT(hf_client_get_flag(client, "exp", ctx, HF_FLAG_NO_EVENT, &f, small, sizeof small) == HF_ERR_BUFFER_TOO_SMALL);
  EXPECT(f.value == HF_VALUE_VARIANT && f.variant_len == 25);
  EXPECT(hf_client_get_flag(client, "exp", ctx, HF_FLAG_NO_EVENT, &f, NULL, 0) == HF_ERR_BUFFER_TOO_SMALL);
  EXPECT(hf_client_get_flag(client, "exp", ctx, HF_FLAG_NO_EVENT, &f, NULL, 10) == HF_ERR_NULL_ARGUMENT);
  hf_context_free(ctx);
  return 1;
}

static int t_remote_fallback(void) {
  hf_context *ctx = NULL;
  hf_flag f;
  char buf[64], *json = NULL;
  /* The server knows this person's plan; locally it is missing. */
  EXPECT(http("POST", "/_control/persons", "{\"distinct_id\":\"remote-user\",\"properties\":{\"plan\":\"pro\"}}") == 200);
  EXPECT(hf_context_new("remote-user", &ctx) == HF_OK);
  EXPECT(hf_client_get_flag(client, "beta", ctx, HF_FLAG_ONLY_LOCAL | HF_FLAG_NO_EVENT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(f.value == HF_VALUE_INCONCLUSIVE && f.unresolved == HF_UNRESOLVED_INCONCLUSIVE &&
         f.inconclusive == HF_INCONCLUSIVE_MISSING_PROPERTY && f.source == HF_SOURCE_NONE);
  EXPECT(hf_client_get_flag(client, "beta", ctx, HF_FLAG_NO_EVENT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(f.value == HF_VALUE_TRUE && f.source == HF_SOURCE_REMOTE && f.unresolved == HF_UNRESOLVED_NONE);
  /* A flag /flags does not know. */
  EXPECT(hf_client_get_flag(client, "no-such-flag", ctx, HF_FLAG_NO_EVENT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(f.value == HF_VALUE_INCONCLUSIVE && f.unresolved == HF_UNRESOLVED_FLAG_MISSING);
  /* The JSON form says the same. */
  EXPECT(hf_client_get_flag_json(client, "beta", "{\"distinct_id\":\"remote-user\"}", HF_FLAG_NO_EVENT, &json) == HF_OK);
  EXPECT(strstr(json, "\"source\":\"remote\"") && strstr(json, "\"value\":true"));
  hf_string_free(json);
  EXPECT(hf_client_get_flag_json(client, "beta", "{\"distinct_id\":\"remote-user\"}", HF_FLAG_ONLY_LOCAL, &json) == HF_OK);
  EXPECT(strstr(json, "\"kind\":\"missing_property\"") &&
         strstr(json, "\"detail\":\"plan\""));
  hf_string_free(json);
  /* Quota limited. */
  EXPECT(http("POST", "/_control/quota_limited", "{\"enabled\":true}") == 200);
  EXPECT(hf_client_get_flag(client, "beta", ctx, HF_FLAG_NO_EVENT, &f, buf, sizeof buf) == HF_OK);
  EXPECT(f.unresolved == HF_UNRESOLVED_QUOTA_LIMITED);
  EXPECT(http("POST", "/_control/quota_limited", "{\"enabled\":false}") == 200);
  /* /flags failing. */
  EXPECT(http("POST", "/_control/faults", "[{\"target\":\"flags\",\"kind\":\"status\",\"status\":500,\"count\":2}]") == 200);
  EXPECT(hf_client_get_flag_json(client, "beta", "{\"distinct_id\":\"remote-user\"}", HF_FLAG_NO_EVENT, &json) == HF_OK);
  EXPECT(strstr(json, "\"kind\":\"remote_error\"") && strstr(json, "\"detail\":\"api_error_500\"") &&
         strstr(json, "\"error_code\":\"api_error_500\""));
  hf_string_free(json);
  EXPECT(http("POST", "/_control/clear_faults", "") == 200);
  hf_context_free(ctx);
  return 1;
}

static int t_all_flags_json(void) {
  char *json = NULL;
  EXPECT(hf_client_get_all_flags_json(client, "{\"distinct_id\":\"u9\",\"person_properties\":{\"plan\":\"free\"}}", 0, &json) == HF_OK);
  EXPECT(strstr(json, "\"beta\":{") && strstr(json, "\"exp\":{") && strstr(json, "\"remote_called\":false"));
  EXPECT(strstr(json, "\"variant\":\"control-long-variant-name\""));
  hf_string_free(json);
  EXPECT(hf_client_get_all_flags_json(client, "{\"distinct_id\":\"u9\"}", HF_FLAG_ONLY_LOCAL, &json) == HF_OK);
  EXPECT(strstr(json, "\"unresolved\":{\"beta\":{") && strstr(json, "\"remote_called\":false"));
  hf_string_free(json);
  EXPECT(hf_client_get_all_flags_json(client, "{\"distinct_id\":\"remote-user\"}", 0, &json) == HF_OK);
  EXPECT(strstr(json, "\"remote_called\":true") && strstr(json, "\"unresolved\":{}"));
  hf_string_free(json);
  EXPECT(hf_client_get_all_flags_json(client, "{oops", 0, &json) == HF_ERR_INVALID_JSON && json == NULL);
  /* A key selection: the listed keys only, each in flags or unresolved; a bad list is refused. */
  EXPECT(hf_client_get_flags_json(client, "{\"distinct_id\":\"u9\"}", "[\"exp\",\"no-such\"]", HF_FLAG_ONLY_LOCAL, &json) == HF_OK);
  EXPECT(strstr(json, "\"exp\":{") && !strstr(json, "\"beta\"") && strstr(json, "\"kind\":\"unknown_flag\""));
  hf_string_free(json);
  json = NULL;
  EXPECT(hf_client_get_flags_json(client, "{\"distinct_id\":\"u9\"}", "[1,2]", 0, &json) == HF_ERR_INVALID_JSON && json == NULL);
  EXPECT(hf_client_get_all_flags_json(client, "{\"distinct_id\":\"u\"}", 64, &json) == HF_ERR_INVALID_ARGUMENT);
  return 1;
}

/* ---- batch evaluation (hf_evaluations) ---------------------------------------------------------- */

static char seen[2048]; /* the last text an evaluations helper read, for the failure message */

/* Keeps a library string in `seen` for the failure message and frees it; 0 unless `st` is HF_OK. */
static int keep(hf_status st, char *text) {
  snprintf(seen, sizeof seen, "%s (%s)", text ? text : "NULL", hf_status_name(st));
  hf_string_free(text);
  return st == HF_OK;
}
static int flag_is(const hf_evaluations *ev, const char *key, int send_event, const char *want) {
  char *j = NULL;
  hf_status st = hf_evaluations_get_flag_json(ev, key, send_event, &j);
  int ok = st == HF_OK && j && !strcmp(j, want);
  return keep(st, j) && ok;
}
static int keys_are(const hf_evaluations *ev, const char *want) {
  char *j = NULL;
  hf_status st = hf_evaluations_keys_json(ev, &j);
  int ok = st == HF_OK && j && !strcmp(j, want);
  return keep(st, j) && ok;
}
static int payload_is(const hf_evaluations *ev, const char *key, const char *want) {
  char *j = NULL;
  hf_status st = hf_evaluations_payload_json(ev, key, &j);
  int ok = st == HF_OK && j && !strcmp(j, want);
  return keep(st, j) && ok;
}
/* `*_json` output of `fn` contains every one of the NULL-terminated `parts` (and lacks `absent`). */
static int json_has(hf_status (*fn)(const hf_evaluations *, char **), const hf_evaluations *ev, const char *absent, ...) {
  char *j = NULL;
  const char *part;
  va_list ap;
  hf_status st = fn(ev, &j);
  int ok = st == HF_OK && j && !(absent && strstr(j, absent));
  va_start(ap, absent);
  while (ok && (part = va_arg(ap, const char *)) != NULL) ok = strstr(j, part) != NULL;
  va_end(ap);
  return keep(st, j) && ok;
}
static int enabled_is(const hf_evaluations *ev, const char *key, int default_value, int send_event, int want) {
  int got = -1;
  hf_status st = hf_evaluations_is_enabled(ev, key, default_value, send_event, &got);
  snprintf(seen, sizeof seen, "%d (%s)", got, hf_status_name(st));
  return st == HF_OK && got == want;
}
#define EXPECT_SEEN(cond)                                                                          \
  do {                                                                                             \
    if (!(cond)) return fail("line %d: %s (got %s; last error: %s)", __LINE__, #cond, seen, hf_last_error()); \
  } while (0)
#define EVENT_HAS(text) (strstr(peek().last_event, text) != NULL)

static int t_evaluations(void) {
  hf_evaluations *ev = NULL, *pro = NULL, *sel = NULL, *slice = NULL, *bad = (hf_evaluations *)0x1;
  char *json = (char *)0x1;
  int before, on = -1;
  /* Evaluating sends no event; beta needs the plan (undecided locally), exp is a variant. */
  before = events_seen();
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"ev-1\"}", NULL, HF_FLAG_ONLY_LOCAL, &ev) == HF_OK && ev);
  EXPECT(events_seen() == before);
  EXPECT_SEEN(keys_are(ev, "[\"exp\"]"));
  EXPECT_SEEN(json_has(hf_evaluations_unresolved_json, ev, NULL, "\"beta\":{", "\"key\":\"beta\"", "\"kind\":\"missing_property\"",
                       "\"detail\":\"plan\"", "\"error_code\":\"local_evaluation_inconclusive\"", (char *)NULL));
  /* A read sends one event, deduplicated. */
  EXPECT_SEEN(flag_is(ev, "exp", 1, "\"control-long-variant-name\""));
  EXPECT(events_seen() == before + 1);
  EXPECT(EVENT_HAS("\"event\":\"$feature_flag_called\"") && EVENT_HAS("\"distinct_id\":\"ev-1\""));
  EXPECT(EVENT_HAS("\"$feature_flag\":\"exp\"") && EVENT_HAS("\"$feature_flag_response\":\"control-long-variant-name\""));
  EXPECT(EVENT_HAS("\"locally_evaluated\":true") && !EVENT_HAS("$feature_flag_error"));
  EXPECT_SEEN(flag_is(ev, "exp", 1, "\"control-long-variant-name\""));
  EXPECT_SEEN(enabled_is(ev, "exp", 0, 1, 1));
  EXPECT(events_seen() == before + 1);
  /* An undecided flag: null, its event says local evaluation was inconclusive; default_value applies. */
  EXPECT_SEEN(enabled_is(ev, "beta", 1, 1, 1));
  EXPECT(events_seen() == before + 2);
  EXPECT(EVENT_HAS("\"$feature_flag\":\"beta\"") && EVENT_HAS("\"$feature_flag_response\":null"));
  EXPECT(EVENT_HAS("\"$feature_flag_error\":\"local_evaluation_inconclusive\""));
  EXPECT_SEEN(enabled_is(ev, "beta", 0, 1, 0));
  EXPECT_SEEN(flag_is(ev, "beta", 1, "null"));
  EXPECT(events_seen() == before + 2);
  /* A key not evaluated: null, flag_missing. */
  EXPECT_SEEN(flag_is(ev, "no-such-flag", 1, "null"));
  EXPECT(events_seen() == before + 3);
  EXPECT(EVENT_HAS("\"$feature_flag\":\"no-such-flag\"") && EVENT_HAS("\"$feature_flag_error\":\"flag_missing\""));
  /* only_accessed: the read flags with a value (exp), no unresolved; reading a left-out key sends nothing. */
  EXPECT(hf_evaluations_only_accessed(ev, &slice) == HF_OK && slice);
  EXPECT_SEEN(keys_are(slice, "[\"exp\"]"));
  EXPECT_SEEN(json_has(hf_evaluations_unresolved_json, slice, "beta", "{}", (char *)NULL));
  EXPECT_SEEN(json_has(hf_evaluations_event_properties_json, slice, "beta",
                       "\"$feature/exp\":\"control-long-variant-name\"", "\"$active_feature_flags\":[\"exp\"]", (char *)NULL));
  before = events_seen();
  EXPECT_SEEN(flag_is(slice, "never-read", 1, "null"));
  EXPECT(events_seen() == before);
  hf_evaluations_free(slice);
  slice = NULL;
  hf_evaluations_free(ev);
  ev = NULL;

  /* A decided user: send_event = 0 records the access without an event; payloads are not reads. */
  before = events_seen();
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"ev-2\",\"person_properties\":{\"plan\":\"pro\"}}", NULL, 0, &pro) == HF_OK);
  EXPECT_SEEN(keys_are(pro, "[\"beta\",\"exp\"]"));
  EXPECT_SEEN(json_has(hf_evaluations_unresolved_json, pro, NULL, "{}", (char *)NULL));
  EXPECT_SEEN(payload_is(pro, "beta", "{\"color\":\"blue\"}"));
  EXPECT_SEEN(payload_is(pro, "exp", "null"));
  EXPECT_SEEN(payload_is(pro, "no-such-flag", "null"));
  EXPECT(hf_evaluations_only_accessed(pro, &slice) == HF_OK);
  EXPECT_SEEN(keys_are(slice, "[]")); /* payload reads recorded no access */
  EXPECT_SEEN(json_has(hf_evaluations_event_properties_json, slice, "$active_feature_flags", "{}", (char *)NULL));
  hf_evaluations_free(slice);
  slice = NULL;
  EXPECT_SEEN(enabled_is(pro, "exp", 0, 0, 1));
  EXPECT(events_seen() == before);
  EXPECT(hf_evaluations_only_accessed(pro, &slice) == HF_OK);
  EXPECT_SEEN(keys_are(slice, "[\"exp\"]"));
  hf_evaluations_free(slice);
  slice = NULL;
  /* The full event properties. */
  EXPECT_SEEN(json_has(hf_evaluations_event_properties_json, pro, NULL, "\"$feature/beta\":true",
                       "\"$feature/exp\":\"control-long-variant-name\"", "\"$active_feature_flags\":[\"beta\",\"exp\"]", (char *)NULL));
  /* only: the listed keys with a value (an unknown one is dropped); a left-out key sends nothing, even
     one the parent would report, and the parent still reports it afterwards (nothing was deduplicated). */
  EXPECT(hf_evaluations_only(pro, "[\"exp\",\"no-such-flag\"]", &slice) == HF_OK && slice);
  EXPECT_SEEN(keys_are(slice, "[\"exp\"]"));
  EXPECT_SEEN(flag_is(slice, "beta", 1, "null"));
  EXPECT_SEEN(enabled_is(slice, "beta", 1, 1, 1));
  EXPECT(events_seen() == before);
  EXPECT_SEEN(flag_is(pro, "beta", 1, "true"));
  EXPECT(events_seen() == before + 1);
  EXPECT(EVENT_HAS("\"distinct_id\":\"ev-2\"") && EVENT_HAS("\"$feature_flag\":\"beta\"") && EVENT_HAS("\"$feature_flag_response\":true"));
  EXPECT(EVENT_HAS("\"$feature_flag_payload\":{\"color\":\"blue\"}"));
  /* A slice reports the keys it holds; it keeps the reads made so far; it outlives its parent. */
  hf_evaluations_free(pro);
  pro = NULL;
  EXPECT_SEEN(flag_is(slice, "exp", 1, "\"control-long-variant-name\""));
  EXPECT(events_seen() == before + 2 && EVENT_HAS("\"$feature_flag\":\"exp\"") && EVENT_HAS("\"distinct_id\":\"ev-2\""));
  EXPECT(hf_evaluations_only_accessed(slice, &ev) == HF_OK);
  EXPECT_SEEN(keys_are(ev, "[\"exp\"]"));
  hf_evaluations_free(ev);
  ev = NULL;
  hf_evaluations_free(slice);
  slice = NULL;

  /* A decided false stays false whatever the default. */
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"ev-3\",\"person_properties\":{\"plan\":\"free\"}}", NULL, 0, &ev) == HF_OK);
  before = events_seen();
  EXPECT_SEEN(enabled_is(ev, "beta", 1, 1, 0));
  EXPECT(events_seen() == before + 1 && EVENT_HAS("\"$feature_flag_response\":false"));
  EXPECT_SEEN(flag_is(ev, "beta", 0, "false"));
  hf_evaluations_free(ev);
  ev = NULL;

  /* A selection: the listed keys only; an unknown one is unresolved (unknown_flag, reported as flag_missing). */
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"ev-4\"}", "[\"exp\",\"no-such-flag\"]", HF_FLAG_ONLY_LOCAL, &sel) == HF_OK);
  EXPECT_SEEN(keys_are(sel, "[\"exp\"]"));
  EXPECT_SEEN(json_has(hf_evaluations_unresolved_json, sel, "beta", "\"no-such-flag\":{", "\"kind\":\"unknown_flag\"",
                       "\"error_code\":\"flag_missing\"", (char *)NULL));
  before = events_seen();
  EXPECT_SEEN(flag_is(sel, "no-such-flag", 1, "null"));
  EXPECT(events_seen() == before + 1 && EVENT_HAS("\"$feature_flag_error\":\"flag_missing\""));
  hf_evaluations_free(sel);
  sel = NULL;

  /* The /flags fallback: the server knows remote-user's plan (t_remote_fallback); still no event. */
  before = events_seen();
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"remote-user\"}", "[\"beta\"]", HF_FLAG_DEFAULT, &ev) == HF_OK);
  EXPECT(events_seen() == before);
  EXPECT_SEEN(keys_are(ev, "[\"beta\"]"));
  EXPECT_SEEN(flag_is(ev, "beta", 0, "true"));
  hf_evaluations_free(ev);
  ev = NULL;

  /* Refused arguments: nothing is created, out-pointers are reset, no read happens. */
  EXPECT(hf_client_evaluate_flags(NULL, "{\"distinct_id\":\"u\"}", NULL, 0, &bad) == HF_ERR_NULL_ARGUMENT && bad == NULL);
  EXPECT(hf_client_evaluate_flags(client, NULL, NULL, 0, &bad) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"u\"}", NULL, 0, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_evaluate_flags(client, "{oops", NULL, 0, &bad) == HF_ERR_INVALID_JSON && bad == NULL);
  EXPECT(hf_client_evaluate_flags(client, "\xff", NULL, 0, &bad) == HF_ERR_INVALID_UTF8);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"u\"}", "\"exp\"", 0, &bad) == HF_ERR_INVALID_JSON);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"u\"}", "[1]", 0, &bad) == HF_ERR_INVALID_JSON);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"u\"}", "[\"\xfe\"]", 0, &bad) == HF_ERR_INVALID_UTF8);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"u\"}", NULL, HF_FLAG_NO_EVENT, &bad) == HF_ERR_INVALID_ARGUMENT);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"u\"}", NULL, 1 << 8, &bad) == HF_ERR_INVALID_ARGUMENT && bad == NULL);
  EXPECT(hf_client_evaluate_flags(client, "{\"distinct_id\":\"ev-5\"}", NULL, HF_FLAG_ONLY_LOCAL, &ev) == HF_OK);
  before = events_seen();
  EXPECT(hf_evaluations_get_flag_json(NULL, "exp", 1, &json) == HF_ERR_NULL_ARGUMENT && json == NULL);
  EXPECT(hf_evaluations_get_flag_json(ev, NULL, 1, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_get_flag_json(ev, "exp", 1, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_get_flag_json(ev, "\xff", 1, &json) == HF_ERR_INVALID_UTF8 && json == NULL);
  EXPECT(hf_evaluations_is_enabled(NULL, "exp", 1, 1, &on) == HF_ERR_NULL_ARGUMENT && on == 1); /* the default */
  EXPECT(hf_evaluations_is_enabled(ev, NULL, 0, 1, &on) == HF_ERR_NULL_ARGUMENT && on == 0);
  EXPECT(hf_evaluations_is_enabled(ev, "exp", 0, 1, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_is_enabled(ev, "\xff", 7, 1, &on) == HF_ERR_INVALID_UTF8 && on == 1);
  EXPECT(events_seen() == before); /* no refused call read a flag */
  EXPECT(hf_evaluations_only_accessed(ev, &slice) == HF_OK);
  EXPECT_SEEN(keys_are(slice, "[]"));
  hf_evaluations_free(slice);
  slice = NULL;
  json = (char *)0x1;
  EXPECT(hf_evaluations_payload_json(NULL, "beta", &json) == HF_ERR_NULL_ARGUMENT && json == NULL);
  EXPECT(hf_evaluations_payload_json(ev, NULL, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_payload_json(ev, "beta", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_payload_json(ev, "\xff", &json) == HF_ERR_INVALID_UTF8);
  EXPECT(hf_evaluations_keys_json(NULL, &json) == HF_ERR_NULL_ARGUMENT && json == NULL);
  EXPECT(hf_evaluations_keys_json(ev, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_unresolved_json(NULL, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_unresolved_json(ev, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_event_properties_json(NULL, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_event_properties_json(ev, NULL) == HF_ERR_NULL_ARGUMENT);
  bad = (hf_evaluations *)0x1;
  EXPECT(hf_evaluations_only_accessed(NULL, &bad) == HF_ERR_NULL_ARGUMENT && bad == NULL);
  EXPECT(hf_evaluations_only_accessed(ev, NULL) == HF_ERR_NULL_ARGUMENT);
  bad = (hf_evaluations *)0x1;
  EXPECT(hf_evaluations_only(NULL, "[\"exp\"]", &bad) == HF_ERR_NULL_ARGUMENT && bad == NULL);
  EXPECT(hf_evaluations_only(ev, NULL, &bad) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_only(ev, "[\"exp\"]", NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_evaluations_only(ev, "{\"exp\":1}", &bad) == HF_ERR_INVALID_JSON && bad == NULL);
  EXPECT(hf_evaluations_only(ev, "[\"\xff\"]", &bad) == HF_ERR_INVALID_UTF8);
  hf_evaluations_free(ev);
  hf_evaluations_free(NULL);
  return 1;
}

static int t_definitions_update(void) {
  hf_context *ctx = NULL;
  hf_engine *old = NULL, *fresh = NULL;
  hf_result r;
  hf_flag f;
  char buf[64];
  int updates;
  EXPECT(hf_client_snapshot(client, &old) == HF_OK);
  updates = peek().updates;
  EXPECT(http("POST", "/_control/definitions", DEFS2) == 200);
  EXPECT(hf_client_reload(client) == HF_OK);
  EXPECT(hf_context_new("user-3", &ctx) == HF_OK);
  EXPECT(hf_client_get_flag(client, "fresh", ctx, HF_FLAG_ONLY_LOCAL, &f, buf, sizeof buf) == HF_OK);
  EXPECT(f.value == HF_VALUE_TRUE && f.source == HF_SOURCE_LOCAL && f.flag_id == 3);
  {
    sink now = peek();
    EXPECT(now.updates > updates);
  }
  /* An engine taken before keeps the old definitions; a new one has the new flag. */
  EXPECT(hf_engine_evaluate_context(old, "fresh", ctx, &r) == HF_OK && r.inconclusive == HF_INCONCLUSIVE_UNKNOWN_FLAG);
  EXPECT(hf_client_snapshot(client, &fresh) == HF_OK);
  EXPECT(hf_engine_evaluate_context(fresh, "fresh", ctx, &r) == HF_OK && r.value == HF_VALUE_TRUE);
  hf_engine_free(old);
  hf_engine_free(fresh);
  hf_context_free(ctx);
  EXPECT(http("POST", "/_control/definitions", DEFS) == 200);
  EXPECT(hf_client_reload(client) == HF_OK);
  return 1;
}

static int t_poll_errors_reach_callback(void) {
  char *status = NULL;
  int errors;
  errors = peek().errors;
  EXPECT(http("POST", "/_control/faults", "[{\"target\":\"definitions\",\"kind\":\"status\",\"status\":500}]") == 200);
  EXPECT(hf_client_reload(client) == HF_ERR_CLIENT);
  EXPECT(strstr(hf_last_error(), "500") != NULL);
  {
    sink now = peek();
    EXPECT(now.errors > errors && !strcmp(now.last_error_code, "server_error"));
  }
  EXPECT(hf_client_status_json(client, &status) == HF_OK && strstr(status, "\"code\":\"server_error\""));
  hf_string_free(status);
  /* The last good definitions are kept. */
  {
    hf_context *ctx = NULL;
    hf_flag f;
    EXPECT(hf_context_new("u", &ctx) == HF_OK);
    EXPECT(hf_client_get_flag(client, "exp", ctx, HF_FLAG_NO_EVENT, &f, NULL, 0) == HF_ERR_BUFFER_TOO_SMALL &&
           f.value == HF_VALUE_VARIANT);
    hf_context_free(ctx);
  }
  EXPECT(hf_client_reload(client) == HF_OK);
  return 1;
}

static int t_wrong_secret(void) {
  hf_client_config *cfg = base_config("phs_wrong_secret");
  hf_client *c = NULL;
  hf_status st;
  EXPECT(cfg && hf_client_config_set_on_error(cfg, on_error, &S) == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  st = hf_client_wait_until_ready(c, 10000);
  EXPECT(st == HF_ERR_CLIENT);
  EXPECT(strstr(hf_last_error(), "401") != NULL && strstr(hf_last_error(), "phs_wrong_secret") == NULL);
  hf_client_free(c);
  {
    sink now = peek();
    EXPECT(!strcmp(now.last_error_code, "unauthorized") && !now.leaked_secret);
  }
  return 1;
}

static int t_wait_timeout(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  hf_client *c = NULL;
  EXPECT(cfg != NULL);
  EXPECT(http("POST", "/_control/faults", "[{\"target\":\"definitions\",\"kind\":\"delay\",\"delay_ms\":1500}]") == 200);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  EXPECT(hf_client_wait_until_ready(c, 100) == HF_ERR_TIMEOUT);
  EXPECT(hf_client_wait_until_ready(c, 10000) == HF_OK);
  hf_client_free(c);
  return 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long fetches_of(hf_client *c) {
  char *status = NULL;
  long n = -1;
  const char *at;
  if (hf_client_status_json(c, &status) != HF_OK) return -1;
  at = strstr(status, "\"fetches\":");
  if (at) n = strtol(at + 10, NULL, 10);
  hf_string_free(status);
  return n;
}

/* A 429 with an absurd Retry-After: reload fails at once with rate_limited (within its bound), a reload
   inside the window makes no request, and polling resumes after max_backoff (1 s), not after an hour. */
static int t_rate_limited_reload_is_bounded(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  hf_client *c = NULL;
  double t;
  long before;
  EXPECT(cfg != NULL);
  EXPECT(hf_client_config_set_definitions_timeout_ms(cfg, 1000) == HF_OK);
  EXPECT(hf_client_config_set_max_backoff_ms(cfg, 1000) == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  EXPECT(hf_client_wait_until_ready(c, 10000) == HF_OK);
  EXPECT(http("POST", "/_control/faults", "[{\"target\":\"definitions\",\"kind\":\"status\",\"status\":429,\"retry_after\":1e20}]") == 200);
  t = now_s();
  EXPECT(hf_client_reload(c) == HF_ERR_CLIENT);
  EXPECT(strstr(hf_last_error(), "429") != NULL);
  EXPECT(now_s() - t < 2.0);
  t = now_s();
  before = fetches_of(c);
  EXPECT(hf_client_reload(c) == HF_ERR_CLIENT && strstr(hf_last_error(), "429") != NULL);
  EXPECT(now_s() - t < 0.5);
  EXPECT(fetches_of(c) == before);
  /* polling every 200 ms resumes once the 1 s bound has passed */
  while (now_s() - t < 3.5 && fetches_of(c) < before + 3) {
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
  EXPECT(fetches_of(c) >= before + 3);
  hf_client_free(c);
  return 1;
}

/* max_retry_after bounds a server's Retry-After on its own: with a long backoff cap (60 s, which would be
   the default bound) and max_retry_after 500 ms, polling resumes within about a second. */
static int t_max_retry_after_setting(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  hf_client *c = NULL;
  double t;
  long before;
  EXPECT(cfg != NULL);
  EXPECT(hf_client_config_set_max_backoff_ms(cfg, 60000) == HF_OK);
  EXPECT(hf_client_config_set_max_retry_after_ms(cfg, 500) == HF_OK);
  EXPECT(hf_client_config_set_max_retry_after_ms(NULL, 500) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  EXPECT(hf_client_wait_until_ready(c, 10000) == HF_OK);
  EXPECT(http("POST", "/_control/faults", "[{\"target\":\"definitions\",\"kind\":\"status\",\"status\":429,\"retry_after\":1e20}]") == 200);
  EXPECT(hf_client_reload(c) == HF_ERR_CLIENT && !strcmp(hf_last_error_code(), "rate_limited"));
  t = now_s();
  before = fetches_of(c);
  while (now_s() - t < 3.0 && fetches_of(c) < before + 3) {
    struct timespec nap = {0, 50 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
  EXPECT(fetches_of(c) >= before + 3);
  hf_client_free(c);
  return 1;
}

/* A reload against a server that never answers ends within definitions_timeout + 1 s. */
static int t_reload_against_a_hanging_server_is_bounded(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  hf_client *c = NULL;
  double t;
  EXPECT(cfg != NULL);
  EXPECT(hf_client_config_set_definitions_timeout_ms(cfg, 500) == HF_OK);
  EXPECT(hf_client_config_set_poll_interval_ms(cfg, 60000) == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  EXPECT(hf_client_wait_until_ready(c, 10000) == HF_OK);
  EXPECT(http("POST", "/_control/faults", "[{\"target\":\"definitions\",\"kind\":\"hang\",\"hang_ms\":20000}]") == 200);
  t = now_s();
  EXPECT(hf_client_reload(c) == HF_ERR_CLIENT);
  EXPECT(now_s() - t < 1.5 + 0.5);
  hf_client_free(c);
  return 1;
}

/* Only the project API key: nothing is polled, every flag comes from /flags, wait_until_ready says at once
   that nothing will load. (The server serves DEFS here, as t_definitions_update leaves it.) */
static int t_project_key_only(void) {
  hf_client_config *cfg = base_config(NULL);
  hf_client *c = NULL;
  hf_context *ctx = NULL;
  hf_flag f;
  char variant[64];
  EXPECT(cfg != NULL);
  EXPECT(hf_client_new(cfg, &c) == HF_OK && c != NULL);
  hf_client_config_free(cfg);
  EXPECT(hf_client_wait_until_ready(c, 5000) == HF_ERR_TIMEOUT);
  EXPECT(hf_client_reload(c) == HF_ERR_CLIENT && strstr(hf_last_error(), "no secret key") != NULL);
  EXPECT(hf_context_new("u", &ctx) == HF_OK);
  EXPECT(hf_client_get_flag(c, "exp", ctx, HF_FLAG_NO_EVENT, &f, variant, sizeof variant) == HF_OK);
  EXPECT(f.value == HF_VALUE_VARIANT && f.source == HF_SOURCE_REMOTE && !strcmp(variant, "control-long-variant-name"));
  hf_context_free(ctx);
  hf_client_free(c);
  return 1;
}

/* Remote-config payloads and the context settings: the decrypted payload as JSON, null without one, an
   error without a secret key; evaluation contexts and geoip_disable reach /flags. */
static int t_remote_config_and_settings(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  hf_client *c = NULL;
  hf_context *ctx = NULL;
  hf_flag f;
  char *json = NULL;
  EXPECT(cfg != NULL);
  EXPECT(hf_client_config_set_evaluation_contexts_json(cfg, "[\"web\"]") == HF_OK);
  EXPECT(hf_client_config_set_evaluation_contexts_json(cfg, "\"web\"") == HF_ERR_INVALID_JSON);
  EXPECT(hf_client_config_set_disable_geoip(cfg, 0) == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  EXPECT(hf_client_wait_until_ready(c, 10000) == HF_OK);
  EXPECT(hf_client_remote_config_payload_json(c, "beta", &json) == HF_OK && !strcmp(json, "{\"color\":\"blue\"}"));
  hf_string_free(json);
  json = NULL;
  EXPECT(hf_client_remote_config_payload_json(c, "no-such-flag", &json) == HF_OK && !strcmp(json, "null"));
  hf_string_free(json);
  EXPECT(hf_context_new("u", &ctx) == HF_OK);
  (void)hf_client_get_flag(c, "no-such-flag", ctx, HF_FLAG_NO_EVENT, &f, NULL, 0);
  hf_context_free(ctx);
  {
    char *stats = http_get_body("/_control/stats");
    EXPECT(stats != NULL);
    EXPECT(strstr(stats, "\"geoip_disable\":false") != NULL);
    EXPECT(strstr(stats, "\"evaluation_contexts\":[\"web\"]") != NULL);
    free(stats);
  }
  hf_client_free(c);
  return 1;
}

static int t_manual_driver(void) {
  hf_client_config *cfg = base_config(SECRET_KEY);
  hf_client *c = NULL;
  hf_context *ctx = NULL;
  hf_flag f;
  uint64_t next = 0;
  EXPECT(cfg && hf_client_config_set_manual_driver(cfg, 1) == HF_OK);
  EXPECT(hf_client_config_set_poll_interval_ms(cfg, 60000) == HF_OK);
  EXPECT(hf_client_new(cfg, &c) == HF_OK);
  hf_client_config_free(cfg);
  EXPECT(hf_context_new("m", &ctx) == HF_OK);
  EXPECT(hf_client_get_flag(c, "exp", ctx, HF_FLAG_ONLY_LOCAL, &f, NULL, 0) == HF_OK);
  EXPECT(f.inconclusive == HF_INCONCLUSIVE_UNKNOWN_FLAG); /* nothing fetched yet: no thread polls */
  EXPECT(hf_client_tick(c, &next) == HF_OK && next > 1000);
  EXPECT(hf_client_get_flag(c, "exp", ctx, HF_FLAG_ONLY_LOCAL, &f, NULL, 0) == HF_ERR_BUFFER_TOO_SMALL && f.value == HF_VALUE_VARIANT);
  EXPECT(hf_client_tick(c, NULL) == HF_OK); /* not due: nothing fetched */
  EXPECT(hf_client_tick(client, &next) == HF_ERR_CLIENT); /* background client */
  EXPECT(strstr(hf_last_error(), "Manual") != NULL);
  hf_context_free(ctx);
  hf_client_free(c);
  return 1;
}

static int t_log_callback(void) {
  int before;
  EXPECT(hf_set_log_callback(on_log, &S, 9) == HF_ERR_INVALID_ARGUMENT);
  EXPECT(hf_set_log_callback(on_log, &S, 4) == HF_OK);
  before = peek().logs;
  EXPECT(http("POST", "/_control/definitions", DEFS2) == 200);
  EXPECT(hf_client_reload(client) == HF_OK);
  EXPECT(http("POST", "/_control/definitions", DEFS) == 200);
  EXPECT(hf_client_reload(client) == HF_OK);
  {
    sink now = peek();
    EXPECT(now.logs > before && !now.leaked_secret);
  }
  EXPECT(hf_set_log_callback(NULL, NULL, 0) == HF_OK);
  before = peek().logs;
  EXPECT(hf_client_reload(client) == HF_OK);
  {
    sink now = peek();
    EXPECT(now.logs == before);
  }
  return 1;
}

#define THREADS 6
static void *worker(void *arg) {
  int *bad = (int *)arg, i;
  hf_context *ctx = NULL;
  char id[32];
  for (i = 0; i < 300; i++) {
    hf_property plan = hf_prop_string("plan", (i % 2) ? "pro" : "free");
    hf_flag f;
    snprintf(id, sizeof id, "t-%d", i);
    if (hf_context_new(id, &ctx) != HF_OK || hf_context_set_person_property(ctx, &plan) != HF_OK) { (*bad)++; continue; }
    if (hf_client_get_flag(client, "beta", ctx, HF_FLAG_DEFAULT, &f, NULL, 0) != HF_OK ||
        f.value != ((i % 2) ? HF_VALUE_TRUE : HF_VALUE_FALSE) || f.source != HF_SOURCE_LOCAL)
      (*bad)++;
    hf_context_free(ctx);
  }
  return NULL;
}

static int t_threads_share_one_client(void) {
  pthread_t t[THREADS];
  int bad[THREADS] = {0}, i, total = 0, before = events_seen();
  for (i = 0; i < THREADS; i++) EXPECT(pthread_create(&t[i], NULL, worker, &bad[i]) == 0);
  for (i = 0; i < THREADS; i++) { pthread_join(t[i], NULL); total += bad[i]; }
  if (total) return fail("%d wrong answers across %d threads", total, THREADS);
  /* 300 users x 1 flag, each (user, value) reported once however many threads asked. */
  EXPECT(events_seen() == before + 300);
  return 1;
}

static int t_null_arguments(void) {
  hf_context *ctx = NULL;
  hf_flag f;
  char *json = (char *)0x1;
  hf_engine *e = (hf_engine *)0x1;
  EXPECT(hf_context_new("n", &ctx) == HF_OK);
  EXPECT(hf_client_get_flag(NULL, "beta", ctx, 0, &f, NULL, 0) == HF_ERR_NULL_ARGUMENT && f.value == HF_VALUE_FALSE);
  EXPECT(hf_client_get_flag(client, NULL, ctx, 0, &f, NULL, 0) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_get_flag(client, "beta", NULL, 0, &f, NULL, 0) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_get_flag(client, "beta", ctx, 0, NULL, NULL, 0) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_get_flag(client, "\xff", ctx, 0, &f, NULL, 0) == HF_ERR_INVALID_UTF8);
  EXPECT(hf_client_get_flag(client, "beta", ctx, 1 << 8, &f, NULL, 0) == HF_ERR_INVALID_ARGUMENT);
  EXPECT(hf_client_get_flag_json(client, "beta", NULL, 0, &json) == HF_ERR_NULL_ARGUMENT && json == NULL);
  EXPECT(hf_client_get_flag_json(client, "beta", "{\"distinct_id\":\"u\"}", 0, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_get_flag_json(NULL, "beta", "{\"distinct_id\":\"u\"}", 0, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_get_flag_json(client, "beta", "[", 0, &json) == HF_ERR_INVALID_JSON);
  EXPECT(hf_client_get_all_flags_json(NULL, "{}", 0, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_status_json(NULL, &json) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_status_json(client, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_snapshot(NULL, &e) == HF_ERR_NULL_ARGUMENT && e == NULL);
  EXPECT(hf_client_snapshot(client, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_wait_until_ready(NULL, 1) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_reload(NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_tick(NULL, NULL) == HF_ERR_NULL_ARGUMENT);
  EXPECT(hf_client_shutdown(NULL) == HF_ERR_NULL_ARGUMENT);
  hf_context_free(ctx);
  return 1;
}

static int t_shutdown(void) {
  hf_context *ctx = NULL;
  hf_property pro = hf_prop_string("plan", "pro");
  hf_flag f;
  EXPECT(hf_client_shutdown(client) == HF_OK);
  EXPECT(hf_client_shutdown(client) == HF_OK); /* idempotent */
  EXPECT(hf_context_new("after", &ctx) == HF_OK && hf_context_set_person_property(ctx, &pro) == HF_OK);
  EXPECT(hf_client_get_flag(client, "beta", ctx, HF_FLAG_NO_EVENT, &f, NULL, 0) == HF_OK && f.value == HF_VALUE_TRUE);
  EXPECT(hf_client_reload(client) == HF_ERR_CLIENT);
  EXPECT(hf_client_wait_until_ready(client, 10) == HF_OK); /* it was ready; evaluation still works */
  hf_context_free(ctx);
  hf_client_free(client);
  client = NULL;
  return 1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || !start_server(argv[1])) {
    printf("cannot start the test server (%s)\n0 passed, 1 failed\n", argc > 1 ? argv[1] : "no path given");
    return 1;
  }
  if (http("POST", "/_control/definitions", DEFS) != 200) {
    printf("cannot set the definitions\n0 passed, 1 failed\n");
    stop_server();
    return 1;
  }
  RUN(t_config_errors);
  RUN(t_client_becomes_ready);
  if (client) {
    RUN(t_local_flag_and_event);
    RUN(t_variant_buffer);
    RUN(t_remote_fallback);
    RUN(t_all_flags_json);
    RUN(t_evaluations);
    RUN(t_definitions_update);
    RUN(t_poll_errors_reach_callback);
    RUN(t_wrong_secret);
    RUN(t_wait_timeout);
    RUN(t_manual_driver);
    RUN(t_project_key_only);
    RUN(t_remote_config_and_settings);
    RUN(t_rate_limited_reload_is_bounded);
    RUN(t_max_retry_after_setting);
    RUN(t_reload_against_a_hanging_server_is_bounded);
    RUN(t_log_callback);
    RUN(t_threads_share_one_client);
    RUN(t_null_arguments);
    RUN(t_shutdown);
  }
  hf_set_log_callback(NULL, NULL, 0);
  if (argc > 2) run_client_corpus(argv[2]);
  else record("client corpus", fail("no corpus path given"));
  stop_server();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
