// The C header used from C++: it must compile warning-free as C++11 and link (extern "C").
#include <hogflags.h>

#include <cstdio>
#include <cstring>
#include <string>

int main() {
  const std::string doc =
      R"({"flags":[{"key":"beta","active":true,"filters":{"groups":[{"properties":[{"key":"plan","value":"pro","type":"person"}],"rollout_percentage":100}]}}]})";
  hf_engine *engine = nullptr;
  if (hf_engine_new(doc.data(), doc.size(), &engine) != HF_OK) return 1;
  hf_property props[] = {hf_prop_string("plan", "pro"), hf_prop_int("n", 1), hf_prop_float("f", 1.5),
                         hf_prop_bool("b", 1), hf_prop_null("z"), hf_prop_json("j", "[1]")};
  hf_result r;
  int ok = hf_engine_evaluate(engine, "beta", "u", props, 6, &r) == HF_OK && r.value == HF_VALUE_TRUE &&
           std::strcmp(hf_reason_name(r.reason), "condition_match") == 0;
  hf_engine_free(engine);
  std::printf("C++: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
