#!/usr/bin/env bash
# capture_caps.sh: the capture caps hold at every moment, through sensord.
#
# gentrace's office (1M packets, 108 s) is replayed with a policy whose
# `conns.1m = 150` escalates its busiest clients, its scanner and its
# sweeper (8 at once, more queued), and small caps.  The policy refuses
# caps below 1 MiB, so: file_size 1 MiB, host_cap 2 MiB, global_cap 4 MiB,
# and the escalated hosts push at least ten times the host cap through
# them (checked: a lower bound from the flow log).
#
# What each cap covers (sensord/spool.h):
#   file_size   one capture file's on-disk bytes: the .pcap.gz, and the
#               .pcap.gz.part it is while being written; not its sidecar
#   host_cap    everything in the host's directory: files, .part, sidecars
#               (.json and the .json.tmp of an atomic write), quarantine/
#   global_cap  the same over every host directory
#
# Checked while the replay runs, two ways:
#  1. a poller freezes the daemon (SIGSTOP), lists STATE/captures with
#     `find -printf '%s %p'`, lets it go on (SIGCONT) and checks the three
#     caps, as fast as it can.  Freezing makes each listing a true snapshot:
#     find stats files one by one, and a file deleted to make room while
#     another grows could otherwise be counted before and after the change
#     and look like a violation that never was on disk.
#  2. with strace, a second replay logs every system call that changes a
#     file under captures/ (openat, pwrite64, rename*, unlink*, ftruncate,
#     with paths: -y) and the log is replayed into a model of the directory:
#     the caps are checked after each call, i.e. at every moment.
# Then the end state: every file verifies, both kinds of deletion and the
# global-cap suspension happened (so the caps were really pressed).
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/sh/capture.inc"
need_cmd jq tshark capinfos tcpdump sha256sum zcat

T=$(tmpdir)
FILE_CAP=$((1 << 20)) HOST_CAP=$((2 << 20)) GLOBAL_CAP=$((4 << 20))
"$TOOLS/gentrace" -o "$T/gt.pcap" -n 1000000 -s 1 >/dev/null 2>&1 ||
    fail "gentrace"
small_policy "$T/pol" "[capture]" "file_size = 1MiB" "host_cap = 2MiB" \
    "global_cap = 4MiB" "min_free = 0B" "max_escalated = 8" \
    "[absolute]" "conns.1m = 150"

# check_snap: "path size" lines (relative to captures/) on stdin; prints
# "max_file max_host total" and one "V ..." line per cap exceeded.
check_snap() {
	awk -v F="$FILE_CAP" -v H="$HOST_CAP" -v G="$GLOBAL_CAP" '
	{
		split($1, p, "/")
		tot += $2; host[p[1]] += $2
		if ($1 ~ /\.pcap\.gz(\.part)?$/) {
			if ($2 > mf) mf = $2
			if ($2 > F) print "V file", $1, $2
		}
	}
	END {
		for (h in host) {
			if (host[h] > mh) mh = host[h]
			if (host[h] > H) print "V host", h, host[h]
		}
		if (tot > G) print "V global", tot
		printf "%.0f %.0f %.0f\n", mf, mh, tot
	}'
}

# --- 1. SIGSTOP snapshots while it runs ----------------------------------
S=$T/s1
"$SENSORD" -r "$T/gt.pcap" -D "$S" -p "$T/pol" --home-net 10.1.0.0/16 \
    >"$T/s1.out" 2>&1 &
pid=$!
T_CLEANUP+=("kill -CONT $pid 2>/dev/null; kill $pid 2>/dev/null")
: >"$T/polls"
while kill -0 "$pid" 2>/dev/null; do
	kill -STOP "$pid" 2>/dev/null || break
	find "$S/captures" -type f -printf '%P %s\n' >"$T/snap" 2>/dev/null
	kill -CONT "$pid" 2>/dev/null
	check_snap <"$T/snap" >>"$T/polls"
