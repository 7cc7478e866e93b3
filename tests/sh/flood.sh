# SYN flood against a memory budget: 1,000,000 SYNs from distinct spoofed
# (address, port) sources (genflood, 10 s of flood, plus 100 legitimate
# TLS-like conversations across it) replayed offline with
#
#   [flows] table_memory = 16MiB      (131072 conversations of 128 bytes)
#   [global] host_table_memory = 4MiB
#
# Memory.  The flow table is sized once from table_memory and never grows;
# what else the process holds does not depend on the number of
# conversations.  Two checks:
#
#  1. Absolute, on a build without sanitizers: peak RSS <= table_memory +
#     OVERHEAD, OVERHEAD = 16 MiB for everything that is not the table:
#     program, libc, libpcap and libdeflate (~4 MiB resident: an empty
#     replay of this build measures 8-9 MiB in all, the flow log pool
#     included), the flow log's chunk pool (16 queued + 2 chunks of 256 KiB
#     = 4.5 MiB, all touched when the writer lags behind a flood) and its
#     compressor, and the host table (its own 4 MiB budget here), with
#     ~3 MiB to spare.  A table that grew with the flood would need 1M x 112
#     bytes = 107 MiB.  ASan inflates RSS by a fixed ~17 MiB (its runtime
#     and the shadow of every malloc'd byte) and by quarantined frees, so
#     this check runs on $TOP/build/sensord when $SENSORD is sanitized; it
#     is skipped (said so) when no such build exists.
#  2. Differential, on $SENSORD whatever its build: peak RSS of the flood
#     minus peak RSS of a 1,000-SYN replay of the same generator with the
#     same policy <= table_memory + 6 MiB (the chunk pool filling up, 4.5
#     MiB, its shadow under ASan, pcap's read buffer).  ASan's fixed cost
#     cancels out; an allocation per packet or per record would not (ASan
#     keeps freed blocks in quarantine), nor would a table that grew.
#
# Accounting, from the summary (--summary json), the flow log (zcat | jq)
# and genflood's --truth (independent of sensord): every SYN made one
# conversation, created == records + active, the flow log holds every
# record, records ending "evict" == flows.evicted, packets and IP bytes
# summed over the flow log == packets metered == the truth.  And the point
# of the embryonic-first eviction (DOMAIN.md 4): none of the 100
# established conversations was evicted, each is exactly one record.
#
# Peak RSS comes from GNU time (/usr/bin/time -f %M), or by polling
# /proc/PID/status VmHWM every 50 ms when it is missing.
source "$TOP/tests/lib/lib.sh"
need_cmd jq zcat
T=$T_TMP
BUDGET_MIB=16
OVERHEAD_MIB=16
DIFF_SLACK_MIB=6

# small_policy fixes table_memory at 8 MiB: write this one by hand.
mkdir -p "$T/pol/hosts"
printf '[flows]\ntable_memory = %dMiB\n[global]\nhost_table_memory = 4MiB\n' \
    "$BUDGET_MIB" >"$T/pol/default.conf"

"$TOOLS/genflood" -o "$T/flood.pcap" -n 1000000 --truth "$T/flood.truth" \
    >/dev/null || { fail "genflood failed"; exit 1; }
"$TOOLS/genflood" -o "$T/small.pcap" -n 1000 --truth "$T/small.truth" \
    >/dev/null || { fail "genflood -n 1000 failed"; exit 1; }

# run_rss NAME BIN PCAP: replay, sets RSS_KIB and RC; summary in $T/NAME.json.
run_rss() {
	local name=$1 bin=$2 pcap=$3 pid hwm k v
	rm -rf "$T/$name.st"
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$T/$name.time" "$bin" -r "$pcap" \
		    -D "$T/$name.st" -p "$T/pol" --summary json \
		    >"$T/$name.json" 2>"$T/$name.err"
		RC=$?
		RSS_KIB=$(tail -1 "$T/$name.time")
	else
		"$bin" -r "$pcap" -D "$T/$name.st" -p "$T/pol" \
		    --summary json >"$T/$name.json" 2>"$T/$name.err" &
		pid=$! hwm=0
		while kill -0 "$pid" 2>/dev/null; do
			while read -r k v _; do
				[ "$k" = VmHWM: ] && [ "$v" -gt "$hwm" ] && hwm=$v
			done <"/proc/$pid/status" 2>/dev/null
			sleep 0.05
		done
		wait "$pid"
		RC=$?
		RSS_KIB=$hwm
	fi
	[ "$RC" -eq 0 ] || fail "$name: sensord exit $RC: $(head -2 "$T/$name.err" | tr '\n' ' ')"
}

