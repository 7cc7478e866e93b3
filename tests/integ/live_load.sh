# Live capture under load (root only): kernel drops and packet rate.
#
# A generated trace (tests/tools/genload: LOAD_PKTS packets over
# LOAD_FLOWS conversations, 60-byte frames) is replayed with
# tcpreplay --topspeed into a veth pair between two namespaces; sensord
# captures on the far end.  A second replay runs while sensord is stopped
# (SIGSTOP), so that its ring overflows and the kernel really drops.  Then
# the same replay with tcpdump -w /dev/null (same 64 MiB kernel buffer) in
# sensord's place.  Figures are printed side by side; asserted is only what
# must hold whatever the machine's speed: sensord keeps running, exits 0,
# and every packet the replays sent is either in the flow log or counted as
# a kernel drop (within 1%).  IPv6 is off in both namespaces so that no
# neighbour discovery adds packets of its own.
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/lib/netns.sh"
ns_init
need_cmd tcpreplay tcpdump zcat jq getconf
[ -x "$TOOLS/genload" ] || { skip "live_load: $TOOLS/genload not built"; exit 0; }

T=$T_TMP
N_PKTS=${LOAD_PKTS:-1000000}
N_FLOWS=${LOAD_FLOWS:-10000}
LOG=$T/sensord.log

ns_add A replay && ns_add S sensor ||
    { fail "live_load: cannot create namespaces"; exit 1; }
for ns in "$A" "$S"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	    net.ipv6.conf.default.disable_ipv6=1
done
ns_link "$S" vs0 "$A" va0
check "veth has carrier" wait_for 10 \
    bash -c "ip -n $S link show vs0 | grep -q LOWER_UP"

"$TOOLS/genload" "$T/load.pcap" "$N_PKTS" "$N_FLOWS" >"$T/gen.txt" ||
    { fail "genload failed"; exit 1; }
ok "trace: $(cat "$T/gen.txt"), $N_FLOWS conversations"

rx() { ip netns exec "$S" cat /sys/class/net/vs0/statistics/rx_packets; }

# replay: two lines, packets sent and the rate (pps) from tcpreplay.
replay() {
	ip netns exec "$A" timeout 120 tcpreplay -i va0 --topspeed \
	    "$T/load.pcap" >"$T/replay.txt" 2>&1
	sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' "$T/replay.txt"
	sed -n 's/.*Rated: .*, \([0-9.]*\) pps.*/\1/p' "$T/replay.txt"
}

# CPU seconds (user + system) of a process so far.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
	    "/proc/$1/stat"
}

# settle: wait (at most 30 s) until sensord has read what the kernel holds:
# the packet count unchanged over half a second.
settle() {
	local a b k
	read -r a _ < <(stats_now)
	for k in $(seq 60); do
		sleep 0.5
		read -r b _ < <(stats_now)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	return 1
}

# stats_now: SIGUSR1, then "packets drops" of the stats line it logs.
stats_now() {
	local m
	m=$(wc -l <"$LOG")
	kill -USR1 "$SPID"
	wait_for 10 bash -c "tail -n +$((m + 1)) '$LOG' | grep -q 'stats: '"
	tail -n +$((m + 1)) "$LOG" | grep 'stats: ' | tail -1 |
	    sed -n 's/.*stats: packets \([0-9]*\),.*kernel drops \([0-9]*\) .*/\1 \2/p'
}

# --- sensord: a normal replay, then one while it is stopped ---------------
ns_bg "$S" "$LOG" "$SENSORD" -i vs0 -D "$T/state" --user ""
SPID=$BG_PID
wait_file_re 15 "$LOG" 'started: capturing on 1 of 1' ||
    { fail "sensord did not start: $(head -3 "$LOG")"; exit 1; }
rx0=$(rx)
c0=$(cpu_s "$SPID")
t0=$(date +%s.%N)
{ read -r sent; read -r rate; } < <(replay)
t1=$(date +%s.%N)
check "tcpreplay sent the trace (${sent:-?} of $N_PKTS)" test "${sent:-0}" -eq "$N_PKTS"
check "sensord caught up with its ring after the replay" settle
c1=$(cpu_s "$SPID")
read -r p1 d1 < <(stats_now)
check "sensord still running after the replay" kill -0 "$SPID"

