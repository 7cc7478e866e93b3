#!/usr/bin/env bash
# tests/sh/gen_tools.sh: the trace generators (gentrace, genflood, gendemo)
# are deterministic, write packets that tshark dissects without malformed
# or bad-checksum expert items, and their --truth files agree with what
# capinfos, tshark and pcapread count in the files.  Small sizes: seconds.
source "$TOP/tests/lib/lib.sh"
need_cmd tshark capinfos jq sha256sum python3
T=$(tmpdir)

sha() { sha256sum "$1" | cut -d' ' -f1; }

# Expert items that would make a trace unfit: malformed packets, or any
# error-level item (bad IP/TCP/UDP checksums are errors once checked).
bad_count() {
	tshark -r "$1" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
	    -o ip.check_checksum:TRUE \
	    -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null |
	    wc -l
}

# One tshark pass per trace into a table; counts are awk conditions on it.
# Columns: 1 ip.src 2 ip.dst 3 ipv6.src 4 ipv6.dst 5 ip.len 6 ipv6.plen
# 7 vlan.id 8 tcp.srcport 9 tcp.dstport 10 SYN 11 ACK 12 FIN 13 RST
# 14 dns.flags.response 15 icmp.type 16 icmpv6.type 17 frame.time_relative
dump() {
	tshark -r "$1" -T fields -E occurrence=f -e ip.src -e ip.dst \
	    -e ipv6.src -e ipv6.dst -e ip.len -e ipv6.plen -e vlan.id \
	    -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
	    -e tcp.flags.fin -e tcp.flags.reset -e dns.flags.response \
	    -e icmp.type -e icmpv6.type -e frame.time_relative \
	    2>/dev/null >"$1.tsv"
}
count() { awk -F'\t' "$2 { c++ } END { print c + 0 }" "$1.tsv"; }
distinct() { awk -F'\t' "$2 { print \$$3 }" "$1.tsv" | sort -u | wc -l; }
# Both TCP and UDP conversation tables in one pass: "tcp N" and "udp N".
convs() {
	tshark -r "$1" -q -z conv,tcp -z conv,udp 2>/dev/null | awk '
	    /^TCP Conversations/ { k = "tcp" } /^UDP Conversations/ { k = "udp" }
	    /<->/ { c[k]++ } END { print "tcp", c["tcp"] + 0; print "udp", c["udp"] + 0 }'
}

# truth_checks NAME FILE: the ground truth against independent counters.
truth_checks() {
	local n=$1 f=$2 j=$2.json cap cv
	dump "$f"
	read -r _ cp cb < <(capinfos -T -r -M -c -d "$f")
	eq "$n: truth packets = capinfos" "$(jq .packets "$j")" "$cp"
	eq "$n: truth frame bytes = capinfos data size" \
	    "$(jq .frame_bytes "$j")" "$cb"
	eq "$n: truth file bytes = file size" "$(jq .file_bytes "$j")" \
	    "$(stat -c %s "$f")"
	eq "$n: truth IP bytes = tshark sum of IP lengths" \
	    "$(jq .ip_bytes "$j")" "$(awk -F'\t' '{ s += $5 != "" ? $5 : $6 + 40 }
	    END { print s + 0 }' "$f.tsv")"
	eq "$n: truth IPv4 packets = tshark" "$(jq .ipv4_packets "$j")" \
	    "$(count "$f" '$1 != ""')"
	eq "$n: truth IPv6 packets = tshark" "$(jq .ipv6_packets "$j")" \
	    "$(count "$f" '$3 != ""')"
	eq "$n: truth VLAN packets = tshark" "$(jq .vlan_packets "$j")" \
	    "$(count "$f" '$7 != ""')"
	cv=$(convs "$f")
	eq "$n: truth TCP conversations = tshark conv,tcp" \
	    "$(jq .conversations.tcp "$j")" "$(awk '$1 == "tcp" { print $2 }' <<<"$cv")"
	eq "$n: truth UDP conversations = tshark conv,udp" \
	    "$(jq .conversations.udp "$j")" "$(awk '$1 == "udp" { print $2 }' <<<"$cv")"
	eq "$n: timestamps never go backwards" "$(awk -F'\t' '
	    $17 + 0 < last { b++ } { last = $17 + 0 } END { print b + 0 }' \
	    "$f.tsv")" 0
	cap=$("$TOOLS/pcapread" "$f")
	eq "$n: pcapread packets and bytes" \
	    "$(sed 's/ seconds=.*//' <<<"$cap")" \
	    "packets=$cp bytes=$cb wire_bytes=$cb"
}

# --- gentrace ---------------------------------------------------------
G=$TOOLS/gentrace
"$G" -o "$T/a.pcap" -n 20000 -s 7 --truth "$T/a.pcap.json" >"$T/a.out" ||
	fail "gentrace runs"
"$G" -o "$T/b.pcap" -n 20000 -s 7 --truth "$T/b.pcap.json" >/dev/null
"$G" -o "$T/c.pcap" -n 20000 -s 8 >/dev/null
eq "gentrace: same arguments, same bytes" "$(sha "$T/b.pcap")" \
    "$(sha "$T/a.pcap")"
check "gentrace: same truth file" cmp -s "$T/a.pcap.json" "$T/b.pcap.json"
check "gentrace: another seed, another trace" \
    test "$(sha "$T/c.pcap")" != "$(sha "$T/a.pcap")"
check "gentrace: summary line" grep -q \
    '^gentrace: 20000 packets, [0-9]* bytes, [0-9]* conversations' "$T/a.out"
