/* The C row of the cross-language benchmark (scripts/bench.sh): runs the shared workloads through the C ABI
 * and prints one JSON line per row, with the schema of the other languages (impl, workload, calls, median_ns,
 * p99_ns, throughput_per_s, peak_rss_mb, versions).
 *
 * C has no JSON parser here, so the users come as JSON lines (one user object per line), which bench.sh
 * writes from w1_users.json and w2_users.json; each line is exactly the context JSON the C API takes.
 *   - hogflags-c         w1_one_flag   hf_engine_evaluate_json per call: the caller's JSON in, the outcome
 *                                      JSON out (context parsing and serialization included), string freed;
 *   - hogflags-c-context w1_one_flag   hf_engine_evaluate_context on contexts prebuilt untimed
 *                                      (hf_context_from_json), the nearest C figure to the Rust core row;
 *   - hogflags-c         w2_all_flags  hf_engine_evaluate_all_json per user, string freed.
 * Timing follows tools/src/bin/bench_harness.rs: batches of calls (100 for w1, 10 for w2), per-call time =
 * batch time / batch size, median and p99 over batches, throughput = calls / total timed time. For w1 each
 * batch first runs once untimed, as the Rust w1 row does, so the inputs are in cache.
 *
 * Usage: bench_workloads WORKLOADS_DIR [--quick]   (expects w1_users.jsonl and w2_users.jsonl there; --quick
 * changes nothing, see main) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hogflags.h"

#define FLAG "bench-flag"

/* The compiler this row was built with (gcc's __VERSION__ is a bare number, clang's names itself). */
#if defined(__GNUC__) && !defined(__clang__)
#define CC_VERSION "gcc " __VERSION__
#elif defined(__VERSION__)
#define CC_VERSION __VERSION__
#else
#define CC_VERSION "unknown"
#endif

typedef struct {
  char **items;
  size_t len;
} lines_t;

typedef struct {
  double median_ns, p99_ns, throughput;
} stats_t;

static hf_engine *engine;
static lines_t users;
static hf_context **contexts;
static volatile double sink; /* keeps each result alive, so the compiler cannot drop a call */

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_workloads: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void check(hf_status st, const char *what) {
  if (st != HF_OK) die(what, hf_last_error());
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The process's peak resident set (VmHWM) in MB, as the other languages report it; 0 if unreadable. */
static double peak_rss_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kb = 0;
  if (!f) return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %lf", &kb) == 1) break;
  fclose(f);
  return kb / 1024.0;
}

/* The whole file as a string (the definitions document); *len gets its size. */
static char *read_file(const char *dir, const char *name, size_t *len) {
  char path[4096];
  FILE *f;
  char *buf;
  long size;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!(f = fopen(path, "rb"))) die("cannot open", path);
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) die("cannot read", path);
  buf[size] = '\0';
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* At most `max` non-empty lines of DIR/NAME (trailing newline removed), each its own string. */
static lines_t read_lines(const char *dir, const char *name, size_t max) {
  char path[4096], *line = NULL;
  size_t cap = 0, alloc = 1024;
  ssize_t n;
  lines_t out = {malloc(alloc * sizeof(char *)), 0};
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!(f = fopen(path, "r"))) die("cannot open", path);
  while (out.len < max && (n = getline(&line, &cap, f)) > 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n == 0) continue;
    if (out.len == alloc) out.items = realloc(out.items, (alloc *= 2) * sizeof(char *));
    out.items[out.len++] = strdup(line);
  }
  free(line);
  fclose(f);
  if (out.len == 0) die("no users in", path);
  return out;
}

