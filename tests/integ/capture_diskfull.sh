#!/usr/bin/env bash
# capture_diskfull.sh: a live daemon whose state directory fills up.
#
# Two network namespaces joined by a veth pair: "a" (10.9.0.1) sends UDP
# datagrams of fresh random bytes (incompressible) at ~600 KB/s to "b"
# (10.9.0.2), where sensord captures on the veth with its state directory
# on a 4 MiB tmpfs; `sensorctl escalate 10.9.0.1` starts the capture.
#
#  1. min_free = 1 MiB and 1 MiB of other data on the disk (a ballast
#     file): the capture file grows until the floor, then capture is
#     suspended (one suspend event, why min_free) while metering goes on
#     (packets counted, the flow log keeps growing in the room the floor
#     keeps); rm the ballast and capture resumes (one resume event).
#  2. min_free = 0: the disk really fills (ENOSPC): one "capture suspended
#     (write error: No space left on device)" (events.jsonl may itself be
#     out of room, so the daemon's log is read), packets still counted, no
#     crash; rm the closed capture files and capture resumes.
# Afterwards the daemon stops cleanly (exit 0: no leak, no sanitizer
# report) and every closed capture file verifies.
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/lib/netns.sh"
source "$TOP/tests/sh/capture.inc"
ns_init
need_cmd python3 jq tcpdump capinfos sha256sum

T=$(tmpdir)
ns_add NA a || { fail "ip netns add"; exit 0; }
ns_add NB b
ns_link "$NA" va "$NB" vb 10.9.0.2/24
ip -n "$NA" addr add 10.9.0.1/24 dev va

