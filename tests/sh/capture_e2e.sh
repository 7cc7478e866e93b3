#!/usr/bin/env bash
# capture_e2e.sh: escalated capture end to end through the real daemon
# (offline replay, so the capture writer runs inline: deterministic).
#
# A trace with a scanner and normal hosts is replayed; the capture files
# must hold exactly the scanner's packets from its escalation to its
# deescalation (events.jsonl), plus, when the policy keeps a pre-trigger
# buffer, its packets from up to pretrigger_time before, newest first
# within pretrigger_size.  Expected packets are computed from the trace by
# tshark, captured ones read by tshark: the two lists (time, lengths,
# addresses) must be identical.  No other host's packet may be in a file.
# Every file verifies (sidecar sha256, zcat | tcpdump -r -, capinfos).
# Traces: gendemo (scanner 192.168.1.66 among two normal hosts), the real
# chrissanders_synscan.pcapng merged with the real ppa_dns.cap shifted to
# the same minute (editcap -t, mergecap), a genscenario upload for the
# pre-trigger size bound.  Also: `[capture] enabled = no` in a host file,
# a BPF `filter`, short escalations with cooldown 0 (no packet twice).
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/sh/capture.inc"
need_cmd tshark capinfos tcpdump jq sha256sum zcat mergecap editcap

T=$(tmpdir)
SYN=$SHARED_PCAPS/traffic/chrissanders_synscan.pcapng
DNS=$SHARED_PCAPS/traffic/ppa_dns.cap

# run NAME TRACE POLICYDIR [sensord options]: replay into $T/NAME
run() {
	local name=$1 trace=$2 pol=$3
	shift 3
	rm -rf "${T:?}/$name"
	if ! "$SENSORD" -r "$trace" -D "$T/$name" -p "$pol" "$@" \
	    >"$T/$name.out" 2>&1; then
		fail "$name: sensord -r exits 0"
		sed 's/^/# /' "$T/$name.out" | tail -5
	fi
}

# check_capture NAME TRACE HOST [PRE_US PRE_BYTES SNAPLEN [BPF]]: the
# host's files hold exactly the expected packets.
check_capture() {
	local name=$1 trace=$2 host=$3 pre=${4:-0} preb=${5:-0} snap=${6:-65535}
	local bpf=${7:-} last n_exp n_got files
	local S=$T/$name
	cap_frames "$trace" >"$T/$name.frames"
	last=$(tail -1 "$T/$name.frames" | cut -d' ' -f1)
	cap_windows "$S" "$host" "$last" >"$T/$name.win"
	cap_expect "$T/$name.frames" "$host" "$T/$name.win" "$pre" "$preb" \
	    "$snap" >"$T/$name.exp"
	if [ -n "$bpf" ]; then
		# The filter is a BPF program: tcpdump applies the same one to
		# the trace; keep the expected packets it lets through (a
		# multiset, in order: two packets may look alike).
		tcpdump -nn -r "$trace" -w "$T/$name.bpf.pcap" "$bpf" 2>/dev/null
		cap_frames "$T/$name.bpf.pcap" >"$T/$name.bpf"
		awk 'FILENAME == ARGV[1] { k[$0]++; next } k[$0] > 0 { k[$0]--; print }' \
		    "$T/$name.bpf" "$T/$name.exp" >"$T/$name.exp2"
		mv "$T/$name.exp2" "$T/$name.exp"
	fi
	mapfile -t files < <(cap_files "$S" "$host")
	cap_frames "${files[@]}" >"$T/$name.got"
	n_exp=$(wc -l <"$T/$name.exp")
	n_got=$(wc -l <"$T/$name.got")
	echo "# $name: $(wc -l <"$T/$name.win") escalation(s) of $host:" \
	    "$(tr '\n' ';' <"$T/$name.win")"
	check "$name: escalated at least once" [ -s "$T/$name.win" ]
	check "$name: $host captured" [ "${#files[@]}" -ge 1 ]
	eq "$name: tshark counts exactly the expected packets of $host" \
	    "$n_got" "$n_exp"
	if cmp -s "$T/$name.exp" "$T/$name.got"; then
		ok "$name: the same packets, in order (time, lengths, addresses)"
	else
		fail "$name: captured packets differ from the expected ones"
		diff "$T/$name.exp" "$T/$name.got" | head -5 | sed 's/^/# /'
	fi
	eq "$name: tshark: packets without $host in the files" \
	    "$(for f in "${files[@]}"; do
		tshark -n -r "$f" -Y "not (ip.addr == $host)" 2>/dev/null
	    done | wc -l)" 0
	eq "$name: every file verifies (sha256, zcat | tcpdump, capinfos)" \
	    "$(cap_verify_files "$S")" 0
}

# hosts_captured NAME: host directories under captures/
hosts_captured() {
	find "$T/$1/captures" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' |
	    sort | tr '\n' ' ' | sed 's/ $//'
}

