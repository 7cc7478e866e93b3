#!/usr/bin/env bash
# spool_tools.sh: capture files written through the spool writer (spoolw),
# checked with the tools people will use on them: gzip, zcat, capinfos,
# tshark, tcpdump, editcap, jq, sha256sum.  Packet data must come out
# identical to the source; sidecars must hash and chain; caps must hold on
# the real directory; a killed writer must leave files that recover; and on
# a full disk (a 4 MiB tmpfs, root only) the writer suspends once, keeps
# going, and resumes when room is back.
source "$TOP/tests/lib/lib.sh"
need_cmd tshark capinfos tcpdump zcat gzip jq sha256sum editcap

SPOOLW=$TOOLS/spoolw
ZBENCH=$TOOLS/zbench
T=$(tmpdir)
TR=$SHARED_PCAPS/traffic
SRC=$TR/lucaderi_doh_luca.pcap
[ -r "$SRC" ] || { skip "spool_tools: $SRC not found"; exit 0; }

files_of() {	# dir: closed capture files, oldest first (by id)
	ls "$1"/*.pcap.gz 2>/dev/null | sort -t_ -k2
}
pkts() {	# file: packet count as capinfos reads it
	capinfos -M -c "$1" 2>/dev/null | awk '/Number of packets/ {print $NF}'
}
body() {	# file: pcap records without the 24-byte global header
	zcat -f "$1" | tail -c +25
}

# --- 1. rotation by size, real tools, exact bytes -------------------------
"$SPOOLW" -q -d "$T/a" -a 192.168.1.17 -s 65535 -f 200000 "$SRC" \
    >"$T/a.out" || fail "spoolw exits 0"
D=$T/a/captures/192.168.1.17
mapfile -t F < <(files_of "$D")
check "size rotation: several files (${#F[@]})" [ "${#F[@]}" -ge 3 ]
big=0 bad_gz=0 bad_mode=0
for f in "${F[@]}"; do
	s=$(stat -c %s "$f")
	[ "$s" -gt "$big" ] && big=$s
	gzip -t "$f" 2>/dev/null || bad_gz=$((bad_gz + 1))
	[ "$(stat -c %a "$f")" = 640 ] || bad_mode=$((bad_mode + 1))
done
check "every file <= the 200000-byte cap (largest $big)" [ "$big" -le 200000 ]
eq "gzip -t passes on every file" "$bad_gz" 0
eq "files are 0640" "$bad_mode" 0
eq "host directory is 0750" "$(stat -c %a "$D")" 750
want=$(pkts "$SRC")
sum=0; for f in "${F[@]}"; do sum=$((sum + $(pkts "$f"))); done
eq "capinfos: packets over all files = source" "$sum" "$want"
sum=0; for f in "${F[@]}"; do
	sum=$((sum + $(tshark -n -r "$f" 2>/dev/null | wc -l)))
done
eq "tshark -r FILE.pcap.gz: packets over all files = source" "$sum" "$want"
n=$(zcat "${F[0]}" | tcpdump -nn -r - 2>/dev/null | wc -l)
eq "zcat FILE | tcpdump -r - reads the first file" "$n" "$(pkts "${F[0]}")"
# Byte for byte: the source's records = the files' records, in order.
tail -c +25 "$SRC" | sha256sum | cut -d' ' -f1 >"$T/src.sum"
for f in "${F[@]}"; do body "$f"; done | sha256sum | cut -d' ' -f1 \
    >"$T/out.sum"
eq "records identical to the source (sha256 of the pcap bodies)" \
    "$(cat "$T/out.sum")" "$(cat "$T/src.sum")"
tshark -n -r "$SRC" -T fields -e frame.len -e frame.cap_len \
    -e frame.time_epoch 2>/dev/null >"$T/src.fields"
for f in "${F[@]}"; do
	tshark -n -r "$f" -T fields -e frame.len -e frame.cap_len \
	    -e frame.time_epoch 2>/dev/null
done >"$T/out.fields"
check "tshark frame.len/cap_len/time_epoch identical" \
    cmp -s "$T/src.fields" "$T/out.fields"

# Sidecars: hash of the bytes, chain, counts, index, trigger.
bad_sha=0 bad_chain=0 bad_idx=0 prev=null psum=0
for f in "${F[@]}"; do
	j=$f.json
	[ "$(jq -r .sha256 "$j")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] ||
	    bad_sha=$((bad_sha + 1))
	[ "$(jq -r .prev_sha256 "$j")" = "$prev" ] || bad_chain=$((bad_chain + 1))
	prev=$(jq -r .sha256 "$j")
	psum=$((psum + $(jq .packets "$j")))
	# Members tile the file after the metadata member, to its end.
	[ "$(jq '([.members[] | .[1]] | add) + .members[0][0]' "$j")" = \
	    "$(stat -c %s "$f")" ] || bad_idx=$((bad_idx + 1))
	[ "$(jq '[.members[] | .[4]] | add' "$j")" = "$(jq .packets "$j")" ] ||
	    bad_idx=$((bad_idx + 1))
done
eq "sidecar sha256 = sha256sum of the file" "$bad_sha" 0
eq "each sidecar's prev_sha256 = the previous file's sha256" "$bad_chain" 0
eq "sidecar packet counts add up" "$psum" "$want"
eq "member index covers each file exactly" "$bad_idx" 0
j=${F[0]}.json
eq "sidecar host" "$(jq -r .host "$j")" 192.168.1.17
eq "sidecar trigger" "$(jq -r '.trigger.metric + "/" + (.trigger.event_id|tostring)' "$j")" spoolw/1
eq "sidecar link type and snaplen" "$(jq -r '"\(.link_type) \(.snaplen) \(.tstamp)"' "$j")" "1 65535 usec"
eq "sidecar file id matches the name" "$(jq -r .file_id "$j")" \
    "$(basename "${F[0]}" .pcap.gz | sed 's/.*_0*//')"
first=$(tshark -n -r "${F[0]}" -c1 -T fields -e frame.time_epoch 2>/dev/null)
eq "sidecar first_ns = first packet's time" \
    "$(jq -r .first_ns "$j")" "$(echo "$first" | tr -d .)"

# --- 2. a pcapng source (Wireshark's view of the packets is unchanged) ----
S2=$TR/chrissanders_http_espn.pcapng
"$SPOOLW" -q -d "$T/b" -a 172.16.0.122 -s 65535 -f 300000 "$S2" \
    >/dev/null || fail "spoolw on pcapng"
editcap -F pcap "$S2" "$T/espn.pcap" 2>/dev/null
mapfile -t F < <(files_of "$T/b/captures/172.16.0.122")
for f in "${F[@]}"; do body "$f"; done | sha256sum >"$T/b.sum"
tail -c +25 "$T/espn.pcap" | sha256sum >"$T/b.want"
check "pcapng in: records = editcap's pcap conversion (${#F[@]} files)" \
    cmp -s "$T/b.sum" "$T/b.want"

# --- 3. nanosecond files, another link type --------------------------------
S3=$SHARED_PCAPS/robustness/tcpdump/tcp-handshake-nano.pcap
"$SPOOLW" -q -n -d "$T/c" -a 10.0.0.1 "$S3" >/dev/null ||
    fail "spoolw -n"
f=$(files_of "$T/c/captures/10.0.0.1" | head -1)
eq "nsec file: magic a1b23c4d (little-endian)" \
    "$(zcat "$f" | head -c4 | od -An -tx1 | tr -d ' ')" 4d3cb2a1
check "nsec file: records identical to the source" \
    cmp -s <(tail -c +25 "$S3") <(body "$f")
eq "nsec file: tshark times to the nanosecond" \
    "$(tshark -n -r "$f" -T fields -e frame.time_epoch 2>/dev/null | head -1)" \
    "$(tshark -n -r "$S3" -T fields -e frame.time_epoch 2>/dev/null | head -1)"
S4=$TR/thiagosmith_beacon.pcap
"$SPOOLW" -d "$T/d" -a 192.168.58.20 -r 100 "$S4" >"$T/d.out" ||
    fail "spoolw -r"
eq "raw IPv4 link type kept" \
    "$(capinfos -E "$(files_of "$T/d/captures/192.168.58.20" | head -1)" | awk -F': *' '/encapsulation/ {print $2}')" \
    "$(capinfos -E "$S4" | awk -F': *' '/encapsulation/ {print $2}')"
eq "time rotation: files closed by the 100 s interval" \
    "$(grep -c 'file_closed why=rotate_time' "$T/d.out")" 2

# --- 4. host cap on the real directory ------------------------------------
"$SPOOLW" -d "$T/e" -a 192.168.1.17 -s 65535 -f 100000 -H 300000 "$SRC" \
    >"$T/e.out" || fail "spoolw -H"
tot=$(du -b -s "$T/e/captures/192.168.1.17" | cut -f1)
dirb=$(stat -c %s "$T/e/captures/192.168.1.17")
tot=$((tot - dirb))
check "host directory total $tot <= host cap 300000" [ "$tot" -le 300000 ]
nd=$(grep -c 'event file_deleted why=host_cap' "$T/e.out")
check "oldest files deleted for the host cap ($nd)" [ "$nd" -ge 2 ]
oldest_kept=$(files_of "$T/e/captures/192.168.1.17" | head -1 | sed 's/.*_0*//; s/\.pcap\.gz//')
newest_del=$(grep 'file_deleted' "$T/e.out" | tail -1 | sed 's/.*_0*\([0-9]*\)\.pcap\.gz.*/\1/')
check "deleted files are older than every kept one ($newest_del < $oldest_kept)" \
    [ "$newest_del" -lt "$oldest_kept" ]
eq "no suspension while old files could go" \
    "$(grep -c 'event suspended' "$T/e.out")" 0

# --- 5. kill -9 mid-write, restart recovers --------------------------------
"$ZBENCH" gen "$T/syn.pcap" 20 7 >/dev/null
mkdir -p "$T/k"
# One large file: the kill lands inside it, not in a close (when no .part
# exists for a moment).
"$SPOOLW" -q -d "$T/k" -c 65536 -f 500000000 -L 50 "$T/syn.pcap" \
    >/dev/null 2>&1 &
pid=$!
sleep 1.5
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
K=$T/k/captures/192.0.2.1
np=$(ls "$K"/*.part 2>/dev/null | wc -l)
check "killed writer left a .part ($np)" [ "$np" -eq 1 ]
part=$(ls "$K"/*.part 2>/dev/null | head -1)
# zcat of the torn .part prints what inflates, then complains.
zcat "$part" >/dev/null 2>"$T/zcat.err"
echo "# zcat on the .part: $(head -c 80 "$T/zcat.err")"
"$SPOOLW" -d "$T/k" -a 192.0.2.9 "$S4" >"$T/k.out" ||
    fail "restart over the leftovers"
eq "restart reports the recovery" "$(grep -c 'event recovered' "$T/k.out")" "$np"
rec=${part%.part}
check "recovered file passes gzip -t (no torn member left)" gzip -t "$rec"
check "recovered file reads in tcpdump" \
    bash -c "zcat '$rec' | tcpdump -nn -r - >/dev/null 2>&1"
eq "recovered sidecar says so" "$(jq -r .recovered "$rec.json")" true
eq "recovered sidecar hash = sha256sum" "$(jq -r .sha256 "$rec.json")" \
    "$(sha256sum "$rec" | cut -d' ' -f1)"
bad=0
for f in $(files_of "$K"); do
	[ "$(jq -r .sha256 "$f.json")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] ||
	    bad=$((bad + 1))
done
eq "every file after the kill verifies against its sidecar" "$bad" 0

# --- 6. a full disk: 4 MiB tmpfs (root only) --------------------------------
if [ "$(id -u)" -ne 0 ]; then
	skip "spool_tools: disk-full test needs root to mount a tmpfs"
	exit 0
fi
mkdir -p "$T/full"
if ! mount -t tmpfs -o size=4m tmpfs "$T/full" 2>/dev/null; then
	skip "spool_tools: disk-full test: cannot mount a tmpfs here"
	exit 0
fi
T_CLEANUP+=("umount '$T/full'")
# 6 MB of packets, 2 ms apart (a tick every ~500 packets), stored (-l 0)
# so the bytes on disk are the bytes in.
"$ZBENCH" gen "$T/six.pcap" 6 3 2000 >/dev/null
"$SPOOLW" -d "$T/full" -s 2048 -c 65536 -f 1000000 -l 0 \
    -X "rm -f $T/full/captures/*/*.pcap.gz $T/full/captures/*/*.pcap.gz.json" \
    "$T/six.pcap" >"$T/full.out" 2>&1
rc=$?
eq "writer keeps going on ENOSPC (exit status)" "$rc" 0
eq "one SUSPENDED event" "$(grep -c '^event suspended' "$T/full.out")" 1
check "suspended for a write error, ENOSPC" \
    grep -q '^event suspended why=write_error err=28' "$T/full.out"
eq "one RESUMED event once files were removed" \
    "$(grep -c '^event resumed' "$T/full.out")" 1
dropped=$(sed -n 's/.* written, \([0-9]*\) dropped.*/\1/p' "$T/full.out")
check "packets dropped while suspended are counted ($dropped)" \
    [ "${dropped:-0}" -gt 0 ]
sed -n 's/^spoolw: /# /p' "$T/full.out"
bad=0 nf=0
for f in $(files_of "$T/full/captures/192.0.2.1"); do
	nf=$((nf + 1))
	gzip -t "$f" 2>/dev/null || bad=$((bad + 1))
	[ -e "$f.json" ] &&
	    [ "$(jq -r .sha256 "$f.json")" != "$(sha256sum "$f" | cut -d' ' -f1)" ] &&
	    bad=$((bad + 1))
done
check "files written after the resume are whole ($nf files)" \
    test "$nf" -ge 1 -a "$bad" -eq 0
exit 0