static void free_lines(lines_t *l) {
  size_t i;
  for (i = 0; i < l->len; i++) free(l->items[i]);
  free(l->items);
  l->items = NULL;
  l->len = 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times op(i) for i in 0..n in batches of `batch` (after up to 2 000 warm-up calls); with `warm`, each
 * batch runs once untimed first. Same method as the Rust harness, so the rows compare. */
static stats_t measure(size_t n, size_t batch, int warm, void (*op)(size_t)) {
  size_t i, j, end, nb = 0;
  double *per_call = malloc(sizeof(double) * (n / batch + 1)), timed = 0, t, elapsed;
  stats_t s;
  for (i = 0; i < n && i < 2000; i++) op(i);
  for (i = 0; i < n; i = end) {
    end = i + batch < n ? i + batch : n;
    if (warm)
      for (j = i; j < end; j++) op(j);
    t = now_ns();
    for (j = i; j < end; j++) op(j);
    elapsed = now_ns() - t;
    timed += elapsed;
    per_call[nb++] = elapsed / (double)(end - i);
  }
  qsort(per_call, nb, sizeof(double), cmp_double);
  s.median_ns = per_call[(size_t)((double)(nb - 1) * 0.5 + 0.5)];
  s.p99_ns = per_call[(size_t)((double)(nb - 1) * 0.99 + 0.5)];
  s.throughput = (double)n / (timed / 1e9);
  free(per_call);
  return s;
}

/* One JSON line in the shared schema; `extra` is more `"key": value` pairs (already JSON), or "". */
static void emit(const char *impl, const char *workload, size_t calls, stats_t s, const char *extra) {
  printf("{\"impl\": \"%s\", \"workload\": \"%s\", \"calls\": %zu, \"median_ns\": %.1f, \"p99_ns\": %.1f,"
         " \"throughput_per_s\": %.1f, \"peak_rss_mb\": %.1f, \"versions\": {\"hogflags\": \"%s\","
         " \"cc\": \"%s\"}%s%s}\n",
         impl, workload, calls, s.median_ns, s.p99_ns, s.throughput, peak_rss_mb(), hf_version(),
CC_VERSION,
         *extra ? ", " : "", extra);
  fflush(stdout);
}

static void op_json(size_t i) {
  char *out = NULL;
  check(hf_engine_evaluate_json(engine, FLAG, users.items[i], &out), "hf_engine_evaluate_json");
  sink = (double)out[0];
  hf_string_free(out);
}

static void op_context(size_t i) {
  hf_result r;
  check(hf_engine_evaluate_context(engine, FLAG, contexts[i], &r), "hf_engine_evaluate_context");
  sink = (double)r.value;
}

static void op_all_json(size_t i) {
  char *out = NULL;
  check(hf_engine_evaluate_all_json(engine, users.items[i], &out), "hf_engine_evaluate_all_json");
  sink = (double)out[0];
  hf_string_free(out);
}

static void load_engine(const char *dir, const char *name) {
  size_t len;
  char *doc = read_file(dir, name, &len);
  check(hf_engine_new(doc, len, &engine), name);
  free(doc);
}

/* Untimed check that both w1 entry points decide every user the same way, and that the flag is decided
 * (an inconclusive workload would time the wrong path). Returns how many users get the flag enabled. */
static size_t check_w1(void) {
  size_t i, enabled = 0;
  for (i = 0; i < users.len; i++) {
    char *out = NULL;
    hf_result r;
    int json_true;
    check(hf_engine_evaluate_json(engine, FLAG, users.items[i], &out), "hf_engine_evaluate_json");
    check(hf_engine_evaluate_context(engine, FLAG, contexts[i], &r), "hf_engine_evaluate_context");
    json_true = strstr(out, "\"value\":true") != NULL;
    if (r.value == HF_VALUE_INCONCLUSIVE) die("w1 is inconclusive for", users.items[i]);
    if (json_true != (r.value == HF_VALUE_TRUE))
      die("JSON and context entry points disagree on", users.items[i]);
    enabled += (size_t)json_true;
    hf_string_free(out);
  }
  return enabled;
}

/* w1: one flag per call, through the JSON entry point and through prebuilt contexts. */
static void w1(const char *dir, size_t max_users) {
  size_t i, enabled;
  char extra[256];
  load_engine(dir, "w1_definitions.json");
  users = read_lines(dir, "w1_users.jsonl", max_users);
  contexts = malloc(users.len * sizeof(hf_context *));
  for (i = 0; i < users.len; i++)
    check(hf_context_from_json(users.items[i], &contexts[i]), "hf_context_from_json");
  enabled = check_w1();

  snprintf(extra, sizeof extra, "\"entry\": \"json\", \"enabled\": %zu, \"contexts\": \"in cache"
           " (each batch of 100 runs once untimed first)\"", enabled);
  emit("hogflags-c", "w1_one_flag", users.len, measure(users.len, 100, 1, op_json), extra);
  snprintf(extra, sizeof extra, "\"entry\": \"context\", \"enabled\": %zu, \"contexts\": \"prebuilt untimed"
           " (hf_context_from_json), in cache (each batch of 100 runs once untimed first)\"", enabled);
  emit("hogflags-c-context", "w1_one_flag", users.len, measure(users.len, 100, 1, op_context), extra);

  for (i = 0; i < users.len; i++) hf_context_free(contexts[i]);
  free(contexts);
  free_lines(&users);
  hf_engine_free(engine);
}

/* w2: every flag of the 100-flag document per user, as a JSON array. */
static void w2(const char *dir, size_t max_users) {
  load_engine(dir, "w2_definitions.json");
  users = read_lines(dir, "w2_users.jsonl", max_users);
  emit("hogflags-c", "w2_all_flags", users.len, measure(users.len, 10, 0, op_all_json),
       "\"entry\": \"json\"");
  free_lines(&users);
  hf_engine_free(engine);
}

int main(int argc, char **argv) {
  const char *dir = "target/bench/workloads";
  int i, quick = 0;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) quick = 1;
    else if (argv[i][0] == '-') die("unknown option", argv[i]);
    else dir = argv[i];
  }
  /* Every user even with --quick: the whole C run takes a few seconds, and the rows then cover the same
   * users as the Rust rows they are divided by. --quick is accepted so bench.sh can pass it to everyone. */
  (void)quick;
  w1(dir, (size_t)-1);
  w2(dir, (size_t)-1);
  return 0;
}
