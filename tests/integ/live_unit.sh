# The systemd unit and its companions, offline (no systemd needed).
#
# systemd-analyze security --offline rates the unit (must stay <= 2.0; the
# figure is printed, with and without the IP lockdown drop-in);
# systemd-analyze verify checks it in a scratch root holding the binary
# (its ExecStart must exist) and the host's own units (for the default
# dependencies); systemd-sysusers and systemd-tmpfiles apply our two files
# to that scratch root and the result is checked; the ExecStartPre command
# passes on the shipped policy.  Under integ because CI runs it as root.
source "$TOP/tests/lib/lib.sh"
need_cmd systemd-analyze systemd-sysusers systemd-tmpfiles

U=$TOP/systemd/sensord.service
R=$T_TMP/root

exposure() {	# [--root=DIR] unit -> the figure
	systemd-analyze security --offline=true "$@" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}

bare=$(exposure "$U")
check "unit exposure $bare <= 2.0" awk -v x="${bare:-9}" 'BEGIN { exit !(x <= 2.0) }'

mkdir -p "$R/etc/systemd/system/sensord.service.d" "$R/usr/local/sbin" \
    "$R/bin" "$R/usr/lib/systemd" "$R/usr/lib/sysusers.d" \
    "$R/usr/lib/tmpfiles.d"
cp "$U" "$R/etc/systemd/system/"
cp "$TOP/systemd/sensord-ipaccess.conf" \
    "$R/etc/systemd/system/sensord.service.d/ipaccess.conf"
locked=$(exposure --root="$R" sensord.service)
check "with the ipaccess drop-in: $locked <= $bare" \
    awk -v a="${locked:-9}" -v b="${bare:-0}" 'BEGIN { exit !(a <= b) }'
check "the drop-in denies IP but localhost" bash -c \
    "systemd-analyze security --offline=true --root='$R' sensord.service 2>/dev/null |
     grep -q 'IP address allow list with only localhost'"

# verify: ExecStart's binary and /bin/kill must exist in the root.
cp "$SENSORD" "$R/usr/local/sbin/sensord"
cp "$(type -P kill)" "$R/bin/kill"
cp -a /lib/systemd/system "$R/usr/lib/systemd/"
rm -rf "$R/etc/systemd/system/sensord.service.d"
out=$(systemd-analyze verify --man=no --root="$R" sensord.service 2>&1)
rc=$?
eq "systemd-analyze verify: exit status" "$rc" 0
eq "systemd-analyze verify: no complaints" "$out" ""

# sysusers + tmpfiles into the scratch root.
cp "$TOP/systemd/sensord.sysusers" "$R/usr/lib/sysusers.d/sensord.conf"
cp "$TOP/systemd/sensord.tmpfiles" "$R/usr/lib/tmpfiles.d/sensord.conf"
check "systemd-sysusers creates the user" systemd-sysusers --root="$R"
uid=$(awk -F: '$1 == "sensord" { print $3 }' "$R/etc/passwd")
gid=$(awk -F: '$1 == "sensord" { print $4 }' "$R/etc/passwd")
check "user sensord (uid ${uid:-?}) is a system user with no shell" \
    bash -c "[ -n '$uid' ] && [ '$uid' -lt 1000 ] &&
	grep -q '^sensord:.*:/var/lib/sensord:/usr/sbin/nologin$' '$R/etc/passwd'"
check "systemd-tmpfiles creates the directories" \
    systemd-tmpfiles --root="$R" --create
for d in var/lib/sensord var/lib/sensord/flows var/lib/sensord/captures \
    run/sensord; do
	eq "/$d owner and mode" "$(stat -c '%u:%g %a' "$R/$d" 2>&1)" "$uid:$gid 750"
done

# ExecStartPre, with the repository's policy for the installed one.
pre=$(sed -n 's/^ExecStartPre=//p' "$U")
check "ExecStartPre is a policy check ($pre)" bash -c "[[ '$pre' == *' -n '* ]]"
check "the check passes on policy/" "$SENSORD" -n -p "$TOP/policy"
for k in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' \
    WatchdogSec= AmbientCapabilities=CAP_NET_RAW CapabilityBoundingSet=CAP_NET_RAW; do
	check "unit has $k" grep -qF "$k" "$U"
done
echo "# exposure: $bare (unit), $locked (with sensord-ipaccess.conf)"
exit 0
