# A home network larger than the host table (offline).
#
# genload makes N_HOSTS home senders (10.1.0.0 ...) interleaved round-robin,
# all active to the end; host_table_memory = 1MiB holds far fewer.  A full
# table gives a record only to a host silent for 10 minutes (none here), so:
# the first hosts to send keep their records, every later one is refused
# (counted, one log line), nothing is evicted, and flow metering does not
# care: the flow log still holds every packet.  Before this rule each
# packet of such a trace evicted a host seen microseconds earlier and
# cleared its 16 KB record: live at ~220k pps that was 4 us of CPU per
# packet (tests/integ/live_load.sh).
source "$TOP/tests/lib/lib.sh"
need_cmd jq zcat
[ -x "$TOOLS/genload" ] || { skip "host_table: $TOOLS/genload not built"; exit 0; }
T=$T_TMP
N_PKTS=60000
N_HOSTS=150

"$TOOLS/genload" "$T/load.pcap" "$N_PKTS" "$N_HOSTS" >/dev/null ||
    { fail "genload failed"; exit 1; }
small_policy "$T/pol" "[global]" "host_table_memory = 1MiB"
"$SENSORD" -r "$T/load.pcap" -D "$T/state" -p "$T/pol" --summary json \
    >"$T/sum.json" 2>"$T/err.txt"
eq "sensord exit status" "$?" 0
jf() { jq -r "$1" "$T/sum.json"; }
cap=$(jf .hosts.capacity)
check "the table holds fewer hosts ($cap) than send ($N_HOSTS)" \
    test "$cap" -gt 0 -a "$cap" -lt "$N_HOSTS"
eq "hosts tracked = capacity" "$(jf .hosts.tracked)" "$cap"
eq "no host evicted (all seen within 10 minutes)" "$(jf .hosts.evicted)" 0
# Below 128 distinct hosts the refused count is exact (the HLL's exact stage).
eq "refused = the hosts that came after the table filled" \
    "$(jf .hosts.refused)" "$((N_HOSTS - cap))"
# Each packet of a refused host asks for a record once (host_packet), each
# of its conversations once or twice more: at least its packets.
ref_pkts=$(awk -v n="$N_PKTS" -v h="$N_HOSTS" -v c="$cap" 'BEGIN {
	for (i = 0; i < n; i++) if (i % h >= c) k++; print k }')
r=$(jf .hosts.refusals)
check "refusals ($r) >= packets of refused hosts ($ref_pkts)" \
    test "$r" -ge "$ref_pkts" -a "$r" -le "$((ref_pkts + 2 * (N_HOSTS - cap)))"
eq "one log line says so" "$(grep -c 'host table full' "$T/err.txt")" 1
check "it names the budget and what it holds" \
    grep -q "host_table_memory = 1MiB holds $cap" "$T/err.txt"
eq "flow metering unaffected: packets" "$(jf .packets)" "$N_PKTS"
f_pkts=$(zcat "$T"/state/flows/*.gz | jq -n '[inputs | .src_pkts + .dst_pkts] | add')
eq "flow log holds every packet" "$f_pkts" "$N_PKTS"
eq "one conversation per host" "$(jf .flows.records)" "$N_HOSTS"

# Enough room: nobody refused, no line.
small_policy "$T/pol2" "[global]" "host_table_memory = 4MiB"
"$SENSORD" -r "$T/load.pcap" -D "$T/state2" -p "$T/pol2" --summary json \
    >"$T/sum2.json" 2>"$T/err2.txt"
eq "4 MiB: all $N_HOSTS tracked" "$(jq -r .hosts.tracked "$T/sum2.json")" "$N_HOSTS"
eq "4 MiB: none refused" "$(jq -r '.hosts.refused + .hosts.refusals' "$T/sum2.json")" 0
eq "4 MiB: no log line" "$(grep -c 'host table full' "$T/err2.txt")" 0
exit 0