cat >"$T/send.py" <<'EOF'
# send.py DST BYTES_PER_S SECONDS STOPFILE: random UDP datagrams, a new
# conversation every 50 (100 ports in turn), paced, bounded in time.
import os, socket, sys, time
dst, rate, secs, stop = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
sent = n = 0
while time.monotonic() - t0 < secs:
    if n % 500 == 0 and os.path.exists(stop):
        break
    pay = os.urandom(1200)
    try:
        s.sendto(pay, (dst, 9000 + (n // 50) % 100))
    except OSError:
        pass
    n += 1
    sent += len(pay)
    ahead = sent / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
EOF

ctl() { "$SENSORCTL" -s "$T/ctl.sock" "$@"; }
pkts() { ctl -j status 2>/dev/null | head -1 | jq -r '.packets // 0'; }
n_ev() { jq -r --arg e "$2" 'select(.event == $e) | .event' \
    "$1/events.jsonl" 2>/dev/null | wc -l; }
pkts_above() { [ "$(pkts)" -gt "$1" ]; }
ev_seen() { [ "$(n_ev "$1" "$2")" -ge 1 ]; }
flows_bytes() { du -sb "$1/flows" 2>/dev/null | cut -f1; }

# start NAME POLICYDIR: mount a fresh 4 MiB tmpfs as the state directory,
# start the daemon on vb and the sender in a, escalate the sender.
start() {
	ST=$T/$1
	mkdir -p "$ST"
	mount -t tmpfs -o size=4m tmpfs "$ST" || { skip "$1: cannot mount a tmpfs"; return 1; }
	T_CLEANUP+=("umount -l '$ST'")
	[ -z "${BALLAST:-}" ] || head -c "$BALLAST" /dev/zero >"$ST/ballast"
	rm -f "$T/ctl.sock" "$T/stop"
	ns_bg "$NB" "$T/$1.log" "$SENSORD" -i vb -D "$ST" -p "$2" \
	    --control "$T/ctl.sock" --user "" --home-net 10.9.0.0/24
	DPID=$BG_PID
	wait_for 10 test -S "$T/ctl.sock" || { fail "$1: control socket"; return 1; }
	ns_bg "$NA" "$T/$1.send.log" python3 "$T/send.py" 10.9.0.2 600000 40 "$T/stop"
	SPID=$BG_PID
	wait_for 10 pkts_above 200 ||
	    fail "$1: the daemon sees the sender's packets"
	eq "$1: sensorctl escalate 10.9.0.1" \
	    "$(ctl escalate 10.9.0.1 --for 5m 2>&1 | tail -1)" escalated
}

# stop NAME: stop the sender and the daemon (TERM), check its exit.
stop() {
	touch "$T/stop"
	wait "$SPID" 2>/dev/null
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	eq "$1: the daemon exits 0 on TERM" "$?" 0
	eq "$1: no sanitizer report" \
	    "$(grep -c -E 'Sanitizer|runtime error' "$T/$1.log")" 0
}

# --- 1. the free-space floor ----------------------------------------------
small_policy "$T/pol1" "embryonic_timeout = 1s" "idle_timeout = 2s" \
    "closing_timeout = 1s" "log_flush_interval = 1s" \
    "[capture]" "min_free = 1MiB" "file_size = 4MiB"
BALLAST=1048576
if start floor "$T/pol1"; then
	wait_for 30 ev_seen "$ST" suspend
	eq "floor: one suspend event" "$(n_ev "$ST" suspend)" 1
	eq "floor: suspended for min_free" \
	    "$(jq -r 'select(.event == "suspend") | .why' "$ST/events.jsonl")" \
	    min_free
	p1=$(pkts) f1=$(flows_bytes "$ST")
	sleep 4
	p2=$(pkts) f2=$(flows_bytes "$ST")
	check "floor: packets still counted while suspended ($p1 -> $p2)" \
	    [ "$p2" -gt "$p1" ]
	check "floor: the flow log keeps growing ($f1 -> $f2 bytes)" \
	    [ "$f2" -gt "$f1" ]
	eq "floor: still one suspend event, no resume, 4 s later" \
	    "$(n_ev "$ST" suspend) $(n_ev "$ST" resume)" "1 0"
	df -k "$ST" | tail -1 | awk '{ print "# floor: tmpfs", $3, "KiB used,", $4, "KiB free" }'
	rm -f "$ST/ballast"
	wait_for 10 ev_seen "$ST" resume
	eq "floor: one resume event once the ballast is removed" \
	    "$(n_ev "$ST" resume)" 1
	eq "floor: suspend, then resume" "$(jq -r 'select(.event == "suspend" or
	    .event == "resume") | .event' "$ST/events.jsonl" | head -2 | tr '\n' ' ')" \
	    "suspend resume "
	d=$(jq -r 'select(.event == "resume") | .dropped' "$ST/events.jsonl")
	check "floor: packets dropped meanwhile are counted ($d)" [ "$d" -gt 0 ]
	stop floor
	eq "floor: every closed capture file verifies" "$(cap_verify_files "$ST")" 0
fi

# --- 2. ENOSPC -----------------------------------------------------------------
small_policy "$T/pol2" "embryonic_timeout = 1s" "idle_timeout = 2s" \
    "closing_timeout = 1s" "log_flush_interval = 1s" \
    "[capture]" "min_free = 0B" "file_size = 1MiB"
BALLAST=
if start enospc "$T/pol2"; then
	wait_for 30 grep -q 'capture suspended' "$T/enospc.log"
	grep 'capture suspended\|capture resumed' "$T/enospc.log" | sed 's/^/# /'
	eq "enospc: one 'capture suspended' line" \
	    "$(grep -c 'capture suspended' "$T/enospc.log")" 1
	check "enospc: suspended for the write error ENOSPC" \
	    grep -q 'capture suspended (write error: No space left on device)' \
	    "$T/enospc.log"
	p1=$(pkts)
	sleep 4
	p2=$(pkts)
	check "enospc: packets still counted on a full disk ($p1 -> $p2)" \
	    [ "$p2" -gt "$p1" ]
	check "enospc: the daemon is alive" kill -0 "$DPID"
	eq "enospc: still one suspension, 4 s later" \
	    "$(grep -c 'capture suspended' "$T/enospc.log")" 1
	find "$ST" -type f -printf '# %P %s\n'
	rm -f "$ST"/captures/*/*.pcap.gz "$ST"/captures/*/*.pcap.gz.json
	wait_for 10 grep -q 'capture resumed' "$T/enospc.log" ||
	    { df -k "$ST" | sed 's/^/# /'; find "$ST" -type f -printf '# %P %s\n'; tail -5 "$T/enospc.log"; }
	eq "enospc: capture resumed once closed files were removed" \
	    "$(grep -c 'capture resumed' "$T/enospc.log")" 1
	check "enospc: capture data written again after the resume" \
	    wait_for 10 bash -c "[ \$(find '$ST/captures' -name '*.pcap.gz*' \
	    ! -name '*.json' -size +100k | wc -l) -ge 1 ]"
	stop enospc
	bad=0
	for f in $(cap_files "$ST"); do
		[ -f "$f.json" ] &&
		    [ "$(jq -r .sha256 "$f.json")" = "$(sha256sum "$f" | cut -d' ' -f1)" ] ||
		    bad=$((bad + 1))
	done
	eq "enospc: files written after the resume verify" "$bad" 0
fi
exit 0
