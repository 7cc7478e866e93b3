# tests/lib/lib.sh: helpers for shell tests (source it).
#
#   ok "what" / fail "what" / skip "what: why"   report one check
#   check "what" cmd...                          ok when cmd succeeds
#   eq "what" got want                           ok when strings are equal
#   need_root / need_cmd tshark ...              skip the whole file (exit 0)
#   tmpdir                                        per-test scratch, removed on exit
set -u
: "${SENSORD:?run through tests/run.sh}"
T_FAILS=0
ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; T_FAILS=$((T_FAILS + 1)); }
skip() { echo "skip - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}
need_root() {
	if [ "$(id -u)" -ne 0 ]; then skip "${0##*/}: needs root (network namespaces)"; exit 0; fi
}
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || { skip "${0##*/}: $c not installed"; exit 0; }
	done
}
T_TMP=$(mktemp -d /tmp/sensord-t.XXXXXX)
T_CLEANUP=()
t_cleanup() {
	local c
	for c in "${T_CLEANUP[@]}"; do eval "$c" || true; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
tmpdir() { echo "$T_TMP"; }
# The exit status tells the runner nothing it does not count from the lines,
# but a script that dies half-way exits non-zero and is counted as failed.

# A policy directory for offline tests: the shipped defaults with a small
# flow table (ASan makes touching a 256 MiB table slow) and any extra
# "[section] key = value" lines given as arguments, e.g.
#   small_policy "$T_TMP/pol" "[flows]" "idle_timeout = 10s"
small_policy() {
	local dir=$1 a global=0; shift
	mkdir -p "$dir/hosts"
	{
		echo "[flows]"
		echo "table_memory = 8MiB"
		for a in "$@"; do
			printf '%s\n' "$a"
			# Offline tests run as whoever runs them: no user switch.
			if [ "$a" = "[global]" ]; then
				echo "user ="
				global=1
			fi
		done
		if [ $global -eq 0 ]; then
			echo "[global]"
			echo "user ="
		fi
	} >"$dir/default.conf"
}

# jq_has 'COND' FILE_OR_-: some JSON value of the input satisfies COND.
# (jq -e alone judges only the last output, so it cannot say "any".)
jq_has() {
	jq -s -e "any(.[]; $1)" "${2:--}" >/dev/null 2>&1
}
