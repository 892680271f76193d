"""The benchmark workloads of core/benches/workload.rs, ported exactly (same generator, same documents).

Every language measures the same definitions: one 3-filter flag at 50 % rollout, and a 100-flag mixed
document (operators, multivariate, payloads, cohorts, dependencies) generated from a seed.
"""

from typing import Any, Dict, List, Tuple

_MASK = (1 << 64) - 1


class Rng:
    """SplitMix64, as in workload.rs."""

    def __init__(self, seed: int) -> None:
        self.state = seed & _MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n


def single_flag_document() -> Dict[str, Any]:
    """Workload 1: one flag, one condition with 3 person-property filters and a 50 % rollout."""
    return {
        "flags": [
            {
                "id": 1,
                "key": "bench-flag",
                "active": True,
                "filters": {
                    "groups": [
                        {
                            "properties": [
                                {"key": "plan", "value": ["pro", "enterprise"], "operator": "exact", "type": "person"},
                                {"key": "email", "value": "@example.com", "operator": "icontains", "type": "person"},
                                {"key": "age", "value": 18, "operator": "gte", "type": "person"},
                            ],
                            "rollout_percentage": 50,
                        }
                    ]
                },
            }
        ]
    }


def mixed_document(n: int, seed: int) -> Dict[str, Any]:
    """A realistic mixed document of ``n`` flags (same draws, in the same order, as workload.rs)."""
    rng = Rng(seed)
    flags = []
    for i in range(n):
        conditions = []
        for _ in range(1 + rng.below(3)):
            props = []
            for _ in range(rng.below(4)):
                key = f"prop_{rng.below(20)}"
                kind = rng.below(20)
                if kind <= 5:
                    f = {"key": key, "value": f"value-{rng.below(10)}", "operator": "exact", "type": "person"}
                elif kind <= 7:
                    a = f"v{rng.below(5)}"
                    b = f"v{rng.below(5)}"
                    f = {"key": key, "value": [a, b], "operator": "exact", "type": "person"}
                elif kind <= 9:
                    f = {"key": key, "value": f"{rng.below(100)}", "operator": "gt", "type": "person"}
                elif kind <= 11:
                    f = {"key": "email", "value": "@example.com", "operator": "icontains", "type": "person"}
                elif kind == 12:
                    f = {"key": key, "value": f"^user-{rng.below(20)}\\d+$", "operator": "regex", "type": "person"}
                elif kind == 13:
                    f = {"key": "$app_version", "value": f"1.{rng.below(10)}.0", "operator": "semver_gte", "type": "person"}
                elif kind == 14:
                    f = {"key": "signed_up", "value": "-30d", "operator": "is_date_after", "type": "person"}
                elif kind == 15:
                    f = {"key": key, "value": None, "operator": "is_set", "type": "person"}
                elif kind == 16:
                    f = {"key": "id", "value": rng.below(5), "type": "cohort"}
                elif kind == 17 and i > 0:
                    dep = f"flag-{rng.below(i)}"
                    f = {"key": dep, "value": True, "operator": "flag_evaluates_to", "type": "flag", "dependency_chain": [dep]}
                else:
                    f = {"key": key, "value": "x", "operator": "not_icontains", "type": "person"}
                props.append(f)
            rollout = [100, 50, 20, 0][rng.below(4)]
            conditions.append({"properties": props, "rollout_percentage": rollout})
        filters: Dict[str, Any] = {"groups": conditions}
        if rng.below(4) == 0:
            filters["multivariate"] = {
                "variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
            }
            filters["payloads"] = {"test": '{"color": "blue", "size": 3}'}
        elif rng.below(3) == 0:
            filters["payloads"] = {"true": '{"enabled": true}'}
        flags.append({"id": i, "key": f"flag-{i}", "active": rng.below(10) != 0, "version": 1, "filters": filters})
    cohorts = {
        str(c): {
            "type": "OR",
            "values": [
                {
                    "type": "AND",
                    "values": [
                        {"key": f"prop_{c}", "value": "value-1", "operator": "exact", "type": "person"},
                        {"key": "email", "value": "spam", "operator": "icontains", "type": "person", "negation": True},
                    ],
                }
            ],
        }
        for c in range(5)
    }
    return {"flags": flags, "group_type_mapping": {"0": "company"}, "cohorts": cohorts}


def full_properties(rng: Rng, user: int) -> List[Tuple[str, Any]]:
    """Person properties that every filter of the mixed document can read."""
    p: List[Tuple[str, Any]] = [(f"prop_{k}", f"value-{rng.below(10)}") for k in range(20)]
    p.append(("email", f"user-{user}@example.com"))
    p.append(("$app_version", f"1.{rng.below(10)}.2"))
    p.append(("signed_up", "2026-11-01T00:00:00Z"))
    p.append(("plan", "pro"))
    p.append(("age", 30))
    return p