done
wait "$pid"
eq "sensord -r exits 0" "$?" 0
npoll=$(grep -vc '^V' "$T/polls")
nbusy=$(awk -v G="$GLOBAL_CAP" '!/^V/ && $3 > G / 2' "$T/polls" | wc -l)
read -r mf mh mt < <(grep -v '^V' "$T/polls" | awk '
    $1 > a { a = $1 } $2 > b { b = $2 } $3 > c { c = $3 }
    END { printf "%.0f %.0f %.0f\n", a, b, c }')
echo "# $npoll snapshots ($nbusy with more than half the global cap in" \
    "use); largest seen: file $mf, host $mh, all $mt bytes"
check "snapshots taken while the caps were under pressure ($nbusy)" \
    [ "$nbusy" -ge 20 ]
eq "snapshots: no file above file_size $FILE_CAP" \
    "$(grep -c '^V file' "$T/polls")" 0
eq "snapshots: no host above host_cap $HOST_CAP (files + sidecars)" \
    "$(grep -c '^V host' "$T/polls")" 0
eq "snapshots: all hosts together never above global_cap $GLOBAL_CAP" \
    "$(grep -c '^V global' "$T/polls")" 0
grep '^V' "$T/polls" | head -3 | sed 's/^/# /'

# The load: at least 10 x host_cap offered to the capture.  Lower bound:
# the bytes of the escalated hosts' conversations that started after the
# host's escalation (every packet of those was for its capture).
jq -r 'select(.event == "escalate" and .action == "capture started") |
    "\(.host) \(.ts)"' "$S/events.jsonl" >"$T/esc"
offered=$(zcat "$S"/flows/*.gz | jq -r '"\(.src) \(.dst) \(.start) \(.src_bytes + .dst_bytes)"' |
    awk 'FILENAME == ARGV[1] { e[$1] = $2; next }
	($1 in e && $3 >= e[$1]) || ($2 in e && $3 >= e[$2]) { s += $4 }
	END { printf "%.0f\n", s }' "$T/esc" -)
echo "# $(wc -l <"$T/esc") hosts escalated; at least $offered bytes offered"
check "at least 10 x host_cap offered to the capture ($offered)" \
    [ "$offered" -ge $((10 * HOST_CAP)) ]
for w in host_cap global_cap; do
	n=$(jq -r --arg w "$w" 'select(.event == "capture_deleted" and
	    .why == $w) | .file' "$S/events.jsonl" | wc -l)
	check "oldest files deleted for the $w ($n)" [ "$n" -ge 1 ]
done
n=$(jq -r 'select(.event == "suspend" and .why == "global_cap") | .host' \
    "$S/events.jsonl" | wc -l)
check "hosts suspended while open files fill the global cap ($n)" \
    [ "$n" -ge 1 ]
gone=0
for f in $(jq -r 'select(.event == "capture_deleted") | .file' \
    "$S/events.jsonl"); do
	[ -e "$S/captures/$f" ] || [ -e "$S/captures/$f.json" ] &&
	    gone=$((gone + 1))
done
eq "every deleted file is gone with its sidecar" "$gone" 0
eq "every file left verifies (sha256, zcat | tcpdump, capinfos)" \
    "$(cap_verify_files "$S")" 0
check_snap < <(find "$S/captures" -type f -printf '%P %s\n') >"$T/end"
eq "end state within every cap" "$(grep -c '^V' "$T/end")" 0

# --- 2. every system call, replayed into a model --------------------------
if ! command -v strace >/dev/null; then
	skip "capture_caps: strace not installed (syscall-exact check)"
	exit 0
fi
S=$T/s2
# Offline the writer is inline: the main thread makes every file call.
# LeakSanitizer cannot run under ptrace: leaks are checked in part 1.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -o "$T/strace" -y -s 0 -e signal=none \
    -e trace=openat,pwrite64,rename,renameat,renameat2,unlink,unlinkat,ftruncate \
    "$SENSORD" -r "$T/gt.pcap" -D "$S" -p "$T/pol" --home-net 10.1.0.0/16 \
    >"$T/s2.out" 2>&1
eq "sensord -r under strace exits 0" "$?" 0
awk -v F="$FILE_CAP" -v H="$HOST_CAP" -v G="$GLOBAL_CAP" \
    -v C="$S/captures/" '
function rel(p) { return index(p, C) == 1 ? substr(p, length(C) + 1) : "" }
# "dirfd</dir>, \"name\"" -> the path
function join(d, n) { return substr(n, 1, 1) == "/" ? n : d "/" n }
function fdpath(s,   a) { return match(s, /<[^>]*>/) ? substr(s, RSTART + 1, RLENGTH - 2) : "" }
function arg(s, i,   a) { split(s, a, ", "); return a[i] }
function str(s) { gsub(/"/, "", s); return s }
function check(   h, t, k, p) {
	t = 0
	for (k in hsz) delete hsz[k]
	for (k in sz) {
		split(k, p, "/"); hsz[p[1]] += sz[k]; t += sz[k]
		if (k ~ /\.pcap\.gz(\.part)?$/ && sz[k] > F && !(k in vf)) {
			vf[k] = 1; print "V file", k, sz[k]
		}
		if (sz[k] > mf && k ~ /\.pcap\.gz(\.part)?$/) mf = sz[k]
	}
	for (h in hsz) {
		if (hsz[h] > H) print "V host", h, hsz[h], "after line", NR
		if (hsz[h] > mh) mh = hsz[h]
	}
	if (t > G) print "V global", t, "after line", NR
	if (t > mt) mt = t
	n++
}
/^pwrite64\(/ {
	if ($0 ~ /= -1/) next
	k = rel(fdpath($0)); if (k == "") next
	split($0, a, ", "); len = a[3] + 0; off = a[4]; sub(/\).*/, "", off)
	ret = $NF + 0
	if (off + ret > sz[k]) sz[k] = off + ret
	check(); next
}
/^openat\(/ {
	if ($0 ~ /= -1/) next
	split($0, r, " = "); k = rel(fdpath(r[2])); if (k == "") next
	if ($0 ~ /O_TRUNC/ || !(k in sz)) { sz[k] = 0; check() }
	next
}
/^ftruncate\(/ {
	if ($0 ~ /= -1/) next
	k = rel(fdpath($0)); if (k == "") next
	split($0, a, ", "); v = a[2]; sub(/\).*/, "", v); sz[k] = v + 0
	check(); next
}
/^(unlink|unlinkat)\(/ {
	if ($0 ~ /= -1/) next
	s = $0; sub(/^[a-z]*\(/, "", s)
	if (s ~ /^"/) k = rel(str(arg(s, 1)))
	else k = rel(join(fdpath(arg(s, 1)), str(arg(s, 2))))
	if (k in sz) { delete sz[k]; check() }
	next
}
/^rename(at2?)?\(/ {
	if ($0 ~ /= -1/) next
	s = $0; sub(/^[a-z0-9]*\(/, "", s); sub(/\) = [^)]*$/, "", s)
	if ($0 ~ /^rename\(/) { o = str(arg(s, 1)); d = str(arg(s, 2)) }
	else {
		o = join(fdpath(arg(s, 1)), str(arg(s, 2)))
		d = join(fdpath(arg(s, 3)), str(arg(s, 4)))
	}
	o = rel(o); d = rel(d)
	if (o in sz) { v = sz[o]; delete sz[o] } else v = 0
	if (d != "") sz[d] = v
	check(); next
}
END {
	for (k in sz) te += sz[k]
	printf "S %d %.0f %.0f %.0f %.0f\n", n, mf, mh, mt, te
}' "$T/strace" >"$T/model"
read -r _ nst mf mh mt tend < <(grep '^S' "$T/model")
echo "# strace: $nst changes under captures/; largest: file $mf, host $mh," \
    "all $mt bytes"
check "strace: file writes seen ($nst), caps pressed ($mt > $((GLOBAL_CAP * 3 / 4)))" \
    [ "$nst" -ge 100 ] && [ "$mt" -gt $((GLOBAL_CAP * 3 / 4)) ]
# The model must agree with the disk at the end, or it is no model.
check_snap < <(find "$S/captures" -type f -printf '%P %s\n') >"$T/end2"
eq "strace model ends where the disk is (total bytes)" "$tend" \
    "$(tail -1 "$T/end2" | cut -d' ' -f3)"
eq "strace: no file above file_size after any call" \
    "$(grep -c '^V file' "$T/model")" 0
eq "strace: no host above host_cap after any call" \
    "$(grep -c '^V host' "$T/model")" 0
eq "strace: never above global_cap after any call" \
    "$(grep -c '^V global' "$T/model")" 0
grep '^V' "$T/model" | head -3 | sed 's/^/# /'
exit 0
