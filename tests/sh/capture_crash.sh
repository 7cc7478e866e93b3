#!/usr/bin/env bash
# capture_crash.sh: kill -9 during heavy capture, then restart.
#
# Offline replay is inline and deterministic, so a run killed half-way can
# be compared with the same run left to finish (the reference): what the
# killed run left on disk must be a prefix of what the reference wrote.
# gentrace's office (600k packets); its busiest client 10.1.0.2 has an
# absolute limit of 1 connection a minute (hosts/busy.conf), so it is
# escalated at the first tick and captured in 1 MiB files; the flow log
# rotates every 1 MiB.  The daemon is killed (SIGKILL) once two capture
# files are closed and the third is well under way, then restarted on
# another trace.  Checked:
#  - every closed file verifies against its sidecar (sha256sum, zcat |
#    tcpdump -r -, capinfos);
#  - the .part left by the kill is recovered at restart: capture_recovered
#    event, sidecar "recovered": true, readable, and its packets are the
#    reference's (the killed run's captures are a prefix of the reference's
#    packets, up to the last member written);
#  - flow log: zcat reads every file to its end (the newest one possibly
#    to a cut member before restart, entirely after), and the records are
#    exactly the reference's first N (nothing lost before the last flush,
#    nothing torn, nothing reordered).
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/sh/capture.inc"
need_cmd jq tshark capinfos tcpdump sha256sum zcat

T=$(tmpdir)
DNS=$SHARED_PCAPS/traffic/ppa_dns.cap
"$TOOLS/gentrace" -o "$T/gt.pcap" -n 600000 -s 1 >/dev/null 2>&1 ||
    fail "gentrace"
small_policy "$T/pol" "log_file_size = 1MiB" "[capture]" "file_size = 1MiB" \
    "min_free = 0B"
printf '[host]\naddress = 10.1.0.2\n[absolute]\nconns.1m = 1\n' \
    >"$T/pol/hosts/busy.conf"
H=10.1.0.2

# flow_ids DIR: "conv_id seq" of every record zcat recovers, in file order.
flow_ids() {
	local f
	for f in $(ls "$1"/flows-*.jsonl.gz 2>/dev/null | sort); do
		zcat "$f" 2>/dev/null
	done | jq -r '"\(.conv_id) \(.seq)"' 2>/dev/null
}

# --- the reference: the same replay to its end -----------------------------
"$SENSORD" -r "$T/gt.pcap" -D "$T/ref" -p "$T/pol" --home-net 10.1.0.0/16 \
    >"$T/ref.out" 2>&1 || fail "reference replay exits 0"
mapfile -t RF < <(cap_files "$T/ref" "$H")
cap_frames "${RF[@]}" >"$T/ref.frames"
flow_ids "$T/ref/flows" >"$T/ref.flows"
echo "# reference: ${#RF[@]} capture files, $(wc -l <"$T/ref.frames")" \
    "packets of $H, $(wc -l <"$T/ref.flows") flow records"

# --- the crash -------------------------------------------------------------
S=$T/k
"$SENSORD" -r "$T/gt.pcap" -D "$S" -p "$T/pol" --home-net 10.1.0.0/16 \
    >"$T/k.out" 2>&1 &
pid=$!
T_CLEANUP+=("kill -9 $pid 2>/dev/null")
killed=0
while kill -0 "$pid" 2>/dev/null; do
	nc=$(find "$S/captures/$H" -name '*.pcap.gz' 2>/dev/null | wc -l)
	# well inside a file: not about to be closed at 1 MiB
	ps=$(find "$S/captures/$H" -name '*.part' -size +200k -size -600k \
	    2>/dev/null | wc -l)
	if [ "$nc" -ge 2 ] && [ "$ps" -ge 1 ]; then
		kill -9 "$pid" && killed=1
		break
	fi
	sleep 0.01
done
wait "$pid" 2>/dev/null
rc=$?
check "killed with SIGKILL during capture (status $rc)" \
    [ "$killed" -eq 1 ] && [ "$rc" -eq 137 ]
