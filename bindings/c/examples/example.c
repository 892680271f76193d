/* hogflags from C: load definitions, evaluate flags three ways, handle errors.
 * Build: make -C bindings/c example   (or, with hogflags installed: cc example.c $(pkg-config --cflags --libs hogflags))
 * Run:   ./example examples/flags.json */
#include <stdio.h>
#include <stdlib.h>

#include <hogflags.h>

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) *len = (size_t)n;
  }
  fclose(f);
  return buf;
}

static void print_result(const char *flag, const hf_result *r) {
  switch (r->value) {
    case HF_VALUE_FALSE: printf("%-16s false   (%s)\n", flag, hf_reason_name(r->reason)); break;
    case HF_VALUE_TRUE: printf("%-16s true    (%s, condition %d)\n", flag, hf_reason_name(r->reason), r->condition_index); break;
    case HF_VALUE_VARIANT:
      printf("%-16s \"%.*s\" (%s, condition %d)\n", flag, (int)r->variant_len, r->variant, hf_reason_name(r->reason),
             r->condition_index);
      break;
    case HF_VALUE_INCONCLUSIVE:
      printf("%-16s inconclusive: %s %.*s (ask PostHog /flags)\n", flag, hf_inconclusive_name(r->inconclusive),
             (int)r->detail_len, r->detail ? r->detail : "");
      break;
  }
}

int main(int argc, char **argv) {
  size_t len = 0;
  char *doc = read_file(argc > 1 ? argv[1] : "examples/flags.json", &len);
  hf_engine *engine = NULL;
  hf_context *ctx = NULL;
  hf_result r;
  char *json = NULL;
  int rc = 1;

  if (!doc) { fprintf(stderr, "cannot read the definitions file\n"); return 1; }
  printf("hogflags %s\n", hf_version());

  /* 1. Load the definitions (the body of GET /flags/definitions). */
  if (hf_engine_new(doc, len, &engine) != HF_OK) {
    fprintf(stderr, "load failed: %s\n", hf_last_error());
    goto done;
  }

  /* 2. The typed fast path: flag key + distinct id + person properties, no JSON. */
  {
    hf_property props[] = {
        hf_prop_string("email", "ada@example.com"),
        hf_prop_string("plan", "pro"),
        hf_prop_string("$os", "iOS"),
        hf_prop_string("$app_version", "2.5.1"),
        hf_prop_int("logins", 42),
    };
    const char *flags[] = {"new-onboarding", "checkout-layout", "ios-beta", "legacy-export", "no-such-flag"};
    size_t i;
    for (i = 0; i < sizeof flags / sizeof flags[0]; i++) {
      if (hf_engine_evaluate(engine, flags[i], "user-42", props, sizeof props / sizeof props[0], &r) != HF_OK) {
        fprintf(stderr, "%s: %s\n", flags[i], hf_last_error());
        goto done;
      }
      print_result(flags[i], &r);
    }
  }

  /* 3. A reusable typed context with a group. */
  if (hf_context_new("user-42", &ctx) != HF_OK) goto done;
  {
    hf_property seats = hf_prop_int("seats", 25);
    hf_property plan = hf_prop_string("plan", "enterprise");
    if (hf_context_set_person_property(ctx, &plan) != HF_OK || hf_context_set_group(ctx, "company", "acme") != HF_OK ||
        hf_context_set_group_property(ctx, "company", &seats) != HF_OK) {
      fprintf(stderr, "context: %s\n", hf_last_error());
      goto done;
    }
  }
  if (hf_engine_evaluate_context(engine, "team-dashboards", ctx, &r) != HF_OK) goto done;
  print_result("team-dashboards", &r);

  /* 4. The JSON entry point: context in, outcome (with payload) out. Free the string with hf_string_free. */
  if (hf_engine_evaluate_json(engine, "checkout-layout",
                              "{\"distinct_id\":\"user-7\",\"person_properties\":{\"plan\":\"pro\"}}", &json) != HF_OK) {
    fprintf(stderr, "json: %s\n", hf_last_error());
    goto done;
  }
  printf("json: %s\n", json);
  hf_string_free(json);

  /* 5. Errors are statuses, never crashes. */
  {
    hf_status st = hf_engine_evaluate_json(engine, "checkout-layout", "{not json", &json);
    printf("bad context -> %s: %s\n", hf_status_name(st), hf_last_error());
  }
  rc = 0;

done:
  hf_context_free(ctx);
  hf_engine_free(engine);
  free(doc);
  return rc;
}
