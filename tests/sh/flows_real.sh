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
# 4-tuples; the number of records per tuple is printed, not asserted.
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
		t_conv=$(tshark -n -q -r "$f" -z "conv,$pn" 2>/dev/null |
		    awk '/<->/ { print $1 " " $3 }' |
		    awk '{ split($1, a, ":"); split($2, b, ":");
			# Normalise order so both directions are one key.
			k1 = $1 " " $2; k2 = $2 " " $1; print (k1 < k2 ? k1 : k2) }' |
		    sort -u | wc -l)
		read -r s_conv s_rec < <(zcat "$st"/flows/*.gz | jq -r --argjson p "$pnum" '
		    select(.proto == $p) |
		    ((if (.src | test(":")) then "[" + .src + "]" else .src end) + ":" + (.sport|tostring)) as $a |
		    ((if (.dst | test(":")) then "[" + .dst + "]" else .dst end) + ":" + (.dport|tostring)) as $b |
		    if $a < $b then "\($a) \($b)" else "\($b) \($a)" end' |
		    sort | uniq -c | awk '{ n++; r += $1 } END { printf "%d %d\n", n, r }')
		# tshark prints IPv6 endpoints without brackets; compare counts.
		eq "$name: $pn conversations (distinct 4-tuples; $s_rec records)" "$s_conv" "$t_conv"
	done
done