# Stopped: the ring fills and the kernel drops the rest; every packet must
# still be accounted for, read or dropped.
kill -STOP "$SPID"
{ read -r sent_b; read -r rate_b; } < <(replay)
kill -CONT "$SPID"
check "sensord caught up with its ring after the stall" settle
read -r p2 d2 < <(stats_now)
check "stalled replay made the kernel drop (${d2:-?} drops in all)" \
    test "${d2:-0}" -gt "${d1:-0}"
check "sensord still running after the stalled replay" kill -0 "$SPID"
rx1=$(rx)

kill -TERM "$SPID"
if wait_for 60 bash -c "! kill -0 $SPID 2>/dev/null"; then
	wait "$SPID"
	eq "sensord exit status" "$?" 0
else
	fail "sensord did not stop within 60 s"
fi
stats=$(grep 'stats: ' "$LOG" | tail -1)
s_pkts=$(sed -n 's/.*stats: packets \([0-9]*\),.*/\1/p' <<<"$stats")
s_drop=$(sed -n 's/.*kernel drops \([0-9]*\) .*/\1/p' <<<"$stats")
f_pkts=$(zcat "$T"/state/flows/*.gz | jq -n '[inputs | .src_pkts + .dst_pkts] | add // 0')
f_lost=$(sed -n 's/.*flow log written [0-9]* \/ dropped \([0-9]*\) \/ lost \([0-9]*\).*/\1 \2/p' <<<"$stats")
eq "flow log dropped / lost no record" "$f_lost" "0 0"
eq "flow log packets = packets sensord read" "$f_pkts" "${s_pkts:-?}"
all=$(( ${sent:-0} + ${sent_b:-0} ))
eq "veth delivered every packet sent (rx_packets delta)" "$((rx1 - rx0))" "$all"
tot=$(( ${f_pkts:-0} + ${s_drop:-0} ))
check "flow log $f_pkts + kernel drops ${s_drop:-?} = $tot ~ sent $all (1%)" \
    awk -v a="$tot" -v b="$all" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d * 100 <= b) }'
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
cap=$(awk -v p="${p1:-0}" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", p / c; else print "-" }')

# --- tcpdump on the same replay ------------------------------------------
ns_bg "$S" "$T/tcpdump.txt" tcpdump -i vs0 -n -B 65536 -w /dev/null
TD=$BG_PID
wait_file_re 10 "$T/tcpdump.txt" 'listening on' || fail "tcpdump did not start"
ct0=$(cpu_s "$TD")
{ read -r sent2; read -r rate2; } < <(replay)
sleep 1.5
ct1=$(cpu_s "$TD")
kill -INT "$TD"
wait_for 10 bash -c "! kill -0 $TD 2>/dev/null"
wait "$TD" 2>/dev/null
d_got=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$T/tcpdump.txt")
d_drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$T/tcpdump.txt")
check "tcpdump ran (${d_got:-?} captured)" test -n "$d_got"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f%%", 100 * a / b; else print "-" }'; }
echo "# replay 1: ${sent:-?} packets at ${rate:-?} pps (tcpreplay; ${secs} s wall)"
echo "#   sensord: read ${p1:-?}, kernel drops ${d1:-?} ($(pct "${d1:-0}" "${sent:-0}")); ${cpu} s CPU, ~${cap} packets per CPU second"
echo "# replay 2, sensord stopped (SIGSTOP): ${sent_b:-?} packets at ${rate_b:-?} pps"
echo "#   sensord: read $(( ${p2:-0} - ${p1:-0} )), kernel drops $(( ${d2:-0} - ${d1:-0} ))"
echo "# replay 3: ${sent2:-?} packets at ${rate2:-?} pps"
cput=$(awk -v a="$ct0" -v b="$ct1" 'BEGIN { printf "%.2f", b - a }')
capt=$(awk -v p="${d_got:-0}" -v c="$cput" 'BEGIN { if (c > 0) printf "%.0f", p / c; else print "-" }')
echo "#   tcpdump -w /dev/null -B 65536: captured ${d_got:-?}, kernel drops ${d_drop:-?} ($(pct "${d_drop:-0}" "${sent2:-0}")); ${cput} s CPU, ~${capt} packets per CPU second"
grep 'stats: ' "$LOG" | tail -1 | sed 's/^/# sensord at exit: /'
exit 0
