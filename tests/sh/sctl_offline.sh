# sensorctl's offline commands on real data, checked with independent tools.
#
# flows: the real daemon replays a real trace into a state directory; every
# query (host, CIDR, port, time range, limit) must return exactly the
# records jq selects from `zcat flows/*.gz` with the same conditions, as
# whole records, not only counts.
# captures / extract: tests/tools/mkcaptures writes two hosts' packets of a
# real trace through spool.c into rotated capture files (host B in two
# captures whose files overlap in time); extract must give back exactly the
# trace's packets of that host in the range (tcpdump -xx text of both
# compared, tshark counts), refuse tampered or unverifiable files with exit
# status 4 and never write a partial output.
source "$TOP/tests/lib/lib.sh"
need_cmd jq zcat gzip tshark tcpdump editcap sha256sum
[ -x "$TOOLS/mkcaptures" ] || { skip "sctl_offline: mkcaptures not built"; exit 0; }
DNS=$SHARED_PCAPS/traffic/ppa_dns.cap
ESPN=$SHARED_PCAPS/traffic/chrissanders_http_espn.pcapng
[ -f "$DNS" ] && [ -f "$ESPN" ] && [ -f "$SHARED_PCAPS/traffic/lucaderi_doh_luca.pcap" ] ||
    { skip "sctl_offline: traces missing"; exit 0; }
T=$T_TMP

# ---- flows ---------------------------------------------------------------

st=$T/flows
"$SENSORD" -r "$DNS" -D "$st" -p "$TOP/policy" >"$T/sensord.out" 2>&1 ||
    fail "sensord -r ppa_dns.cap: $(tail -2 "$T/sensord.out")"

