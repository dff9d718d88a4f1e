# vigil: one-line recipes. `just ci` runs exactly what CI runs.

default:
    @just --list

# Everything CI checks: fmt, clippy, tests, benchmarks compile.
ci:
    bash .ci/run

# The whole test suite (the README's test command).
test:
    cargo test --workspace

# Lints as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# SMOTE every NSL-KDD class up to the majority and time it.
smote:
    cargo run --release -p vigil-eval -- balance --dataset nsl-kdd --method smote

# imbalanced-learn's SMOTE on the same data, for comparison.
peer-smote:
    py=$(../shared/tools/setup-peer-venv.sh) && $py ../shared/tools/peer-smote.py ../shared/datasets/nsl-kdd/KDDTrain+.txt ../shared/datasets/nsl-kdd/attack_categories.csv

# The real-log checks (labelled Zeek day, three Cowrie logs) for one bootstrap seed.
realchecks seed="7":
    tools/realchecks.sh {{seed}}

# Criterion benchmarks (slow; the machine is shared, so read medians).
bench:
    cargo bench -p vigil-bench
