# Flow export against real collectors: Debian's nfcapd stores what xp_send
# exports (NetFlow v5, NetFlow v9, IPFIX biflow and unidirectional), nfdump
# reads it back, and flows, packets and bytes per 5-tuple must equal what
# xp_send says it sent.  tshark's cflow dissector checks sequence numbers
# (its own sequence analysis for v9/IPFIX, arithmetic for v5), template
# refresh by count and by flow time, and the sampling fields, on datagrams
# xp_send writes to a pcap (and, as root, on a tcpdump capture of lo).
#
# nfcapd is started per run on 127.0.0.1 and a free high port:
#   nfcapd -w DIR -p PORT -b 127.0.0.1 -t 3600
# and stopped with SIGTERM (it writes nfcapd.YYYYMMDDhhmm then); its log
# line "Sequence Errors: N" is nfcapd's own sequence check.  Every wait is
# bounded; nfcapd and tcpdump are killed on exit whatever happens.
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/lib/nfcapd.sh"
need_cmd nfcapd nfdump tshark editcap
XP=$TOOLS/xp_send
[ -x "$XP" ] || { fail "xp_send not built ($XP)"; exit 1; }
T=$T_TMP
echo "# $(nfcapd -V 2>&1 | head -1), $(nfdump -V 2>&1 | head -1), $(tshark -v 2>/dev/null | head -1)"

NFC_PID=
# One export into a fresh nfcapd; compare per 5-tuple.
run_nfcapd() {	# name scale xp_send-args... (scale: sampling multiplier)
	local name=$1 scale=$2 port dir out
	shift 2
	port=$(free_port)
	dir=$T/nfc-$name
	if ! start_nfcapd "$dir" "$port"; then
		fail "$name: nfcapd did not start: $(tail -2 "$dir.log")"
		return
	fi
	timeout 60 "$XP" "$@" -o "$dir.exp" "${XP_TARGET_KIND}@127.0.0.1:$port" \
	    2>"$dir.xp"
	out=$?
	sleep 0.3		# let nfcapd read its socket empty
	stop_nfcapd
	if [ $out -ne 0 ]; then
		fail "$name: xp_send exit $out: $(cat "$dir.xp")"
		return
	fi
	echo "# $name: $(cat "$dir.xp")"
	LC_ALL=C sort "$dir.exp" | awk -v s="$scale" \
	    '{ print $1, $2, $3, $4, $5, $6, $7 * s, $8 * s, $9 * s, $10 * s }' \
	    >"$dir.want"
	nfdump_totals "$dir" >"$dir.got"
	eq "$name: 5-tuples stored" "$(wc -l <"$dir.got")" "$(wc -l <"$dir.want")"
	eq "$name: flows stored" "$(awk '{ n += $6 } END { print n + 0 }' "$dir.got")" \
	    "$(awk '{ n += $6 } END { print n + 0 }' "$dir.want")"
	if diff "$dir.want" "$dir.got" >"$dir.diff"; then
		ok "$name: flows, packets, bytes per 5-tuple identical"
	else
		fail "$name: per 5-tuple differences: $(head -4 "$dir.diff" | tr '\n' '|')"
	fi
	LAST_DIR=$dir
}

# --- nfcapd / nfdump -----------------------------------------------------

XP_TARGET_KIND=netflow5 run_nfcapd netflow5 1 -n 300
check "netflow5: nfcapd saw no sequence errors" grep -q 'Sequence Errors: 0' "$LAST_DIR.log"
check "netflow5: only IPv4 stored" test -z "$(grep ':' "$LAST_DIR.got")"
check "netflow5: IPv6 conversations counted as skipped" grep -q ' [1-9][0-9]* skipped' "$LAST_DIR.xp"

XP_TARGET_KIND=netflow9 run_nfcapd netflow9 1 -n 300
check "netflow9: nfcapd saw no sequence errors" grep -q 'Sequence Errors: 0' "$LAST_DIR.log"
check "netflow9: IPv6 stored too" grep -q '2001:db8' "$LAST_DIR.got"

XP_TARGET_KIND=ipfix run_nfcapd ipfix-biflow 1 -n 300
check "ipfix-biflow: nfcapd saw no sequence errors" grep -q 'Sequence Errors: 0' "$LAST_DIR.log"
check "ipfix-biflow: reverse counters stored (opkts > 0)" \
    test -n "$(awk '$9 > 0' "$LAST_DIR.got")"
# nfdump 1.7.1 puts reverseTcpControlBits in the forward flags slot unless
# the forward element comes later in the template; see xpenc.c.
flags=$(nfdump -R "$LAST_DIR" -q -o csv 2>/dev/null | awk -F, '$8 == "TCP" { print $9 }' | sort -u | tr '\n' ' ')
eq "ipfix-biflow: TCP flags are the initiator's (...AP.SF)" "$flags" "...AP.SF "

