# The two commands a new user needs. Both first make sure the system packages are present.
.PHONY: plan test deps bench

deps:
	./scripts/install-deps

# Run the planner's main job on the bundled Double-11 scenario; results land in out/.
plan: deps
	cargo run --release -- plan scenarios/double11.toml --out out

# Formatting, lints and the whole test suite, as CI runs them.
test: deps
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --release --workspace

bench: deps
	cargo bench --workspace