eq "gentrace: no malformed or bad-checksum packets" "$(bad_count "$T/a.pcap")" 0
truth_checks gentrace "$T/a.pcap"
# The content the benchmark relies on.
f=$T/a.pcap
srv='($8 == 80 || $8 == 443 || $8 == 993 || $8 == 8080)'
cli='($9 == 80 || $9 == 443 || $9 == 993 || $9 == 8080)'
v6=$(jq '.ipv6_packets * 100 / .packets | floor' "$f.json")
check "gentrace: IPv6 is 5-20% of packets ($v6%)" test "$v6" -ge 5 -a "$v6" -le 20
check "gentrace: some 802.1Q tagged packets" test "$(jq .vlan_packets "$f.json")" -gt 0
check "gentrace: FIN from clients" test "$(count "$f" "\$12 == 1 && $cli")" -gt 0
check "gentrace: FIN from servers" test "$(count "$f" "\$12 == 1 && $srv")" -gt 0
check "gentrace: RST from clients" test "$(count "$f" "\$13 == 1 && $cli")" -gt 0
check "gentrace: RST from servers" test "$(count "$f" "\$13 == 1 && $srv")" -gt 0
check "gentrace: DNS answers" test "$(count "$f" '$14 == 1')" -gt 0
check "gentrace: ping requests and replies" test \
    "$(count "$f" '$15 == 8 || $16 == 128')" -gt 0 -a \
    "$(count "$f" '$15 == "0" || $16 == 129')" -gt 0
eq "gentrace: scanner SYNs to distinct ports" "$(distinct "$f" \
    '$1 == "10.1.2.66" && $8 == 62000 && $10 == 1' 9)" \
    "$(jq .scan.ports "$f.json")"
eq "gentrace: sweeper SYNs to distinct addresses" "$(distinct "$f" \
    '$1 == "10.1.1.77" && $8 == 62001 && $10 == 1' 2)" \
    "$(jq .sweep.hosts "$f.json")"
# The expert check can fail: one flipped payload byte is a bad checksum.
python3 - "$f" "$T/bad.pcap" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 24
for _ in range(100):            # the first frame with 100+ bytes
    n = struct.unpack_from("<I", d, off + 8)[0]
    if n >= 100:
        d[off + 16 + n - 1] ^= 0x55
        break
    off += 16 + n
open(sys.argv[2], "wb").write(d)
EOF
check "gentrace: a corrupted copy is caught" test "$(bad_count "$T/bad.pcap")" -ge 1

# --- genflood -----------------------------------------------------------
F=$TOOLS/genflood
"$F" -o "$T/f.pcap" -n 20000 -d 2000 --targets 2 --legit 20 --answer 100 \
    --truth "$T/f.pcap.json" >/dev/null || fail "genflood runs"
"$F" -o "$T/g.pcap" -n 20000 -d 2000 --targets 2 --legit 20 --answer 100 \
    >/dev/null
eq "genflood: same arguments, same bytes" "$(sha "$T/g.pcap")" \
    "$(sha "$T/f.pcap")"
eq "genflood: no malformed or bad-checksum packets" "$(bad_count "$T/f.pcap")" 0
truth_checks genflood "$T/f.pcap"
eq "genflood: one conversation per SYN plus the legitimate ones" \
    "$(jq .conversations.tcp "$T/f.pcap.json")" 20020
eq "genflood: SYN-ACKs = truth answered" "$(count "$T/f.pcap" \
    '$10 == 1 && $11 == 1 && $8 == 80')" "$(jq .flood.answered "$T/f.pcap.json")"
"$F" -o "$T/h.pcap" -n 5000 -6 --legit 5 >/dev/null
dump "$T/h.pcap"
eq "genflood -6: every SYN from its own address" "$(distinct "$T/h.pcap" \
    '$9 == 80' 3)" 5000

# --- gendemo ------------------------------------------------------------
D=$TOOLS/gendemo
"$D" -o "$T/d.pcap" --truth "$T/d.pcap.json" >/dev/null || fail "gendemo runs"
"$D" -o "$T/e.pcap" >/dev/null
eq "gendemo: same arguments, same bytes" "$(sha "$T/e.pcap")" \
    "$(sha "$T/d.pcap")"
eq "gendemo: no malformed or bad-checksum packets" "$(bad_count "$T/d.pcap")" 0
truth_checks gendemo "$T/d.pcap"
f=$T/d.pcap
eq "gendemo: scanner SYNs to ports of .20" "$(count "$f" \
    '$1 == "192.168.1.66" && $2 == "192.168.1.20" && $10 == 1 && $8 == 58812')" \
    "$(jq .scan.ports "$f.json")"
check "gendemo: the NAS mostly resets" test "$(count "$f" \
    '$1 == "192.168.1.20" && $13 == 1')" -gt 1000
eq "gendemo: a few open ports answer SYN-ACK" "$(count "$f" \
    '$1 == "192.168.1.20" && $2 == "192.168.1.66" && $10 == 1 && $11 == 1')" 7
eq "gendemo: sweep targets" "$(distinct "$f" '$8 == 58813 && $10 == 1 &&
    $11 == 0' 2)" "$(jq .sweep.targets "$f.json")"
check "gendemo: 300+ sweep targets" test "$(jq .sweep.targets "$f.json")" -ge 300
check "gendemo: a few thousand packets" \
    test "$(jq .packets "$f.json")" -ge 2000 -a "$(jq .packets "$f.json")" -le 20000
check "gendemo: a few minutes of packet time" \
    test "$(jq '.duration_s | floor' "$f.json")" -ge 120
for h in 10 11 66; do
	check "gendemo: 192.168.1.$h has traffic" \
	    test "$(count "$f" "\$1 == \"192.168.1.$h\"")" -gt 10
done
first=$(awk -F'\t' '$8 == 58812 { print int($17); exit }' "$f.tsv")
check "gendemo: the scan starts after a minute of normal traffic ($first s)" \
    test "${first:-0}" -ge 55
exit 0
