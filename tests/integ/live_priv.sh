# Privileges of the live daemon (root only).
#
# Started as root with --user: refuses to run (exit 1, a line saying why)
# when the user does not exist, when the state directory belongs to a third
# user, and when a directory left by a root run is not writable after the
# switch.  Started the way systemd starts it (already the user, CAP_NET_RAW
# ambient, via setpriv): no switch, capture works, the flow log is the
# user's.  A different --user without root: a warning, and it runs.
# (The successful switch itself is checked in live_e2e.sh.)
source "$TOP/tests/lib/lib.sh"
source "$TOP/tests/lib/netns.sh"
ns_init
need_cmd setpriv python3 zcat jq

T=$T_TMP
PEER="python3 $TOP/tests/integ/peer.py"
chmod 755 "$T"
ns_add N priv || { fail "live_priv: cannot create a namespace"; exit 1; }

# refuse NAME WANT_RE sensord-args...: exits 1 within 10 s, stderr matches.
refuse() {
	local name=$1 re=$2 rc
	shift 2
	timeout 10 ip netns exec "$N" "$SENSORD" "$@" >"$T/$name.log" 2>&1
	rc=$?
	eq "$name: exit status" "$rc" 1
	check "$name: says why ($(grep -E "$re" "$T/$name.log" | head -1))" \
	    grep -qE "$re" "$T/$name.log"
}

refuse no-user 'user sdt-no-such-user does not exist; refusing to run as root' \
    -i lo -D "$T/s1" --user sdt-no-such-user
mkdir "$T/s2" && chown 12345:12345 "$T/s2"
refuse third-party-dir 's2: cannot give the state directory to user nobody' \
    -i lo -D "$T/s2" --user nobody
eq "third party's directory left alone" "$(stat -c %u "$T/s2")" 12345
mkdir -p "$T/s3/flows" && chmod 750 "$T/s3/flows"
refuse root-left-flows 's3/flows: not writable by user nobody .*chown -R nobody: ' \
    -i lo -D "$T/s3" --user nobody
refuse long-name 'interface name too long' -i sdt-name-too-long-for-linux -D "$T/s4" --user ''
refuse twice 'lo: interface given twice' -i lo -i lo -D "$T/s4"

# --- as systemd starts it: already nobody, CAP_NET_RAW ambient ----------
mkdir "$T/s5" && chown nobody: "$T/s5"
ip netns exec "$N" setpriv --reuid=nobody --regid="$(id -g nobody)" \
    --clear-groups --inh-caps=+net_raw --ambient-caps=+net_raw \
    "$SENSORD" -i lo -D "$T/s5" --user nobody >"$T/s5.log" 2>&1 &
SPID=$!
NS_PIDS+=("$SPID")
if wait_file_re 15 "$T/s5.log" 'started: capturing on 1 of 1'; then
	ok "started as nobody with ambient cap_net_raw: capturing"
else
	fail "did not start as nobody: $(head -3 "$T/s5.log")"
fi
eq "Uid" "$(awk '/^Uid:/ { print $2 }' /proc/$SPID/status)" "$(id -u nobody)"
eq "CapEff" "$(awk '/^CapEff:/ { print $2 }' /proc/$SPID/status)" 0000000000002000
eq "no switch attempted (no log line about users)" \
    "$(grep -ciE 'user|root' "$T/s5.log")" 0
eq "ICMP echo on lo" "$(ip netns exec "$N" $PEER ping 127.0.0.1 3 77)" 3
sleep 0.5
kill -TERM "$SPID"
wait_for 15 bash -c "! kill -0 $SPID 2>/dev/null"
wait "$SPID"
eq "exit status" "$?" 0
eq "echo packets in the flow log" "$(zcat "$T"/s5/flows/*.gz |
    jq -s 'map(select(.proto == 1 and .src == "127.0.0.1")) |
    map(.src_pkts + .dst_pkts) | add // 0')" 6
eq "flow log owned by nobody" \
    "$(find "$T/s5" ! -user nobody | wc -l)" 0

# --- not root, another --user: warn and run --------------------------------
mkdir "$T/s6" && chown nobody: "$T/s6"
ip netns exec "$N" setpriv --reuid=nobody --regid="$(id -g nobody)" \
    --clear-groups --inh-caps=+net_raw --ambient-caps=+net_raw \
    "$SENSORD" -i lo -D "$T/s6" --user root >"$T/s6.log" 2>&1 &
SPID=$!
NS_PIDS+=("$SPID")
check "not root, --user root: warns" wait_file_re 15 "$T/s6.log" \
    'not started as root: running as uid [0-9]+, not as user root'
check "and runs" wait_file_re 15 "$T/s6.log" 'started: '
kill -TERM "$SPID"
wait_for 15 bash -c "! kill -0 $SPID 2>/dev/null"
wait "$SPID"
eq "exit status" "$?" 0
exit 0