XP_TARGET_KIND=ipfix run_nfcapd ipfix-uni 1 -n 300 -u
check "ipfix-uni: nfcapd saw no sequence errors" grep -q 'Sequence Errors: 0' "$LAST_DIR.log"

# Sampling carried in the export: nfdump scales counters by the interval
# (v5 header field; IPFIX options record).  nfdump 1.7.1 does not apply
# NetFlow v9 options-template sampling (any layout tried), so v9 sampling is
# checked with tshark below.  nfcapd 1.7.1 counts IPFIX sequence numbers
# without options records (RFC 7011 and tshark count them), so its
# "Sequence Errors" is not asserted for sampled IPFIX.
XP_TARGET_KIND=netflow5 run_nfcapd netflow5-sampled-10 10 -n 100 -s 10
XP_TARGET_KIND=ipfix run_nfcapd ipfix-sampled-10 10 -n 100 -s 10

# A burst (a whole table flushed at end of input) paced by the default
# 20000 records/s in lossless mode: nothing lost with nfcapd's default
# receive buffer.  Compared through nfcapd's own totals (nfdump -I), which
# is fast; the unpaced figure is printed, not asserted.
burst() {	# name xp_send-args...
	local name=$1 port dir
	shift
	port=$(free_port)
	dir=$T/nfc-$name
	start_nfcapd "$dir" "$port" || { fail "$name: nfcapd did not start"; return 1; }
	timeout 60 "$XP" "$@" -o "$dir.exp" "netflow9@127.0.0.1:$port" 2>"$dir.xp"
	sleep 0.3
	stop_nfcapd
	echo "# $name: $(cat "$dir.xp")"
	BURST_WANT=$(awk '{ f += $6; p += $7; b += $8 } END { print f, p, b }' "$dir.exp")
	BURST_GOT=$(nfdump -R "$dir" -I 2>/dev/null | awk '
		/^Flows:/ { f = $2 } /^Packets:/ { p = $2 } /^Bytes:/ { b = $2 }
		END { print f + 0, p + 0, b + 0 }')
}
if burst burst-paced -n 20000 -L; then
	eq "burst-paced: 41000 flows, packets, bytes all stored" "$BURST_GOT" "$BURST_WANT"
fi
if burst burst-unpaced -n 20000 -r 0; then
	echo "# unpaced burst: nfcapd stored ${BURST_GOT%% *} of ${BURST_WANT%% *} flows"
fi

# --- tshark cflow dissector on the encoder's datagrams --------------------

# One tshark pass per pcap (tshark starts slowly), columns:
#  1 frame  2 time  3 version  4 count  5 sequence  6 template ids
#  7 expected_sn (only when tshark's sequence analysis disagrees)
#  8 v5 sampling mode  9 v5 sampling rate  10 sampling interval
#  11 samplingPacketSpace
cflow() {	# pcap port
	tshark -n -r "$1" -d "udp.port==$2,cflow" -T fields -E occurrence=f \
	    -e frame.number -e frame.time_epoch -e cflow.version \
	    -e cflow.count -e cflow.sequence -e cflow.template_id \
	    -e cflow.sequence_analysis.expected_sn -e cflow.samplingmode \
	    -e cflow.samplerate -e cflow.sampling_interval \
	    -e cflow.sampling_packet_space 2>/dev/null
}
col() { awk -F'\t' -v c="$1" '$c != "" { print $c }'; }

for kind in netflow5 netflow9 ipfix; do
	p=$T/$kind.pcap
	if ! "$XP" -n 300 -D 5 -T 0 -m 1000 -s 10 -w "$p" -o /dev/null \
	    "$kind@127.0.0.1:9995" 2>"$p.xp"; then
		fail "$kind: xp_send -w: $(cat "$p.xp")"
		continue
	fi
	cflow "$p" 9995 >"$p.tsv"
	n=$(wc -l <"$p.tsv")
	want=$(case $kind in netflow5) echo 5;; netflow9) echo 9;; *) echo 10;; esac)
	eq "$kind pcap: all $n frames dissected as cflow v$want" \
	    "$(col 3 <"$p.tsv" | sort -u | tr '\n' ' ')" "$want "
	if [ $kind = netflow5 ]; then
		# flow_sequence(i+1) = flow_sequence(i) + count(i).
		bad=$(awk -F'\t' 'NR > 1 && $5 != want { bad++ } { want = $5 + $4 }
		    END { print bad + 0 }' "$p.tsv")
		eq "$kind pcap: flow_sequence counts flows" "$bad" 0
		eq "$kind pcap: sampling mode 1, interval 10" \
		    "$(awk -F'\t' '{ print $8, $9 }' "$p.tsv" | sort -u)" "1 10"
		continue
	fi
	eq "$kind pcap: tshark sequence analysis finds no gap" \
	    "$(col 7 <"$p.tsv" | wc -l)" 0
	# Control: drop datagram 3, tshark must notice.
	editcap "$p" "$p.gap" 3 >/dev/null 2>&1
	eq "$kind pcap: control, a dropped datagram is flagged" \
	    "$(cflow "$p.gap" 9995 | col 7 | wc -l)" 1
	# -D 5: templates in datagrams 1, 7, 13, ... (after 5 without).
	bad=$(awk -F'\t' '{ want = ($1 - 1) % 6 == 0; has = $6 != "" }
	    want != has { bad++ } END { print bad + 0 }' "$p.tsv")
	eq "$kind pcap: templates refreshed every 6th datagram" "$bad" 0
	eq "$kind pcap: sampling interval 10 with every template" \
	    "$(awk -F'\t' '$6 != "" { print $10 }' "$p.tsv" | sort -u)" 10
	if [ $kind = ipfix ]; then
		eq "$kind pcap: samplingPacketSpace 9" \
		    "$(col 11 <"$p.tsv" | sort -u)" 9
		# The options records count in the IPFIX sequence (RFC 7011
		# section 3.1); tshark agrees (no expected_sn above).
	fi
done

# Refresh by flow time: records spread over 60 s (cut records reach 180
# s), refresh every 10 s.  A datagram is started when the previous one is
# emitted, so its start time is the previous frame's time (the pcap stamps
# are the flow time of each emit): a datagram carries templates exactly
# when it starts 10 s or more after the last one that did.  The first
# datagram's start is only bounded by its own stamp, so distances from it
# are checked one way only.
for kind in netflow9 ipfix; do
	p=$T/$kind-time.pcap
	"$XP" -n 300 -S 60 -T 10 -D 0 -w "$p" -o /dev/null "$kind@127.0.0.1:9995" 2>/dev/null
	res=$(cflow "$p" 9995 | awk -F'\t' '
		NR == 1 { if ($6 == "") bad++; last = $2; exact = 0; prev = $2; n = 1; next }
		{
			start = prev; prev = $2; has = $6 != ""
			if (has) {
				n++
				if (exact && start - last < 10) bad++
				last = start; exact = 1
			} else if (start - last >= 10)
				bad++
		}
		END { print n, bad + 0 }')
	set -- $res
	check "$kind pcap: templates resent every 10 s of flow time ($1 times)" \
	    test "${2:-1}" -eq 0 -a "${1:-0}" -ge 6
done

# --- the real datagrams on lo (root only) ---------------------------------

if [ "$(id -u)" -eq 0 ] && command -v tcpdump >/dev/null; then
	port=$(free_port)
	cap=$T/lo.pcap
	# Immediate mode: a TPACKET_V3 block not yet timed out is lost on
	# SIGINT; a 8 MiB buffer holds the burst.
	tcpdump -i lo -n -U --immediate-mode -B 8192 -w "$cap" \
	    "udp and dst port $port" >"$cap.log" 2>&1 &
	tpid=$!
	T_CLEANUP+=("kill -9 $tpid 2>/dev/null")
	for i in $(seq 50); do grep -q listening "$cap.log" && break; sleep 0.1; done
	if start_nfcapd "$T/nfc-lo" "$port"; then
		"$XP" -n 300 -D 5 -T 0 -o /dev/null "ipfix@127.0.0.1:$port" 2>"$cap.xp"
		sleep 0.3
		stop_nfcapd
	fi
	sleep 0.5
	kill -INT $tpid 2>/dev/null
	for i in $(seq 50); do kill -0 $tpid 2>/dev/null || break; sleep 0.1; done
	kill -9 $tpid 2>/dev/null
	wait $tpid 2>/dev/null
	sent=$(sed -n 's/.* flows, \([0-9]*\) datagrams,.*/\1/p' "$cap.xp")
	cflow "$cap" "$port" >"$cap.tsv"
	eq "lo capture: every datagram xp_send counted was on the wire" \
	    "$(col 3 <"$cap.tsv" | grep -c '^10$')" "$sent"
	eq "lo capture: tshark sequence analysis finds no gap" \
	    "$(col 7 <"$cap.tsv" | wc -l)" 0
	bad=$(awk -F'\t' '{ want = ($1 - 1) % 6 == 0; has = $6 != "" }
	    want != has { bad++ } END { print bad + 0 }' "$cap.tsv")
	eq "lo capture: templates in every 6th datagram" "$bad" 0
else
	skip "lo capture: needs root and tcpdump"
fi
exit 0
