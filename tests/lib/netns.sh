# tests/lib/netns.sh: network namespaces for integration tests (source it
# after lib.sh).  Root only: ns_init skips the whole file otherwise.
#
#   ns_init                      need root + ip; per-run name prefix; cleanup
#   ns_add VAR NAME              new namespace "$NS_PFX-NAME" (lo up), its
#                                name stored in variable VAR
#   ns_bridge NS BR [CIDR]       bridge BR in NS, up, with an address
#   ns_link NS_A IF_A NS_B IF_B [CIDR_B]
#                                veth pair between two namespaces (created
#                                inside them: nothing appears in the root
#                                namespace); IF_B gets CIDR_B; both up
#   ns_enslave NS IF BR          put IF into bridge BR
#   ns_bg NS LOG cmd...          run cmd in NS in the background, output to
#                                LOG; its pid in BG_PID; killed at cleanup
#   wait_for SECS cmd...         poll cmd every 0.1 s; 0 when it succeeded
#                                within SECS, 1 otherwise
#   wait_file_re SECS FILE RE    wait_for a line matching RE in FILE
#
# Every namespace, and every process started with ns_bg or still running
# inside one of them, is removed by the EXIT trap of lib.sh, also when the
# test fails half-way or is killed with TERM/INT/HUP (the runner's timeout):
# those signals exit through the EXIT trap.  Names carry the test's pid, so
# concurrent runs never collide.
NS_LIST=()
NS_PIDS=()

ns_init() {
	need_root
	need_cmd ip
	NS_PFX="sdt$$"
	T_CLEANUP+=("ns_cleanup")
	trap 'exit 143' TERM
	trap 'exit 130' INT
	trap 'exit 129' HUP
}

ns_cleanup() {
	local p ns
	for p in "${NS_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for ns in "${NS_LIST[@]}"; do
		# Anything else still running in our namespace is ours too.
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
	done
	for p in "${NS_PIDS[@]}"; do
		wait_for 5 bash -c "! kill -0 $p 2>/dev/null" ||
		    kill -9 "$p" 2>/dev/null
	done
	for ns in "${NS_LIST[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	NS_LIST=() NS_PIDS=()
}

ns_add() {
	local ns="$NS_PFX-$2"
	ip netns add "$ns" || return 1
	NS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	printf -v "$1" '%s' "$ns"
}

ns_bridge() {
	local ns=$1 br=$2 cidr=${3:-}
	ip -n "$ns" link add "$br" type bridge stp_state 0 forward_delay 0 || return 1
	[ -z "$cidr" ] || ip -n "$ns" addr add "$cidr" dev "$br" || return 1
	ip -n "$ns" link set "$br" up
}

ns_link() {
	local nsa=$1 ifa=$2 nsb=$3 ifb=$4 cidr=${5:-}
	ip -n "$nsa" link add "$ifa" type veth peer name "$ifb" netns "$nsb" ||
	    return 1
	[ -z "$cidr" ] || ip -n "$nsb" addr add "$cidr" dev "$ifb" || return 1
	ip -n "$nsa" link set "$ifa" up && ip -n "$nsb" link set "$ifb" up
}

ns_enslave() {
	ip -n "$1" link set "$2" master "$3"
}

ns_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	BG_PID=$!
	NS_PIDS+=("$BG_PID")
}

wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

wait_file_re() {
	wait_for "$1" grep -qsE -- "$3" "$2"
}