# Records as sorted, key-sorted JSON lines: equal sets compare equal.
ref() { zcat "$st"/flows/*.gz | jq -c "select($1)" | jq -cS . | sort; }
got() { "$SENSORCTL" -j -D "$st" flows "$@" | jq -cS . | sort; }
sums() { jq -s -r '"\(length) \(map(.src_pkts + .dst_pkts) | add // 0) \(map(.src_bytes + .dst_bytes) | add // 0)"'; }

flows_case() {	# name, jq condition, sensorctl options...
	local name=$1 cond=$2; shift 2
	ref "$cond" >"$T/ref.jsonl"
	got "$@" >"$T/got.jsonl" 2>"$T/got.err"
	eq "flows $name: records, packets, bytes" "$(sums <"$T/got.jsonl")" \
	    "$(sums <"$T/ref.jsonl")"
	check "flows $name: the same records as jq" cmp -s "$T/ref.jsonl" "$T/got.jsonl"
	[ -s "$T/ref.jsonl" ] || fail "flows $name: the reference is empty (test is vacuous)"
}

n_all=$(zcat "$st"/flows/*.gz | wc -l)
[ "$n_all" -gt 5 ] || fail "flows: only $n_all records in the log"
flows_case "all" 'true'
flows_case "--host address" '.src == "192.168.0.114" or .dst == "192.168.0.114"' \
    --host 192.168.0.114
flows_case "--host CIDR" '(.src | startswith("128.121.")) or (.dst | startswith("128.121."))' \
    --host 128.121.0.0/16
flows_case "--port" '.sport == 53 or .dport == 53' --port 53
# Bounds taken from the records themselves, so both ends are hit exactly
# (inclusive: a record ending at --since or starting at --until counts).
since=$(zcat "$st"/flows/*.gz | grep -o '"end":[0-9.]*' | cut -d: -f2 | sort | sed -n 4p)
until=$(zcat "$st"/flows/*.gz | grep -o '"start":[0-9.]*' | cut -d: -f2 | sort | sed -n 9p)
flows_case "--since/--until (epoch)" ".end >= $since and .start <= $until" \
    --since "$since" --until "$until"
flows_case "--since (RFC 3339) with --port" '.end >= 1166293360 and (.sport == 80 or .dport == 80)' \
    --since 2006-12-16T18:22:40Z --port 80
# The same bound written with an offset names the same instant.
flows_case "--until (RFC 3339 +01:00)" '.start <= 1166293360' --until 2006-12-16T19:22:40+01:00

"$SENSORCTL" -j -D "$st" flows --limit 3 >"$T/lim.jsonl"
eq "flows --limit 3: records" "$(wc -l <"$T/lim.jsonl")" 3
check "flows --limit 3: the first three records" cmp -s "$T/lim.jsonl" \
    <("$SENSORCTL" -j -D "$st" flows | head -3)
# -j is the log's own line format, byte for byte.
check "flows -j: lines identical to the flow log" cmp -s \
    <(zcat "$st"/flows/*.gz) <("$SENSORCTL" -j -D "$st" flows)

"$SENSORCTL" -D "$st" flows --host 192.168.0.114 >"$T/human.txt"
read -r n p b < <(ref '.src == "192.168.0.114" or .dst == "192.168.0.114"' | sums)
check "flows human: header line" grep -q '^Start (UTC) .*Duration.*Proto.*Src:Port.*Dst:Port.*State' <(head -1 "$T/human.txt")
eq "flows human: summary line" "$(tail -1 "$T/human.txt")" \
    "Summary: $n records, $p packets, $b bytes"
eq "flows human: one line per record" "$(($(wc -l <"$T/human.txt") - 2))" "$n"
check "flows human: aligned columns" bash -c \
    "sed '1d;\$d' '$T/human.txt' | awk '{ print index(\$0, \" -> \") }' | sort -u | wc -l | grep -qx 1"

# A log with a malformed line and a file cut in mid-member (the file being
# written): whole records still come out, problems go to stderr by
# file:line, the exit status stays 0.
bad=$T/badflows
mkdir -p "$bad/flows"
cp "$st"/flows/*.gz "$bad/flows/"
first=$(zcat "$st"/flows/*.gz | head -1)
printf '%s\n{"conv_id":1,"seq":\n%s\n' "$first" "$first" | gzip >"$bad/flows/flows-20061216T190000Z-0001.jsonl.gz"
zcat "$st"/flows/*.gz | gzip >"$T/whole.gz"
head -c $(($(stat -c %s "$T/whole.gz") / 2)) "$T/whole.gz" >"$bad/flows/flows-20061216T200000Z-0002.jsonl.gz"
cut_lines=$(zcat "$bad/flows/flows-20061216T200000Z-0002.jsonl.gz" 2>/dev/null | wc -l)
"$SENSORCTL" -j -D "$bad" flows >"$T/bad.jsonl" 2>"$T/bad.err"
eq "flows bad log: exit status" "$?" 0
eq "flows bad log: records (all whole lines)" "$(wc -l <"$T/bad.jsonl")" "$((n_all + 2 + cut_lines))"
check "flows bad log: malformed line reported as file:line" \
    grep -q 'flows-20061216T190000Z-0001.jsonl.gz:2: ' "$T/bad.err"
check "flows bad log: cut file reported" \
    grep -q 'flows-20061216T200000Z-0002.jsonl.gz: truncated' "$T/bad.err"
check "flows bad log: count of malformed lines" grep -q '1 malformed lines skipped' "$T/bad.err"

# ---- captures ------------------------------------------------------------

A=172.16.0.122 B=205.234.218.129
cap=$T/cap
"$TOOLS/mkcaptures" -d "$cap" "$ESPN" "$A:nsec" "$B:split" >"$T/mk.out" 2>&1 ||
    fail "mkcaptures: $(tail -2 "$T/mk.out")"
tshark -n -r "$ESPN" -Y "ip.addr==$A" -T fields -e frame.time_epoch 2>/dev/null >"$T/a.times"
nA=$(wc -l <"$T/a.times")
nB=$(tshark -n -r "$ESPN" -Y "ip.addr==$B" 2>/dev/null | wc -l)
nfiles=$(find "$cap/captures" -name '*.pcap.gz' | wc -l)
[ "$nfiles" -ge 6 ] || fail "mkcaptures made only $nfiles files (want rotation)"

"$SENSORCTL" -D "$cap" captures >"$T/caps.txt"
eq "captures: exit status" "$?" 0
eq "captures: one line per file" "$(($(wc -l <"$T/caps.txt") - 2))" "$nfiles"
eq "captures: summary counts every packet of both hosts" \
    "$(tail -1 "$T/caps.txt" | awk '{ print $2, $4 }')" "$nfiles $((nA + nB))"
"$SENSORCTL" -j -D "$cap" captures >"$T/caps.jsonl"
eq "captures -j: records" "$(wc -l <"$T/caps.jsonl")" "$nfiles"
# The sidecars' hashes, as listed, are the files' real SHA-256.
(cd "$cap/captures" && sha256sum */*.pcap.gz | awk '{ print $2, $1 }' | sort) >"$T/sha.real"
jq -r '"\(.file) \(.sha256)"' "$T/caps.jsonl" | sort >"$T/sha.listed"
check "captures -j: sha256 of every file matches sha256sum" cmp -s "$T/sha.real" "$T/sha.listed"
eq "captures -j: trigger metric" "$(jq -r .trigger.metric "$T/caps.jsonl" | sort -u)" pkt_rate
eq "captures $B: only its files" \
    "$("$SENSORCTL" -j -D "$cap" captures "$B" | jq -r .host | sort -u)" "$B"