# --- 1. gendemo: the scanner alone, no pre-trigger ------------------------
"$TOOLS/gendemo" -o "$T/demo.pcap" >/dev/null 2>&1 || fail "gendemo"
small_policy "$T/p1"
run demo "$T/demo.pcap" "$T/p1" --home-net 192.168.1.0/24
eq "demo: only the scanner has a capture directory" "$(hosts_captured demo)" \
    192.168.1.66
eq "demo: only the scanner breached" "$(jq -r 'select(.event == "breach") |
    .host' "$T/demo/events.jsonl" | sort -u | tr '\n' ' ')" "192.168.1.66 "
check_capture demo "$T/demo.pcap" 192.168.1.66
j=$(cap_files "$T/demo" | head -1).json
eq "demo: the sidecar's trigger is the first breach's event" \
    "$(jq -r .trigger.event_id "$j")" \
    "$(jq -r 'select(.event == "escalate" and .action == "capture started") | .trigger' \
    "$T/demo/events.jsonl" | head -1)"
# The trigger's numbers are the breach's (not rounded away).
eq "demo: sidecar trigger value/threshold = the breach's" \
    "$(jq -r '"\(.trigger.metric) \(.trigger.value * 1000 | round) \(.trigger.threshold * 1000 | round)"' "$j")" \
    "$(jq -r --argjson id "$(jq .trigger.event_id "$j")" 'select(.id == $id) |
    "\(.metric) \(.value * 1000 | round) \(.threshold * 1000 | round)"' \
    "$T/demo/events.jsonl")"

