# sensord end to end: replay real traces with --export to nfcapd and check
# that what nfdump stored equals sensord's own flow log, per 5-tuple: flows,
# packets and bytes, for NetFlow v5 (IPv4 conversations only), NetFlow v9
# and IPFIX (biflow: one record per conversation with reverse counters; or
# unidirectional, whichever the daemon sends).  Nothing may be lost: an
# offline replay exports in lossless mode, whatever the burst at the end.
#
#   $SENSORD -r TRACE -D STATEDIR -p POLICYDIR --export KIND@127.0.0.1:PORT
#   flow log: STATEDIR/flows/*.jsonl.gz, JSON lines with proto, src, sport,
#   dst, dport, src_pkts, src_bytes, dst_pkts, dst_bytes (src = initiator)
#
# Skips until sensord's --help mentions --export.
source "$TOP/tests/lib/lib.sh"
if ! "$SENSORD" --help 2>&1 | grep -q -- '--export'; then
	skip "export_e2e: sensord has no --export yet"
	exit 0
fi
need_cmd nfcapd nfdump jq zcat
POLICY=${POLICY:-$TOP/policy}
[ -d "$POLICY" ] || { skip "export_e2e: no policy directory $POLICY"; exit 0; }
T=$T_TMP
TRACES="zeek_wikipedia.pcap ppa_dns.cap chrissanders_http_espn.pcapng"

free_port() {
	local p i
	for i in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		grep -qi ":$(printf %04X $p) " /proc/net/udp /proc/net/udp6 \
		    2>/dev/null || break
	done
	echo $p
}

NFC_PID=
start_nfcapd() {	# dir port
	local dir=$1 port=$2 i
	mkdir -p "$dir"
	nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -t 3600 >"$dir.log" 2>&1 &
	NFC_PID=$!
	T_CLEANUP+=("kill -9 $NFC_PID 2>/dev/null")
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

# The flow log as "proto src sport dst dport sp sb dp db", one per record.
flowlog_recs() {	# statedir
	zcat "$1"/flows/*.jsonl.gz 2>/dev/null | jq -r '
	    [.proto, .src, .sport, .dst, .dport, .src_pkts, .src_bytes,
	     .dst_pkts, .dst_bytes] | map(tostring) | join(" ")'
}

# What a collector should hold: mode uni (two uniflows, ICMP reverse with
# the reply type as the exporter documents), bi (one biflow), v5 (uni, IPv4
# only).  Same line format as nfdump_totals.
expect() {	# mode
	awk -v mode="$1" '
	function icmprev(p, tc,   t) {
		t = int(tc / 256)
		if (p == 1 && t == 8) return 0
		if (p == 1 && (t == 13 || t == 15 || t == 17)) return (t + 1) * 256
		if (p == 58 && t == 128) return 129 * 256
		return tc
	}
	function add(k, pk, by, op, ob) {
		f[k]++; P[k] += pk; B[k] += by; O[k] += op; Q[k] += ob
	}
	{
		p = $1
		if (p == "tcp") p = 6; else if (p == "udp") p = 17
		else if (p == "icmp") p = 1; else if (p == "icmp6") p = 58
		if (mode == "v5" && $2 ~ /:/) next
		if ($6 + $8 == 0) next
		if (mode == "bi") {
			add(p " " $2 " " $3 " " $4 " " $5, $6, $7, $8, $9)
			next
		}
		if ($6 > 0) add(p " " $2 " " $3 " " $4 " " $5, $6, $7, 0, 0)
		if ($8 > 0) {
			icmp = p == 1 || p == 58
			add(p " " $4 " " (icmp ? 0 : $5) " " $2 " " \
			    (icmp ? icmprev(p, $5) : $3), $8, $9, 0, 0)
		}
	}
	END { for (k in f) print k, f[k], P[k], B[k], O[k], Q[k] }' |
	    LC_ALL=C sort
}

for trace in $TRACES; do
	f=$SHARED_PCAPS/traffic/$trace
	[ -f "$f" ] || { skip "$trace: not in $SHARED_PCAPS/traffic"; continue; }
	for kind in netflow5 netflow9 ipfix; do
		name="$trace $kind"
		port=$(free_port)
		dir=$T/$trace-$kind
		st=$dir.state
		if ! start_nfcapd "$dir" "$port"; then
			fail "$name: nfcapd did not start"
			continue
		fi
		timeout 120 "$SENSORD" -r "$f" -D "$st" -p "$POLICY" \
		    --export "$kind@127.0.0.1:$port" >"$dir.out" 2>"$dir.err"
		rc=$?
		sleep 0.3
		stop_nfcapd
		if [ $rc -ne 0 ]; then
			fail "$name: sensord exit $rc: $(head -2 "$dir.err" | tr '\n' ' ')"
			continue
		fi
		flowlog_recs "$st" >"$dir.recs"
		if [ ! -s "$dir.recs" ]; then
			fail "$name: empty flow log in $st/flows"
			continue
		fi
		nfdump_totals "$dir" >"$dir.got"
		case $kind in
		netflow5) expect v5 <"$dir.recs" >"$dir.want" ;;
		netflow9) expect uni <"$dir.recs" >"$dir.want" ;;
		ipfix)
			# Biflow if the collector holds reverse counters or
			# one record per conversation; else unidirectional.
			expect bi <"$dir.recs" >"$dir.want"
			cmp -s "$dir.want" "$dir.got" ||
			    expect uni <"$dir.recs" >"$dir.want" ;;
		esac
		eq "$name: flows stored = flow log" \
		    "$(awk '{ n += $6 } END { print n + 0 }' "$dir.got")" \
		    "$(awk '{ n += $6 } END { print n + 0 }' "$dir.want")"
		if diff "$dir.want" "$dir.got" >"$dir.diff"; then
			ok "$name: flows, packets, bytes per 5-tuple = flow log"
		else
			fail "$name: differences: $(head -4 "$dir.diff" | tr '\n' '|')"
		fi
		check "$name: nfcapd saw no sequence errors" \
		    grep -q 'Sequence Errors: 0' "$dir.log"
	done
done
exit 0