# Integer nanoseconds from the sidecars' text (jq's doubles would round).
last_ns() { grep -o '"last_ns": [0-9]*' "$1" | grep -o '[0-9]*$'; }

# ---- extract --------------------------------------------------------------

jq_true() { jq -e "$1" "$2" >/dev/null; }
dump() { tcpdump -n -tt -xx -r "$1" 2>/dev/null | md5sum | cut -d' ' -f1; }
magic() { od -An -tx1 -N4 "$1" | tr -d ' '; }
tcpdump -r "$ESPN" -w "$T/refA.pcap" "host $A" 2>/dev/null
tcpdump -r "$ESPN" -w "$T/refB.pcap" "host $B" 2>/dev/null

"$SENSORCTL" -D "$cap" extract "$A" -o "$T/A.pcap" 2>"$T/x.err"
eq "extract $A: exit status" "$?" 0
eq "extract $A: packets (tshark)" "$(tshark -r "$T/A.pcap" 2>/dev/null | wc -l)" "$nA"
eq "extract $A: packet bytes and times as the trace" "$(dump "$T/A.pcap")" "$(dump "$T/refA.pcap")"
eq "extract $A: nanosecond magic, as its files" "$(magic "$T/A.pcap")" 4d3cb2a1

"$SENSORCTL" -D "$cap" extract "$B" -o "$T/B.pcap" 2>"$T/x.err"
eq "extract $B (overlapping files, k-way merge): exit status" "$?" 0
eq "extract $B: packets" "$(tshark -r "$T/B.pcap" 2>/dev/null | wc -l)" "$nB"
check "extract $B: in time order" bash -c \
    "tshark -r '$T/B.pcap' -T fields -e frame.time_epoch 2>/dev/null | sort -c -n"
eq "extract $B: packet bytes and times as the trace" "$(dump "$T/B.pcap")" "$(dump "$T/refB.pcap")"
eq "extract $B: microsecond magic, as its files" "$(magic "$T/B.pcap")" d4c3b2a1

# A range inside the capture: from the 200th to the 700th packet of A,
# both included.  editcap cuts the reference (-B is exclusive: +1 ns).
s=$(sed -n 200p "$T/a.times") u=$(sed -n 700p "$T/a.times")
u1=$(printf '%s' "$u" | awk -F. '{ printf "%s.%09d", $1, $2 + 1 }')
editcap -A "$s" -B "$u1" "$T/refA.pcap" "$T/refA_cut.pcap"
"$SENSORCTL" -j -D "$cap" extract "$A" --since "$s" --until "$u" -o "$T/A_cut.pcap" >"$T/x.json"
eq "extract --since/--until: packets" "$(tshark -r "$T/A_cut.pcap" 2>/dev/null | wc -l)" 501
eq "extract --since/--until: as editcap's cut of the trace" "$(dump "$T/A_cut.pcap")" "$(dump "$T/refA_cut.pcap")"
check "extract --since/--until: the summary counts them" \
    jq_true '.packets == 501 and .cut > 0' "$T/x.json"

# A longer trace (37 min of DoH), so that members lie well outside a range
# (beyond the skew tolerance) and the member index is put to use.
DOH=$SHARED_PCAPS/traffic/lucaderi_doh_luca.pcap C=192.168.1.17
doh=$T/doh
"$TOOLS/mkcaptures" -d "$doh" "$DOH" "$C" >"$T/mk2.out" 2>&1 ||
    fail "mkcaptures (doh): $(tail -2 "$T/mk2.out")"
