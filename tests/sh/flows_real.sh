# Flow engine on real captures: every IP packet and every IP-layer byte of a
# trace ends up in exactly one conversation record (nothing lost, nothing
# counted twice), and the conversations are the ones tshark sees.
#
# tshark is the independent reference: packets with an IP header and the
# outer IP length (IPv4 total length, IPv6 40 + payload length) summed with
# `-T fields`, and TCP/UDP conversations from `-z conv,tcp` / `conv,udp`.
# tshark keys a conversation by its 4-tuple over the whole file, while
# sensord cuts records at FIN/RST, the 30 s idle timeout and the active
# timeout, so records are compared as the set of distinct unordered
# 4-tuples (the number of records per tuple is printed, not asserted:
# ppa_evilprogram's 90 TCP 4-tuples are 158 records over its 5.7 hours),
# and per 4-tuple the frames each way, summed over its records, must equal
# tshark's "<-" and "->" frame columns.  Both print endpoints as
# address:port with RFC 5952 IPv6 text, so the keys compare as strings.
# tshark's byte columns are frame bytes (link header included, and printed
# with units such as kB), so bytes are checked in total above instead.
# Every trace in traffic/ matches exactly (tshark 4.0).
source "$TOP/tests/lib/lib.sh"
need_cmd tshark jq zcat
dir=$SHARED_PCAPS/traffic
[ -d "$dir" ] || { skip "flows_real: $dir missing"; exit 0; }

small_policy "$T_TMP/pol"
for f in "$dir"/*; do
	name=${f##*/}
	st=$T_TMP/$name
	"$SENSORD" -r "$f" -D "$st" -p "$T_TMP/pol" --summary json >"$st.json" 2>"$st.err"
	rc=$?
	if [ $rc -ne 0 ]; then fail "$name: sensord exit $rc: $(head -2 "$st.err")"; continue; fi

	# Reference: outer IP header of every frame that has one.
	read -r t_pkts t_bytes < <(tshark -n -r "$f" -T fields -E occurrence=a \
	    -E separator=/t -e frame.protocols -e ip.len -e ipv6.plen 2>/dev/null |
	    awk -F'\t' '{
		n = split($1, p, ":"); outer = "";
		for (i = 1; i <= n; i++) if (p[i] == "ip" || p[i] == "ipv6") { outer = p[i]; break }
		if (outer == "") next
		split($2, l4, ","); split($3, l6, ",")
		pk++; by += (outer == "ip") ? l4[1] : l6[1] + 40
	    } END { printf "%d %d\n", pk, by }')
	read -r r_pkts r_bytes < <(zcat "$st"/flows/*.gz 2>/dev/null |
	    jq -rs 'map(.src_pkts + .dst_pkts) as $p | map(.src_bytes + .dst_bytes) as $b |
		"\($p | add // 0) \($b | add // 0)"')
	eq "$name: packets in records = tshark IP packets" "$r_pkts" "$t_pkts"
	eq "$name: IP bytes in records = tshark IP bytes" "$r_bytes" "$t_bytes"
	s_pkts=$(jq -r .ip_packets "$st.json")
	eq "$name: summary IP packets = records" "$s_pkts" "$r_pkts"

	for proto in tcp:6 udp:17; do
		pn=${proto%%:*} pnum=${proto##*:}
		# "lo hi frames_lo->hi frames_hi->lo" per unordered 4-tuple.
		tshark -n -q -r "$f" -z "conv,$pn" 2>/dev/null |
		    awk '/<->/ { if ($1 < $3) print $1, $3, $7, $4
			else print $3, $1, $4, $7 }' |
		    awk '{ k = $1 " " $2; x[k] += $3; y[k] += $4 }
			END { for (k in x) print k, x[k], y[k] }' |
		    LC_ALL=C sort >"$st.$pn.tshark"
		zcat "$st"/flows/*.gz | jq -r --argjson p "$pnum" '
		    select(.proto == $p) |
		    "\(.src):\(.sport)" as $a | "\(.dst):\(.dport)" as $b |
		    if $a < $b then "\($a) \($b) \(.src_pkts) \(.dst_pkts)"
		    else "\($b) \($a) \(.dst_pkts) \(.src_pkts)" end' |
		    awk '{ k = $1 " " $2; x[k] += $3; y[k] += $4; r++ }
			END { for (k in x) print k, x[k], y[k]; print r + 0 >"/dev/stderr" }' \
		    2>"$st.$pn.nrec" | LC_ALL=C sort >"$st.$pn.sensord"
		s_rec=$(cat "$st.$pn.nrec")
		eq "$name: $pn conversations (distinct 4-tuples; $s_rec records)" \
		    "$(wc -l <"$st.$pn.sensord")" "$(wc -l <"$st.$pn.tshark")"
		if diff "$st.$pn.tshark" "$st.$pn.sensord" >"$st.$pn.diff"; then
			ok "$name: $pn frames each way per 4-tuple = tshark"
		else
			fail "$name: $pn per 4-tuple (< tshark, > sensord): $(grep '^[<>]' "$st.$pn.diff" | head -4 | tr '\n' '|')"
		fi
	done
done
