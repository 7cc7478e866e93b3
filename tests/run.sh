#!/usr/bin/env bash
# tests/run.sh: run every test and print one closing line "N passed, N failed".
#
# A test is a unit binary (build/tests/unit/test_*), a fuzz corpus replay
# (build/tests/fuzz/fuzz_* over tests/fuzz/corpus/fuzz_*/), or a script
# (tests/sh/*.sh offline, tests/integ/*.sh root + network namespaces).  Each
# prints lines "ok ...", "not ok ..." or "skip ..."; the runner counts them.
# A program that exits non-zero without printing "not ok" counts as one
# failure, so a crash can never pass silently.  TESTS=pattern runs a subset.
set -u
cd "$(dirname "$0")/.."
export O=${O:-build}
export TOP=$PWD
export SENSORD=$TOP/$O/sensord SENSORCTL=$TOP/$O/sensorctl
export TOOLS=$TOP/$O/tests/tools
export SHARED_PCAPS=${SHARED_PCAPS:-$(cd .. && pwd)/shared/pcaps}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}
pattern=${TESTS:-}
timeout_s=${TEST_TIMEOUT:-600}

n_pass=0 n_fail=0 n_skip=0
failed=()
logdir=$(mktemp -d /tmp/sensord-tests.XXXXXX)

run_one() {	# name, command...
	local name=$1; shift
	[ -n "$pattern" ] && [[ $name != *$pattern* ]] && return
	local log=$logdir/${name//\//_}.log rc p f s t0 t1
	t0=$(date +%s)
	timeout -k 10 "$timeout_s" "$@" >"$log" 2>&1
	rc=$?
	t1=$(date +%s)
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	s=$(grep -c '^skip ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc" >>"$log"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then
		echo "not ok - $name reported nothing" >>"$log"
		f=1
	fi
	n_pass=$((n_pass + p)) n_fail=$((n_fail + f)) n_skip=$((n_skip + s))
	printf '%-40s %4d ok %3d failed %3d skipped  %3ds\n' "$name" "$p" "$f" "$s" $((t1 - t0))
	if [ "$f" -ne 0 ]; then
		failed+=("$name")
		grep -E '^not ok|ERROR|runtime error|Sanitizer' "$log" | head -20 | sed 's/^/    /'
	fi
	grep '^skip ' "$log" | head -3 | sed 's/^/    /'
}

for t in "$O"/tests/unit/test_*; do
	[ -x "$t" ] && run_one "unit/${t##*/}" "$t"
done

# Fuzz targets replay their seed corpus (plus the shared robustness traces
# where the target reads whole pcap files).
for t in "$O"/tests/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	n=${t##*/}
	run_one "fuzz/$n" bash -c '
		out=$("$1" "$2" 2>&1); rc=$?
		echo "$out" | tail -3
		if [ $rc -eq 0 ]; then echo "ok - $3: $(echo "$out" | tail -1)"; else echo "not ok - $3"; fi
		exit $rc' _ "$t" "tests/fuzz/corpus/$n" "$n"
done

for t in tests/sh/*.sh tests/integ/*.sh; do
	[ -f "$t" ] || continue
	run_one "${t#tests/}" bash "$t"
done

echo
if [ ${#failed[@]} -ne 0 ]; then
	echo "failed: ${failed[*]} (logs in $logdir)"
elif [ -n "${KEEP_LOGS:-}" ]; then
	echo "logs in $logdir (KEEP_LOGS)"
else
	rm -rf "$logdir"
fi
echo "$n_pass passed, $n_fail failed, $n_skip skipped"
[ "$n_fail" -eq 0 ]