tcpdump -r "$DOH" -w "$T/refC.pcap" "host $C" 2>/dev/null
tshark -n -r "$T/refC.pcap" -T fields -e frame.time_epoch 2>/dev/null >"$T/c.times"
cs=$(sed -n 3000p "$T/c.times") cu=$(sed -n 5000p "$T/c.times")
cu1=$(printf '%s' "$cu" | awk -F. '{ printf "%s.%09d", $1, $2 + 1 }')
editcap -A "$cs" -B "$cu1" "$T/refC.pcap" "$T/refC_cut.pcap"
"$SENSORCTL" -j -D "$doh" extract "$C" --since "$cs" --until "$cu" -o "$T/C_cut.pcap" >"$T/x.json"
eq "extract (37 min trace) --since/--until: packets" \
    "$(tshark -r "$T/C_cut.pcap" 2>/dev/null | wc -l)" 2001
eq "extract (37 min trace) --since/--until: as editcap's cut" \
    "$(dump "$T/C_cut.pcap")" "$(dump "$T/refC_cut.pcap")"
check "extract (37 min trace): files and members outside the range skipped" \
    jq_true '.members_skipped > 0 and .files < 7' "$T/x.json"
# captures --since: the files whose last packet (give or take the 1 s
# tolerance for stamps that step back, sctl_cap.h) is not before it.
want=0
for j in "$doh/captures/$C"/*.json; do
	[ $(($(last_ns "$j") + 1000000000)) -ge "${cs/./}" ] && want=$((want + 1))
done
[ "$want" -gt 0 ] && [ "$want" -lt 7 ] ||
    fail "captures --since: the bound selects all or nothing ($want)"
eq "captures $C --since: files overlapping" \
    "$("$SENSORCTL" -j -D "$doh" captures "$C" --since "$cs" | wc -l)" "$want"

"$SENSORCTL" -D "$cap" extract "$A" --since "$s" --until "$u" --filter 'tcp port 80' \
    -o "$T/A_80.pcap" 2>"$T/x.err"
eq "extract --filter 'tcp port 80': tshark's own count" \
    "$(tshark -r "$T/A_80.pcap" 2>/dev/null | wc -l)" \
    "$(tshark -r "$T/A_cut.pcap" -Y 'tcp.port == 80 && !icmp' 2>/dev/null | wc -l)"
tcpdump -r "$T/refA_cut.pcap" -w "$T/refA_80.pcap" 'tcp port 80' 2>/dev/null
eq "extract --filter: the same packets" "$(dump "$T/A_80.pcap")" "$(dump "$T/refA_80.pcap")"
"$SENSORCTL" -D "$cap" extract "$A" --filter 'tcp prt 80' -o "$T/nf.pcap" 2>"$T/x.err"
eq "extract --filter syntax error: exit status" "$?" 1
check "extract --filter syntax error: no output" test ! -e "$T/nf.pcap"

eq "extract -o -: packets on stdout" \
    "$("$SENSORCTL" -D "$cap" extract "$B" -o - 2>/dev/null | tshark -r - 2>/dev/null | wc -l)" "$nB"
cp "$T/A_cut.pcap" "$T/keep.pcap"
"$SENSORCTL" -D "$cap" extract "$A" -o "$T/keep.pcap" 2>"$T/x.err"
eq "extract onto an existing file: exit status" "$?" 1
check "extract onto an existing file: left alone" cmp -s "$T/A_cut.pcap" "$T/keep.pcap"
"$SENSORCTL" -D "$cap" extract "$A" --since 2001-01-01T00:00:00Z --until 2001-01-02T00:00:00Z \
    -o "$T/none.pcap" 2>"$T/x.err"
eq "extract of a range without files: exit status" "$?" 2

# ---- tampering -------------------------------------------------------------

tamper() {	# name: fresh copy of the spool in $T/tam
	rm -rf "$T/tam"
	cp -a "$cap" "$T/tam"
}
files=$(cd "$cap/captures/$A" && ls *.pcap.gz)
third=$(echo "$files" | sed -n 3p)
tamper
f=$T/tam/captures/$A/$third
printf '\xff' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") / 2)) conv=notrunc 2>/dev/null
"$SENSORCTL" -D "$T/tam" extract "$A" -o "$T/t.pcap" 2>"$T/t.err"
eq "tampered file (one byte): exit status" "$?" 4
check "tampered file: the message names it" grep -q "INTEGRITY FAILURE: captures/$A/$third" "$T/t.err"
check "tampered file: nothing written, no temporary left" \
    bash -c "! ls '$T'/t.pcap* >/dev/null 2>&1"
# A tampered file of the DoH capture that a range does not need.
rm -rf "$T/tam2"
cp -a "$doh" "$T/tam2"
fifth=$(cd "$doh/captures/$C" && ls *.pcap.gz | sed -n 5p)
f=$T/tam2/captures/$C/$fifth
printf '\xff' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") / 2)) conv=notrunc 2>/dev/null
l=$(last_ns "$doh/captures/$C/$(cd "$doh/captures/$C" && ls *.pcap.gz | sed -n 1p).json")
"$SENSORCTL" -D "$T/tam2" extract "$C" --until "${l:0:-9}.${l: -9}" -o "$T/t.pcap" 2>"$T/t.err"
eq "tampered file outside the range: not needed, exit status" "$?" 0
rm -f "$T/t.pcap"
"$SENSORCTL" -D "$T/tam2" extract "$C" -o "$T/t.pcap" 2>"$T/t.err"
eq "tampered file inside the range: exit status" "$?" 4

tamper
j=$T/tam/captures/$A/$third.json
h=$(grep -o '"sha256": "[0-9a-f]*"' "$j" | cut -d'"' -f4)
h2=$(printf '%s' "${h:0:1}" | tr 0123456789abcdef 123456789abcdef0)${h:1}
sed -i "s/\"sha256\": \"$h\"/\"sha256\": \"$h2\"/" "$j"
check "sidecar hash edited: the edit took" grep -q "$h2" "$j"
"$SENSORCTL" -D "$T/tam" extract "$A" -o "$T/t.pcap" 2>"$T/t.err"
eq "sidecar hash edited: exit status" "$?" 4
check "sidecar hash edited: the message names the file" grep -q "captures/$A/$third: its SHA-256 is" "$T/t.err"

tamper
rm "$T/tam/captures/$A/$third.json"
"$SENSORCTL" -D "$T/tam" extract "$A" -o "$T/t.pcap" 2>"$T/t.err"
eq "sidecar removed: exit status" "$?" 4
check "sidecar removed: the message says why" grep -q "captures/$A/$third: no sidecar" "$T/t.err"

tamper
mv "$T/tam/captures/$A/$third" "$T/elsewhere.gz"
ln -s "$T/elsewhere.gz" "$T/tam/captures/$A/$third"
"$SENSORCTL" -D "$T/tam" extract "$A" -o "$T/t.pcap" 2>"$T/t.err"
eq "capture file replaced by a symlink: exit status" "$?" 4
check "capture file replaced by a symlink: not followed" grep -q "$third: cannot open: a symbolic link" "$T/t.err"

tamper
printf '{"format": "sensord-capture/1", "file": "%s", "file_id": 1,,}' "$third" \
    >"$T/tam/captures/$A/$third.json"
"$SENSORCTL" -D "$T/tam" captures "$A" >"$T/t.out" 2>"$T/t.err"
eq "malformed sidecar: captures still lists the host" "$?" 0
check "malformed sidecar: reported" grep -q "captures/$A/$third: " "$T/t.err"
"$SENSORCTL" -D "$T/tam" extract "$A" -o "$T/t.pcap" 2>"$T/t.err"
eq "malformed sidecar: extract refuses" "$?" 4

# ---- bad input ---------------------------------------------------------------

for c in "flows" "captures" "extract $A -o $T/n.pcap"; do
	"$SENSORCTL" -D "$T/no/such/dir" $c >/dev/null 2>"$T/e.err"
	eq "${c%% *} on a missing state directory: exit status" "$?" 2
	check "${c%% *} on a missing state directory: says so" \
	    grep -q "cannot open state directory $T/no/such/dir" "$T/e.err"
done
"$SENSORCTL" -D "$cap" extract 10.0.0.300 -o "$T/n.pcap" 2>/dev/null
eq "extract with a bad host: exit status" "$?" 1
"$SENSORCTL" -D "$cap" extract ../../etc -o "$T/n.pcap" 2>/dev/null
eq "extract with a path for a host: exit status" "$?" 1
"$SENSORCTL" -D "$cap" captures not-a-host 2>/dev/null
eq "captures with a bad host: exit status" "$?" 1
"$SENSORCTL" -D "$st" flows --host 10.1.2.3/8 2>/dev/null
eq "flows --host with host bits set: exit status" "$?" 1
"$SENSORCTL" -D "$cap" extract "$A" 2>/dev/null
eq "extract without -o: exit status" "$?" 1
