#!/usr/bin/env bash
# tests/sh/policy_golden.sh: policy check golden tests (bgpd's config
# regress): tests/policy/ok/NAME/ must load and print NAME.out with -v;
# tests/policy/bad/NAME/ must be refused with exactly the lines in NAME.err
# (file:line: message, paths as given on the command line).  One line per
# case.  Then checks that tie the shipped files and documents to the code,
# that canonical output reads back to itself, and cases that cannot live in
# git (a FIFO, a file over 1 MiB).
#
# Regenerate an expected file on purpose, after reading the diff:
#   (cd tests/policy/ok && $O/tests/tools/polcheck -v -p NAME > NAME.out)
source "$TOP/tests/lib/lib.sh"

# The checker under test; becomes "$SENSORD -n" once sensord.c calls
# pol_load (same options, same output).
POLCHECK=${POLCHECK:-"$SENSORD -n"}

tmp=$(tmpdir)
cd "$TOP/tests/policy" || exit 1

for dir in ok/*/; do		# ok/shipped is a link to the shipped policy/
	n=${dir%/}
	out=$tmp/${n#ok/}.out
	( cd ok && $POLCHECK -v -p "${n#ok/}" >"$out" 2>"$tmp/err" )
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$n: exit $rc: $(head -3 "$tmp/err")"
	elif [ "$(cat "$tmp/err")" != "policy OK" ]; then
		fail "$n: stderr: $(head -3 "$tmp/err")"
	elif ! diff -u "$n.out" "$out" >"$tmp/diff"; then
		fail "$n: output differs: $(head -20 "$tmp/diff")"
	else
		ok "$n"
	fi
done

n_bad=0
for dir in bad/*/; do
	n=${dir%/}
	( cd bad && $POLCHECK -p "${n#bad/}" >"$tmp/out" 2>"$tmp/err" )
	rc=$?
	n_bad=$((n_bad + 1))
	if [ $rc -ne 1 ]; then
		fail "$n: exit $rc, want 1"
	elif [ -s "$tmp/out" ]; then
		fail "$n: wrote to stdout"
	elif ! diff -u "$n.err" "$tmp/err" >"$tmp/diff"; then
		fail "$n: errors differ: $(head -20 "$tmp/diff")"
	else
		ok "$n"
	fi
done
check "at least 25 bad cases ($n_bad)" test "$n_bad" -ge 25

# The shipped default.conf states the built-in defaults: an empty
# default.conf must print the same default block (as the tool prints now).
default_block() { awk '/^# host /{exit} {print}' "$1"; }
eq "shipped default.conf equals the built-in defaults" \
    "$(default_block "$tmp/shipped.out" | md5sum)" \
    "$(default_block "$tmp/empty.out" | md5sum)"

# Every key and metric is documented where users look for it: set in the
# shipped default.conf, named in FORMAT.md and in the man page.
keys=$(grep -E '^[a-z_]+ =' "$tmp/empty.out" | cut -d' ' -f1 | sort -u)
metrics="dst_ports dst_ips protocols conns bytes_out bytes_in half_open
    half_open_share rejected rejected_share night_bytes_out"
missing=
for k in $keys; do
	grep -qE "^$k =" "$TOP/policy/default.conf" ||
	    missing="$missing default.conf:$k"
done
for k in $metrics; do
	grep -qw "$k" "$TOP/policy/default.conf" ||
	    missing="$missing default.conf:$k"
done
for k in $keys $metrics address name; do
	grep -q "\`$k\`" "$TOP/policy/FORMAT.md" || missing="$missing FORMAT.md:$k"
	grep -qE "Cm $k( |$)" "$TOP/doc/sensord.policy.5" ||
	    missing="$missing man:$k"
done
eq "every key and metric documented in default.conf, FORMAT.md, man page" \
    "${missing:-none}" "none"
if command -v man >/dev/null; then
	check "man -l renders sensord.policy.5 without warnings" bash -c \
	    "MANWIDTH=80 man -l '$TOP/doc/sensord.policy.5' 2>'$tmp/manerr' | grep -q 'default.conf' && ! grep -q . '$tmp/manerr'"
fi

# Canonical output is a fixed point: split -v output back into files and
# check again.
for n in shipped nested thresholds units catchall; do
	rt=$tmp/rt-$n
	mkdir -p "$rt/hosts"
	awk -v d="$rt" '
		/^# default: / { f = d "/default.conf" }
		/^# host /     { f = d "/" $NF }
		{ print > f }' "ok/$n.out"
	( cd "$tmp" && $POLCHECK -v -p "rt-$n" >"$tmp/rt.out" 2>/dev/null )
	check "$n: canonical output reads back to itself" \
	    diff -q "ok/$n.out" "$tmp/rt.out"
done

# Cases git cannot hold.
big=$tmp/big
mkdir -p "$big"
{ echo '[global]'; head -c 1100000 /dev/zero | tr '\0' '#'; echo; } \
    >"$big/default.conf"
( cd "$tmp" && $POLCHECK -p big >/dev/null 2>"$tmp/err" )
eq "file over 1 MiB refused" "$(cat "$tmp/err")" \
    "big/default.conf: file is larger than 1 MiB"

odd=$tmp/odd
mkdir -p "$odd/hosts/dir.conf"
: >"$odd/default.conf"
mkfifo "$odd/hosts/fifo.conf"
( cd "$tmp" && timeout 10 $POLCHECK -p odd/// >/dev/null 2>"$tmp/err" )
eq "FIFO and directory named *.conf refused, trailing slashes ignored" \
    "$(cat "$tmp/err")" "odd/hosts/dir.conf: not a regular file
odd/hosts/fifo.conf: not a regular file"

( cd "$tmp" && $POLCHECK -p nonexistent >/dev/null 2>"$tmp/err" )
eq "missing policy directory" "$(cat "$tmp/err")" \
    "nonexistent/default.conf: cannot open: No such file or directory"
exit 0
