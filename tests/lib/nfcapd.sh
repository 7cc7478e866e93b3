# tests/lib/nfcapd.sh: Debian's nfcapd as a collector for export tests
# (source it after lib.sh).
#
#   free_port                  a UDP port nobody listens on, printed
#   start_nfcapd DIR PORT [..] nfcapd on 127.0.0.1:PORT writing DIR; its pid
#                              in NFC_PID, killed at cleanup; waits until the
#                              socket is bound (its log is block-buffered)
#   stop_nfcapd                SIGTERM, bounded wait, then SIGKILL
#   nfdump_totals DIR          "proto src sport dst dport flows pkts bytes
#                              opkts obytes" per key, sorted
# A UDP port nobody has bound (a race with other tests is harmless: the
# nfcapd start below fails visibly).
free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		grep -qi ":$(printf %04X $p) " /proc/net/udp /proc/net/udp6 \
		    2>/dev/null || break
	done
	echo $p
}

start_nfcapd() {	# dir port [extra args]
	local dir=$1 port=$2 i
	shift 2
	mkdir -p "$dir"
	nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -t 3600 "$@" >"$dir.log" 2>&1 &
	NFC_PID=$!
	T_CLEANUP+=("kill -9 $NFC_PID 2>/dev/null")
	# Its log is block-buffered: wait for the bound socket instead.
	for i in $(seq 100); do
		grep -qi "^ *[0-9]*: 0100007F:$(printf %04X "$port") " /proc/net/udp &&
		    return 0
		kill -0 "$NFC_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

stop_nfcapd() {
	local i
	kill -TERM "$NFC_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$NFC_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$NFC_PID" 2>/dev/null
	wait "$NFC_PID" 2>/dev/null
	NFC_PID=
}

# nfdump's records as "proto src sport dst dport flows pkts bytes opkts
# obytes", summed per key and sorted like xp_send's expectation.
nfdump_totals() {	# dir
	nfdump -R "$1" -q -o csv 2>/dev/null | awk -F, '
	NF >= 15 && $1 ~ /^[0-9]/ {
		p = $8
		if (p == "TCP") p = 6; else if (p == "UDP") p = 17
		else if (p == "ICMP") p = 1; else if (p == "ICMP6") p = 58
		k = p " " $4 " " $6 " " $5 " " $7
		f[k]++; pk[k] += $12; by[k] += $13; op[k] += $14; ob[k] += $15
	}
	END { for (k in f) print k, f[k], pk[k], by[k], op[k], ob[k] }' |
	    LC_ALL=C sort
}