is_asan() { ASAN_OPTIONS=help=1 "$1" --version 2>&1 | grep -q AddressSanitizer; }

run_rss flood "$SENSORD" "$T/flood.pcap"
flood_rss=$RSS_KIB
run_rss small "$SENSORD" "$T/small.pcap"
small_rss=$RSS_KIB
[ -s "$T/flood.json" ] || { fail "no summary from the flood replay"; exit 1; }
J=$T/flood.json
jf() { jq -r "$1" "$J"; }

# --- memory --------------------------------------------------------------
cap=$(jf .flows.capacity) bpf=$(jf .flows.bytes_per_flow)
echo "# table: $cap conversations x $bpf bytes = $((cap * bpf / 1024)) KiB of ${BUDGET_MIB} MiB"
check "table fits the budget (capacity x bytes_per_flow <= table_memory)" \
    test $((cap * bpf)) -le $((BUDGET_MIB << 20))
check "the flood overflowed the table ($(jf .flows.created) created > $cap)" \
    test "$(jf .flows.created)" -gt "$cap"

build=plain
is_asan "$SENSORD" && build=asan
echo "# $build build: flood peak RSS $flood_rss KiB, 1000-SYN replay $small_rss KiB"
check "peak RSS growth (flood - small replay) $((flood_rss - small_rss)) KiB <= table_memory + ${DIFF_SLACK_MIB} MiB ($build build)" \
    test $((flood_rss - small_rss)) -le $(((BUDGET_MIB + DIFF_SLACK_MIB) * 1024))

plain=
if [ $build = plain ]; then
	plain=$SENSORD
elif [ -x "$TOP/build/sensord" ] && ! is_asan "$TOP/build/sensord"; then
	plain=$TOP/build/sensord
fi
if [ -n "$plain" ]; then
	if [ "$plain" != "$SENSORD" ]; then
		run_rss plain "$plain" "$T/flood.pcap"
		eq "non-sanitized build meters the flood the same (records)" \
		    "$(jq -r .flows.records "$T/plain.json")" "$(jf .flows.records)"
	else
		RSS_KIB=$flood_rss
	fi
	echo "# ${plain#"$TOP"/}: flood peak RSS $RSS_KIB KiB"
	check "peak RSS $RSS_KIB KiB <= table_memory + ${OVERHEAD_MIB} MiB ($(((BUDGET_MIB + OVERHEAD_MIB) * 1024)) KiB), non-sanitized ${plain#"$TOP"/}" \
	    test "$RSS_KIB" -le $(((BUDGET_MIB + OVERHEAD_MIB) * 1024))
else
	skip "absolute RSS bound: \$SENSORD is ASan-instrumented and there is no non-sanitized \$TOP/build/sensord (make -k)"
fi

# --- accounting ----------------------------------------------------------
truth() { jq -r "$1" "$T/flood.truth"; }
created=$(jf .flows.created) records=$(jf .flows.records)
active=$(jf .flows.active) evicted=$(jf .flows.evicted)
eq "one conversation per SYN and legitimate conversation (truth)" \
    "$created" "$(truth .conversations.total)"
eq "created == records + active" "$created" "$((records + active))"
eq "summary IP packets == truth" "$(jf .ip_packets)" "$(truth .ip_packets)"

# One jq pass over the flow log: reason, packets, bytes, responder port.
zcat "$T"/flood.st/flows/*.jsonl.gz | jq -r \
    '[.end_reason, .src_pkts + .dst_pkts, .src_bytes + .dst_bytes, .dport] | @tsv' |
    awk -F'\t' '{ n++; r[$1]++; p += $2; b += $3
	if ($4 == 443) { l++; if ($1 == "evict") le++ } }
	END { printf "%d %d %d %d %d %d\n", n, r["evict"], p, b, l, le }' \
    >"$T/log.sum"
read -r l_n l_evict l_pkts l_bytes l_legit l_legit_evict <"$T/log.sum"
eq "flow log lines == records" "$l_n" "$records"
eq "flow log records ending evict == flows.evicted" "$l_evict" "$evicted"
eq "flows.end.evict == flows.evicted" "$(jf .flows.end.evict)" "$evicted"
check "evictions happened ($evicted)" test "$evicted" -gt 0
eq "packets over the flow log == packets metered" "$l_pkts" "$(jf .ip_packets)"
eq "IP bytes over the flow log == bytes metered (truth)" "$l_bytes" "$(truth .ip_bytes)"
eq "the 100 established conversations: one record each" "$l_legit" "$(truth .legit.conversations)"
eq "no established conversation evicted by the flood" "$l_legit_evict" 0
exit 0
