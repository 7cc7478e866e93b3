/*
 * privdrop.c: see privdrop.h.
 *
 * The order matters: keep capabilities across the uid change
 * (PR_SET_KEEPCAPS), change groups then gid then uid (setresuid, so the
 * saved uid goes too and root cannot be regained), then narrow the
 * capability sets to CAP_NET_RAW with capset(2) directly (no libcap: one
 * system call does not justify a library).  Under systemd the unit already
 * starts us as `sensord` with CAP_NET_RAW ambient, and none of this runs.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privdrop.h"

int
priv_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
priv_drop(const char *user, uid_t uid, gid_t gid)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	uint32_t keep = 1u << CAP_NET_RAW;

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		return -1;
	if (initgroups(user, gid) != 0 ||
	    setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return -1;
	if (getuid() != uid || geteuid() != uid || getgid() != gid)
		return -1;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = (uint32_t)_LINUX_CAPABILITY_VERSION_3;
	data[0].permitted = keep;
	data[0].effective = keep;
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
		return -1;
	/* Must not be able to get root back. */
	if (uid != 0 && setresuid(0, 0, 0) == 0) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