# --- 2. pre-trigger: 30 s before the escalation ----------------------------
small_policy "$T/p2" "[capture]" "pretrigger = yes" "pretrigger_time = 30s"
run demo_pre "$T/demo.pcap" "$T/p2" --home-net 192.168.1.0/24
check_capture demo_pre "$T/demo.pcap" 192.168.1.66 30000000 1048576
esc=$(head -1 "$T/demo_pre.win" | cut -d' ' -f1)
first=$(head -1 "$T/demo_pre.got" | cut -d' ' -f1)
n_old=$(awk -v e="$esc" '($4 == "192.168.1.66" || $5 == "192.168.1.66") &&
    $1 < e - 30000000' "$T/demo_pre.frames" | wc -l)
check "demo_pre: capture starts before the escalation, within 30 s" \
    [ "$first" -lt "$esc" ] && [ "$first" -ge $((esc - 30000000)) ]
check "demo_pre: the scanner's older packets ($n_old) are not in it" \
    [ "$n_old" -gt 0 ]
eq "demo_pre: pre-trigger packets in the first file = in the window" \
    "$(awk -v e="$esc" '$1 < e' "$T/demo_pre.got" | wc -l)" \
    "$(awk -v e="$esc" '($4 == "192.168.1.66" || $5 == "192.168.1.66") &&
	$1 < e && $1 >= e - 30000000' "$T/demo_pre.frames" | wc -l)"

# --- 3. pre-trigger bounded by pretrigger_size ----------------------------
# An 8 MB upload in 60000-byte segments (genscenario night-upload at 01:10,
# moved by editcap to 08:59:50) 10 s before a port scan (genscenario
# portscan at 09:00) from the same host: 1 MiB of buffer holds the scan's
# first seconds and the upload's last segments, well inside the 30 s.
"$TOOLS/genscenario" --pattern night-upload --days 0 --mb 8 --at 1 \
    --host 10.0.0.5 -o "$T/up0.pcap" 2>/dev/null || fail "genscenario upload"
"$TOOLS/genscenario" --pattern portscan --host 10.0.0.5 -o "$T/scan.pcap" \
    2>/dev/null || fail "genscenario portscan"
editcap -t 28190 "$T/up0.pcap" "$T/up1.pcap" 2>/dev/null
mergecap -F pcap -w "$T/up.pcap" "$T/up1.pcap" "$T/scan.pcap" 2>/dev/null
small_policy "$T/p3" "[capture]" "pretrigger = yes" "pretrigger_time = 30s"
run up_pre "$T/up.pcap" "$T/p3" --home-net 10.0.0.0/8
check_capture up_pre "$T/up.pcap" 10.0.0.5 30000000 1048576
esc=$(head -1 "$T/up_pre.win" | cut -d' ' -f1)
pre_got=$(awk -v e="$esc" '$1 < e' "$T/up_pre.got" | wc -l)
pre_all=$(awk -v e="$esc" '($4 == "10.0.0.5" || $5 == "10.0.0.5") &&
    $1 < e && $1 >= e - 30000000' "$T/up_pre.frames" | wc -l)
pre_bytes=$(awk -v e="$esc" '$1 < e { s += 32 + int(($3 + 7) / 8) * 8 }
    END { print s + 0 }' "$T/up_pre.got")
echo "# up_pre: $pre_got of the $pre_all packets of the last 30 s kept," \
    "$pre_bytes bytes of buffer"
check "up_pre: the size bound cut the pre-trigger ($pre_got < $pre_all)" \
    [ "$pre_got" -gt 0 ] && [ "$pre_got" -lt "$pre_all" ]
check "up_pre: pre-trigger bytes within pretrigger_size ($pre_bytes)" \
    [ "$pre_bytes" -le 1048576 ]

# --- 4. the real SYN scan among real DNS/web traffic ----------------------
if [ -r "$SYN" ] && [ -r "$DNS" ]; then
	a=$(tshark -n -r "$SYN" -c1 -T fields -e frame.time_epoch 2>/dev/null)
	b=$(tshark -n -r "$DNS" -c1 -T fields -e frame.time_epoch 2>/dev/null)
	editcap -t "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f", a - b - 3 }')" \
	    "$DNS" "$T/dns.pcap" 2>/dev/null
	mergecap -F pcap -w "$T/syn.pcap" "$SYN" "$T/dns.pcap" 2>/dev/null
	small_policy "$T/p4"
	run syn "$T/syn.pcap" "$T/p4"
	eq "synscan: only 172.16.0.8 is captured" "$(hosts_captured syn)" \
	    172.16.0.8
	n_other=$(tshark -n -r "$T/syn.pcap" -Y 'not ip.addr == 172.16.0.8' \
	    2>/dev/null | wc -l)
	check "synscan: the merged trace has other hosts' packets ($n_other)" \
	    [ "$n_other" -gt 100 ]
	check_capture syn "$T/syn.pcap" 172.16.0.8
	small_policy "$T/p5" "[capture]" "pretrigger = yes" \
	    "pretrigger_time = 30s"
	run syn_pre "$T/syn.pcap" "$T/p5"
	check_capture syn_pre "$T/syn.pcap" 172.16.0.8 30000000 1048576
else
	skip "capture_e2e: $SYN or $DNS not found"
fi

# --- 5. enabled = no: breaches, never captured ----------------------------
small_policy "$T/p6"
printf '[host]\naddress = 192.168.1.66\n[capture]\nenabled = no\n' \
    >"$T/p6/hosts/scanner.conf"
run demo_off "$T/demo.pcap" "$T/p6" --home-net 192.168.1.0/24
check "enabled = no: the scanner breaches" \
    jq -e -s 'map(select(.event == "breach" and .host == "192.168.1.66")) |
    length > 0' "$T/demo_off/events.jsonl"
eq "enabled = no: breaches logged as forbidden" \
    "$(jq -r 'select(.event == "breach") | .action' \
    "$T/demo_off/events.jsonl" | sort -u)" \
    "logged: capture forbidden by policy"
check "enabled = no: no capture directory for the scanner" \
    [ ! -e "$T/demo_off/captures/192.168.1.66" ]
eq "enabled = no: no escalate event" "$(jq -r 'select(.event == "escalate")' \
    "$T/demo_off/events.jsonl" | wc -l)" 0

# --- 6. a BPF filter narrows the capture ----------------------------------
small_policy "$T/p7" "[capture]" 'filter = "tcp port 80"'
run demo_bpf "$T/demo.pcap" "$T/p7" --home-net 192.168.1.0/24
check_capture demo_bpf "$T/demo.pcap" 192.168.1.66 0 0 65535 "tcp port 80"
n80=$(wc -l <"$T/demo_bpf.got")
eq "filter: tshark finds no packet other than tcp port 80" \
    "$(for f in $(cap_files "$T/demo_bpf"); do
	tshark -n -r "$f" -Y 'not tcp.port == 80' 2>/dev/null; done | wc -l)" 0
check "filter: fewer packets than unfiltered ($n80 < $(wc -l <"$T/demo.got"))" \
    [ "$n80" -gt 0 ] && [ "$n80" -lt "$(wc -l <"$T/demo.got")" ]
# The pre-trigger buffer is written under the same filter.
small_policy "$T/p8" "[capture]" 'filter = "tcp port 80"' "pretrigger = yes" \
    "pretrigger_time = 30s"
run demo_bpf_pre "$T/demo.pcap" "$T/p8" --home-net 192.168.1.0/24
check_capture demo_bpf_pre "$T/demo.pcap" 192.168.1.66 30000000 1048576 65535 \
    "tcp port 80"

# --- 7. short escalations, cooldown 0: each packet once ----------------------
# Escalations of 5 s that end at their deadline and start again at the next
# breach: the pre-trigger buffer of a new escalation must not repeat what
# the previous one captured.
small_policy "$T/p9" "[capture]" "duration = 5s" "max_duration = 5s" \
    "cooldown = 0s" "pretrigger = yes" "pretrigger_time = 30s"
run demo_short "$T/demo.pcap" "$T/p9" --home-net 192.168.1.0/24
check_capture demo_short "$T/demo.pcap" 192.168.1.66 30000000 1048576
check "short: several escalations ($(wc -l <"$T/demo_short.win"))" \
    [ "$(wc -l <"$T/demo_short.win")" -ge 2 ]
eq "short: no packet is in two files" \
    "$(sort "$T/demo_short.got" | uniq -d | wc -l)" \
    "$(sort "$T/demo_short.frames" | uniq -d | wc -l)"
exit 0