mapfile -t PART < <(find "$S/captures/$H" -name '*.part')
eq "one .part left behind" "${#PART[@]}" 1
[ "${#PART[@]}" -eq 1 ] || exit 0
mapfile -t CF < <(cap_files "$S" "$H")
echo "# killed with ${#CF[@]} closed files and $(stat -c %s "${PART[0]}" \
    2>/dev/null) bytes in ${PART[0]##*/}"
bad=0
for f in "${CF[@]}"; do
	[ -f "$f.json" ] || continue	# closed, sidecar not yet written
	[ "$(jq -r .sha256 "$f.json")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] ||
	    bad=$((bad + 1))
done
eq "every closed file with a sidecar verifies before restart" "$bad" 0

# The flow log as the kill left it: every file but the newest reads to its
# end; the newest to its last whole member.
mapfile -t FL < <(ls "$S"/flows/flows-*.jsonl.gz | sort)
bad=0
for f in "${FL[@]:0:${#FL[@]}-1}"; do
	zcat "$f" >/dev/null 2>&1 || bad=$((bad + 1))
done
eq "zcat reads every closed flow file to its end (${#FL[@]} files)" "$bad" 0
zcat "${FL[-1]}" >"$T/last.jsonl" 2>"$T/last.err"
check "every line of the newest flow file is a whole record" \
    jq -e . "$T/last.jsonl" >/dev/null
[ -s "$T/last.err" ] && echo "# zcat on the newest: $(head -c 100 "$T/last.err")"
flow_ids "$S/flows" >"$T/k.flows"
nk=$(wc -l <"$T/k.flows")
check "the killed run's flow log is the reference's first $nk records" \
    cmp -s "$T/k.flows" <(head -n "$nk" "$T/ref.flows")
check "some records written, not all ($nk of $(wc -l <"$T/ref.flows"))" \
    [ "$nk" -gt 0 ] && [ "$nk" -lt "$(wc -l <"$T/ref.flows")" ]

# --- restart -----------------------------------------------------------------
"$SENSORD" -r "$DNS" -D "$S" -p "$T/pol" >"$T/r.out" 2>&1
eq "restart exits 0" "$?" 0
rec=${PART[0]%.part}
check "the .part is finalised at restart" [ -f "$rec" ] && [ ! -e "${PART[0]}" ]
eq "capture_recovered event names it" \
    "$(jq -r --arg h "$H/" 'select(.event == "capture_recovered") | .file |
    select(startswith($h))' "$S/events.jsonl")" "${rec#"$S"/captures/}"
eq "its sidecar says recovered" "$(jq -r .recovered "$rec.json")" true
check "the recovered file passes gzip -t" gzip -t "$rec"
bad=0
for f in $(cap_files "$S"); do
	[ "$(jq -r .sha256 "$f.json")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] ||
	    bad=$((bad + 1))
	zcat "$f" | tcpdump -nn -r - >/dev/null 2>&1 || bad=$((bad + 1))
	capinfos -c "$f" >/dev/null 2>&1 || bad=$((bad + 1))
done
eq "after restart every file verifies (sha256, zcat | tcpdump, capinfos)" \
    "$bad" 0
mapfile -t KF < <(cap_files "$S" "$H")
cap_frames "${KF[@]}" >"$T/k.frames"
cap_frames "$rec" >"$T/rec.frames"
nr=$(wc -l <"$T/rec.frames")
nkp=$(wc -l <"$T/k.frames")
check "the recovered file holds packets ($nr)" [ "$nr" -gt 0 ]
check "the captured packets are the reference's first $nkp, in order" \
    cmp -s "$T/k.frames" <(head -n "$nkp" "$T/ref.frames")
eq "the recovered file's sidecar counts its packets" \
    "$(jq -r .packets "$rec.json")" "$nr"
bad=0
for f in $(ls "$S"/flows/flows-*.jsonl.gz); do
	zcat "$f" >/dev/null 2>&1 || bad=$((bad + 1))
done
eq "after restart zcat reads every flow file to its end" "$bad" 0
# (the restart's own records, from 2006, went to a file of their own)
check "the records before the kill are still there" \
    cmp -s <(for f in "${FL[@]}"; do zcat "$f"; done |
    jq -r '"\(.conv_id) \(.seq)"' | head -n "$nk") "$T/k.flows"
exit 0
