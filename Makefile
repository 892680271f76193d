# Entry points for the things people run by hand. The test suites: scripts/test.sh.

.PHONY: bench bench-quick

# The cross-language benchmark: Rust, Python, Node on the same workloads; rewrites the generated section of
# BENCHMARKS.md and docs/benchmarks.png (results and logs under target/bench/).
bench:
	scripts/bench.sh

# The same in a few minutes, with fewer users and rounds (a smoke run; its figures are noisier).
bench-quick:
	scripts/bench.sh --quick
