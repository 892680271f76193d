/* Benchmark of the C API, each figure beside its floor, all measured in the same run:
 *   - floor: one SHA-1 bucketing hash through the C ABI (hf_hash), the least one flag evaluation must do;
 *   - the typed fast path (hf_engine_evaluate, 5 person properties);
 *   - the same with 50 properties of which 45 no flag reads (they are checked, not converted);
 *   - a prebuilt typed context (hf_engine_evaluate_context);
 *   - the JSON entry point (hf_engine_evaluate_json, context parsed and outcome serialized, string freed).
 * The workload is the core's `one_flag` bench: one flag, 3 person filters, 50 % rollout.
 * Method: each figure is the median over RUNS runs of the time per call of a run of N calls, with N
 * calibrated so that one run takes about 20 ms. Usage: bench [runs] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hogflags.h"

static const char *DOC =
    "{\"flags\":[{\"id\":1,\"key\":\"bench-flag\",\"active\":true,\"filters\":{\"groups\":[{\"properties\":["
    "{\"key\":\"plan\",\"value\":[\"pro\",\"enterprise\"],\"operator\":\"exact\",\"type\":\"person\"},"
    "{\"key\":\"email\",\"value\":\"@example.com\",\"operator\":\"icontains\",\"type\":\"person\"},"
    "{\"key\":\"age\",\"value\":18,\"operator\":\"gte\",\"type\":\"person\"}],"
    "\"rollout_percentage\":50}]}}]}";

static const char *CONTEXT_JSON =
    "{\"distinct_id\":\"user-12345\",\"person_properties\":{\"plan\":\"pro\",\"email\":\"user-12345@example.com\","
    "\"age\":30,\"country\":\"DE\",\"$browser\":\"Firefox\"}}";

static hf_engine *engine;
static hf_context *context;
static hf_property props5[5];
static hf_property props50[50];
static char keys50[45][16];
static volatile double sink;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int check(hf_status st) {
  if (st != HF_OK) {
    fprintf(stderr, "bench: call failed: %s\n", hf_last_error());
    exit(1);
  }
  return 0;
}

static void op_hash(void) {
  double h;
  check(hf_hash("bench-flag.", "user-12345", "", &h));
  sink = h;
}
static void op_fast(void) {
  hf_result r;
  check(hf_engine_evaluate(engine, "bench-flag", "user-12345", props5, 5, &r));
  sink = r.value;
}
static void op_fast50(void) {
  hf_result r;
  check(hf_engine_evaluate(engine, "bench-flag", "user-12345", props50, 50, &r));
  sink = r.value;
}
static void op_context(void) {
  hf_result r;
  check(hf_engine_evaluate_context(engine, "bench-flag", context, &r));
  sink = r.value;
}
static void op_json(void) {
  char *out = NULL;
  check(hf_engine_evaluate_json(engine, "bench-flag", CONTEXT_JSON, &out));
  sink = (double)out[0];
  hf_string_free(out);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median nanoseconds per call over `runs` runs. */
static double measure(void (*op)(void), int runs) {
  long n = 1, i;
  int r;
  double *t = malloc(sizeof(double) * (size_t)runs), med;
  for (;;) { /* calibrate: one run of n calls takes >= 20 ms */
    double s = now_ns();
    for (i = 0; i < n; i++) op();
    if (now_ns() - s >= 20e6) break;
    n *= 2;
  }
  for (r = 0; r < runs; r++) {
    double s = now_ns();
    for (i = 0; i < n; i++) op();
    t[r] = (now_ns() - s) / (double)n;
  }
  qsort(t, (size_t)runs, sizeof(double), cmp);
  med = t[runs / 2];
  free(t);
  return med;
}

int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 15, i;
  double floor_ns, fast, fast50, ctx, json;
  hf_result r;

  check(hf_engine_new(DOC, strlen(DOC), &engine));
  props5[0] = hf_prop_string("plan", "pro");
  props5[1] = hf_prop_string("email", "user-12345@example.com");
  props5[2] = hf_prop_int("age", 30);
  props5[3] = hf_prop_string("country", "DE");
  props5[4] = hf_prop_string("$browser", "Firefox");
  memcpy(props50, props5, sizeof props5);
  for (i = 0; i < 45; i++) {
    snprintf(keys50[i], sizeof keys50[i], "unread_%d", i);
    props50[5 + i] = (i % 2) ? hf_prop_int(keys50[i], i) : hf_prop_string(keys50[i], "some value");
  }
  check(hf_context_new("user-12345", &context));
  for (i = 0; i < 5; i++) check(hf_context_set_person_property(context, &props5[i]));
  /* The workload must be decided, or it would measure the wrong path. */
  check(hf_engine_evaluate(engine, "bench-flag", "user-12345", props5, 5, &r));
  if (r.value == HF_VALUE_INCONCLUSIVE) { fprintf(stderr, "bench: workload is inconclusive\n"); return 1; }

  floor_ns = measure(op_hash, runs);
  fast = measure(op_fast, runs);
  fast50 = measure(op_fast50, runs);
  ctx = measure(op_context, runs);
  json = measure(op_json, runs);

  printf("hogflags %s C API, one flag (3 filters, 50%% rollout), median of %d runs\n", hf_version(), runs);
  printf("%-44s %9s %12s\n", "call", "ns/call", "x SHA-1");
  printf("%-44s %9.1f %12.2f\n", "hf_hash (SHA-1 floor)", floor_ns, 1.0);
  printf("%-44s %9.1f %12.2f\n", "hf_engine_evaluate (5 properties)", fast, fast / floor_ns);
  printf("%-44s %9.1f %12.2f\n", "hf_engine_evaluate (50 properties, 45 unread)", fast50, fast50 / floor_ns);
  printf("%-44s %9.1f %12.2f\n", "hf_engine_evaluate_context (prebuilt)", ctx, ctx / floor_ns);
  printf("%-44s %9.1f %12.2f\n", "hf_engine_evaluate_json", json, json / floor_ns);
  printf("JSON path / typed fast path: %.2fx\n", json / fast);

  hf_context_free(context);
  hf_engine_free(engine);
  return 0;
}
