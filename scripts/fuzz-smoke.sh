#!/usr/bin/env bash
# A bounded run of every fuzz target (fuzz/, `cargo fuzz`): each starts from its seed corpus
# (fuzz/corpus/<target>, taken from the tests) and mutates for FUZZ_SECONDS (default 5).
# Not a search for deep bugs (see README, "Fuzzing", for long runs) but a check that every
# parser still survives its seeds and a few thousand mutations, and that the targets build.
#
# The targets are built once, unoptimised (`cargo fuzz build --dev`: debug assertions and
# AddressSanitizer as ever; the optimised build of the instrumented server took CI 10 of its
# 38 minutes, the unoptimised one 4, and a few seconds per target need no speed), and the
# binaries run directly. FUZZ_PROFILE=release builds as `cargo fuzz run` does, for long runs. New inputs go to a scratch directory, never into the checked-in
# corpus; a crash is kept in fuzz/artifacts/<target>/ and fails the script.
#
# FUZZ_SERVER=1 adds the server's targets (configuration file, bank API bodies): they build
# the whole server crate instrumented, which costs CI minutes, so they are off by default.
set -euo pipefail
cd "$(dirname "$0")/.."

toolchain="${FUZZ_TOOLCHAIN:-nightly}"
seconds="${FUZZ_SECONDS:-5}"
targets=(serial activation_uri sign_payload ocra activation_messages provisioning_messages
  status_messages pskc vault_file vault_tokens)
features=()
if [ "${FUZZ_SERVER:-0}" = 1 ]; then
  targets+=(config_file bank_api_json)
  features=(--features server)
fi

profile="${FUZZ_PROFILE:-dev}"
build_flags=()
[ "$profile" = dev ] && build_flags=(--dev)
echo "fuzz smoke: building ${#targets[@]} targets (cargo +$toolchain fuzz build ${build_flags[*]})"
start=$SECONDS
cargo "+$toolchain" fuzz build "${build_flags[@]}" "${features[@]}"
echo "fuzz smoke: built in $((SECONDS - start)) s"

# SQLite's amalgamation (in the server's targets) has two static arrays of one name in one
# file, which AddressSanitizer's ODR check takes for a violation before anything runs.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
bin_dir=release
[ "$profile" = dev ] && bin_dir=debug
bin="fuzz/target/$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')/$bin_dir"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=()
for target in "${targets[@]}"; do
  mkdir -p "$scratch/$target" "fuzz/artifacts/$target"
  log="$scratch/$target.log"
  if "$bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$target/" "$scratch/$target" "fuzz/corpus/$target" \
    >"$log" 2>&1; then
    echo "fuzz smoke: $target ok ($(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log") runs)"
  else
    echo "fuzz smoke: $target FAILED; its log:"
    tail -n 40 "$log"
    failed+=("$target")
  fi
done
echo "fuzz smoke: $((SECONDS - start)) s in all"
if ((${#failed[@]})); then
  echo "fuzz smoke: crashes in ${failed[*]}; inputs in fuzz/artifacts/<target>/, replay with"
  echo "  cargo +$toolchain fuzz run <target> fuzz/artifacts/<target>/<file>"
  exit 1
fi
