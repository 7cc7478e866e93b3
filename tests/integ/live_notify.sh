# sd_notify protocol of the live daemon (root only: live capture).
#
# A python3 listener plays systemd: an AF_UNIX datagram socket named by
# NOTIFY_SOCKET.  sensord runs in a namespace of its own, capturing on lo,
# as user nobody: the socket is root's with mode 0755, so the datagrams
# after the privilege drop arrive only because sdnotify.c connected before
# it.  Checked: READY=1 first, WATCHDOG=1 about every WATCHDOG_USEC / 2,
# RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 last, exit 0; no
# watchdog pings when WATCHDOG_PID names another process; an abstract
# socket (@name) works too, and SIGINT stops it as SIGTERM does.
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/lib/netns.sh"
ns_init
need_cmd python3

T=$T_TMP
PEER="python3 $TOP/tests/integ/peer.py"
chmod 755 "$T"
ns_add N notify || { fail "live_notify: cannot create a namespace"; exit 1; }

# start_listener SOCK OUT SECS [NS]: listener up (socket bound) when it returns.
start_listener() {
	if [ -n "${4:-}" ]; then
		ip netns exec "$4" $PEER notify-listen "$1" "$2" "$3" &
	else
		$PEER notify-listen "$1" "$2" "$3" &
	fi
	LPID=$!
	NS_PIDS+=("$LPID")
}

# --- run 1: READY, WATCHDOG, RELOADING, STOPPING --------------------------
SOCK=$T/notify.sock
OUT=$T/notify1.txt
: >"$OUT"
start_listener "$SOCK" "$OUT" 60
wait_for 5 test -S "$SOCK" || fail "listener socket did not appear"
eq "notify socket is root's, mode 755" "$(stat -c '%U %a' "$SOCK")" "root 755"

ip netns exec "$N" env NOTIFY_SOCKET="$SOCK" WATCHDOG_USEC=2000000 \
    "$SENSORD" -i lo -D "$T/state1" --user nobody >"$T/sd1.log" 2>&1 &
SPID=$!
NS_PIDS+=("$SPID")
check "READY=1 arrives" wait_file_re 15 "$OUT" $'\tREADY=1'
eq "the first datagram is READY=1" "$(head -1 "$OUT" | cut -f2 | cut -d'|' -f1)" READY=1
t0=$(date +%s.%N)
check "WATCHDOG=1 arrives" wait_file_re 5 "$OUT" $'\tWATCHDOG=1$'
# Interval: WATCHDOG_USEC / 2 = 1 s, on 1 s ticks.
sleep 3.2
n_wd=$(awk -F'\t' -v t="$t0" '$1 > t && $2 == "WATCHDOG=1"' "$OUT" | wc -l)
check "WATCHDOG=1 every second or so ($n_wd in 3.2 s)" test "$n_wd" -ge 2 -a "$n_wd" -le 5
check "STATUS= sent" grep -q $'\tSTATUS=capturing on 1 of 1 interfaces' "$OUT"

kill -HUP "$SPID"
check "RELOADING=1 on SIGHUP" wait_file_re 5 "$OUT" $'\tRELOADING=1|MONOTONIC_USEC=[0-9]+$'
check "READY=1 again after the reload" bash -c \
    "awk -F'\t' '/RELOADING=1/ { r = 1; next } r && \$2 == \"READY=1\" { ok = 1 } END { exit !ok }' '$OUT'"

kill -TERM "$SPID"
if wait_for 15 bash -c "! kill -0 $SPID 2>/dev/null"; then
	wait "$SPID"
	eq "exit status after SIGTERM" "$?" 0
else
	fail "sensord did not stop"
fi
wait_for 5 bash -c "! kill -0 $LPID 2>/dev/null"
check "STOPPING=1 arrives" grep -q $'\tSTOPPING=1' "$OUT"
eq "STOPPING=1 is the last datagram" \
    "$(tail -1 "$OUT" | cut -f2 | cut -d'|' -f1)" STOPPING=1
check "sensord ran as nobody (log)" grep -q 'running as user nobody' "$T/sd1.log"
eq "no send errors or sanitizer reports" \
    "$(grep -ciE 'error|sanitizer' "$T/sd1.log")" 0

# --- run 2: WATCHDOG_PID of another process: no pings; abstract socket ---
OUT=$T/notify2.txt
: >"$OUT"
ASOCK="@sensord-test-$$"
start_listener "$ASOCK" "$OUT" 30 "$N"
wait_for 10 bash -c "ip netns exec $N ss -xl | grep -q sensord-test-$$" ||
    fail "abstract listener did not bind"
ip netns exec "$N" env NOTIFY_SOCKET="$ASOCK" WATCHDOG_USEC=1000000 \
    WATCHDOG_PID=1 "$SENSORD" -i lo -D "$T/state2" --user "" >"$T/sd2.log" 2>&1 &
SPID=$!
NS_PIDS+=("$SPID")
check "READY=1 over an abstract socket" wait_file_re 15 "$OUT" $'\tREADY=1'
sleep 2.5
eq "no WATCHDOG=1 when WATCHDOG_PID is another process" \
    "$(grep -c $'\tWATCHDOG=1' "$OUT")" 0
kill -INT "$SPID"	# SIGINT stops it as SIGTERM does
wait_for 15 bash -c "! kill -0 $SPID 2>/dev/null"
wait "$SPID"
eq "exit status after SIGINT" "$?" 0
wait_for 5 bash -c "! kill -0 $LPID 2>/dev/null"
check "STOPPING=1 over the abstract socket" grep -q $'\tSTOPPING=1' "$OUT"
exit 0
