# Interim records (active timeout) on a long real trace:
# lucaderi_doh_luca.pcap, 37 minutes of DNS-over-HTTPS (long-lived TLS to
# 1.1.1.1 and 1.0.0.1, with a 26-minute gap in the middle).
#
# Runs with [flows] active_timeout = 5m (2 interim records on this trace)
# and 1m (14, to exercise records cut several times), each against a run
# with the default 30m (no cut: no conversation here lasts 30 minutes).
# The idle timeout (30 s) is the same in all runs, so idle and FIN/RST cuts
# fall on the same packets and all runs make the same conversations; a
# shorter active timeout only cuts some of them into more records.  Exact
# assertions, no tolerance, for each short run:
#
#  - it has interim records (end_reason active, final false), as many as
#    the summary's end.active;
#  - per conv_id: seq runs 0, 1, 2, ... in file order, every record but
#    the last is an interim one, the last is final and not "active", the
#    5-tuple is the same in every record, and start times rise;
#  - no record spans more than the active timeout (end - start);
#  - the same number of conversations is created as with 30m, and there
#    is one final record per conversation in both;
#  - every packet is in exactly one record, so per unordered 5-tuple the
#    packets and bytes each way equal the 30m run's (compared per direction
#    of the endpoint pair, so an initiator decided differently could not
#    hide a difference; one 5-tuple holds two conversations split by the
#    idle timeout), and the packets sum to the summary's ip_packets;
#  - matching each conversation of the 30m run with the one of the short
#    run that has the same 5-tuple and first start: one that lasted longer
#    than the active timeout is in at least ceil(duration / timeout)
#    records, any other in exactly one.
source "$TOP/tests/lib/lib.sh"
need_cmd jq zcat
f=$SHARED_PCAPS/traffic/lucaderi_doh_luca.pcap
[ -f "$f" ] || { skip "interim: $f missing"; exit 0; }
T=$T_TMP

small_policy "$T/p30m"
small_policy "$T/p5m" "active_timeout = 5m"
small_policy "$T/p1m" "active_timeout = 1m"
for r in 30m 5m 1m; do
	"$SENSORD" -r "$f" -D "$T/s$r" -p "$T/p$r" --summary json \
	    >"$T/$r.json" 2>"$T/$r.err" ||
	    { fail "run $r: sensord exit $?: $(head -2 "$T/$r.err")"; exit 1; }
	zcat "$T/s$r"/flows/*.jsonl.gz | jq -s . >"$T/$r.recs" ||
	    { fail "run $r: flow log unreadable"; exit 1; }
done
eq "run 30m: packets over records = summary ip_packets" \
    "$(jq -r 'map(.src_pkts + .dst_pkts) | add' "$T/30m.recs")" \
    "$(jq -r .ip_packets "$T/30m.json")"

# Per unordered 5-tuple: "proto lo hi pkts lo->hi bytes lo->hi pkts hi->lo
# bytes hi->lo", sorted.
pair_sums() {
	jq -r 'map(
	    ("\(.src)|\(.sport)") as $s | ("\(.dst)|\(.dport)") as $d |
	    if $s < $d then [.proto, $s, $d, .src_pkts, .src_bytes, .dst_pkts, .dst_bytes]
	    else [.proto, $d, $s, .dst_pkts, .dst_bytes, .src_pkts, .src_bytes] end)
	  | group_by(.[0:3])
	  | map(.[0][0:3] + [(map(.[3]) | add), (map(.[4]) | add),
	      (map(.[5]) | add), (map(.[6]) | add)] | map(tostring) | join(" "))
	  | .[]' "$1" | LC_ALL=C sort
}
pair_sums "$T/30m.recs" >"$T/30m.pairs"
interim_b=$(jq -r 'map(select(.end_reason == "active")) | length' "$T/30m.recs")
final_b=$(($(jq -r length "$T/30m.recs") - interim_b))

# check_run NAME SECONDS: run NAME (active timeout SECONDS) against 30m.
check_run() {
	local r=$1 act=$2 A=$T/$1.recs interim bad multi
	interim=$(jq -r 'map(select(.end_reason == "active" and .final == false)) | length' "$A")
	echo "# run $r: $(jq -r length "$A") records, $interim interim; run 30m: $((final_b + interim_b)) records, $interim_b interim"
	check "$r: interim records made ($interim)" test "$interim" -gt "$interim_b"
	eq "$r: interim records = summary end.active" "$interim" \
	    "$(jq -r .flows.end.active "$T/$r.json")"

	# Per conv_id, in file order.
	bad=$(jq -r 'group_by(.conv_id) | map(select(
		  ([.[].seq] != [range(length)])
		  or (.[:-1] | any(.end_reason != "active" or .final != false))
		  or (.[-1] | .final != true or .end_reason == "active")
		  or (map([.proto, .src, .sport, .dst, .dport]) | unique | length != 1)
		  or ([.[].start] != ([.[].start] | sort))
		)) | map(.[0].conv_id | tostring) | join(" ")' "$A")
	eq "$r: per conv_id: seq 0,1,2..., interim records then one final, same 5-tuple, rising start" "$bad" ""
	multi=$(jq -r 'group_by(.conv_id) | map(select(length > 1)) | length' "$A")
	check "$r: conversations cut into several records ($multi)" test "$multi" -gt 0
	eq "$r: no record spans more than $act s" \
	    "$(jq -r "map(select(.end - .start > $act)) | length" "$A")" 0

	eq "$r: same conversations created as with 30m" \
	    "$(jq -r .flows.created "$T/$r.json")" "$(jq -r .flows.created "$T/30m.json")"
	eq "$r: one final record per conversation, as with 30m" \
	    "$(($(jq -r length "$A") - interim))" "$final_b"

	pair_sums "$A" >"$T/$r.pairs"
	if diff "$T/30m.pairs" "$T/$r.pairs" >"$T/$r.diff"; then
		ok "$r: per 5-tuple packets and bytes each way = 30m run ($(wc -l <"$T/$r.pairs") 5-tuples)"
	else
		fail "$r: per 5-tuple sums differ (< 30m, > $r): $(head -4 "$T/$r.diff" | tr '\n' '|')"
	fi
	eq "$r: packets over records = summary ip_packets" \
	    "$(jq -r 'map(.src_pkts + .dst_pkts) | add' "$A")" \
	    "$(jq -r .ip_packets "$T/$r.json")"

	# Conversations of the 30m run against their records here.
	jq -n --slurpfile a "$A" --slurpfile b "$T/30m.recs" --argjson act "$act" '
	    def convs: group_by(.conv_id) | map({key: (.[0] | [.proto, .src,
		.sport, .dst, .dport, .start] | map(tostring) | join(" ")),
		n: length, dur: (.[-1].end - .[0].start)});
	    ($a[0] | convs | map({(.key): .n}) | add) as $na
	    | $b[0] | convs | map(. + {na: ($na[.key] // 0)})
	    | map(select((.dur > $act and .na < (.dur / $act | ceil))
		or (.dur <= $act and .na != 1)))
	    | map("\(.key) lasts \(.dur) s, \(.na) records") | .[]' \
	    >"$T/$r.cuts"
	eq "$r: conversations longer than $act s cut in >= ceil(duration / $act s) records, others whole" \
	    "$(wc -l <"$T/$r.cuts")" 0
	[ -s "$T/$r.cuts" ] && head -3 "$T/$r.cuts" | sed 's/^/# /'
	return 0
}
check_run 5m 300
check_run 1m 60
exit 0
