/*
 * privdrop.c: see privdrop.h.
 *
 * The order matters:
 *  1. While still root with every capability, shrink the bounding set to
 *     CAP_NET_RAW (PR_CAPBSET_DROP needs CAP_SETPCAP, gone after step 3).
 *  2. PR_SET_KEEPCAPS, so the uid change keeps the permitted set.
 *  3. Supplementary groups, then gid, then uid, all three ids each
 *     (setres*id: the saved id goes too, so root cannot be regained).
 *     glibc applies these to every thread; there is one anyway.
 *  4. capset(2): permitted = effective = CAP_NET_RAW, inheritable empty
 *     (directly, no libcap: one system call does not justify a library);
 *     clear the ambient set; KEEPCAPS off; no_new_privs on.
 *  5. Check: ids are what we asked, setresuid(0) fails, the effective set
 *     is exactly CAP_NET_RAW.
 * Under systemd the unit already starts us as `sensord` with CAP_NET_RAW
 * ambient, and none of this runs.
 *
 * Why CAP_NET_RAW stays: an interface that comes back (or appears after
 * start) is reopened with a new packet socket.  Promiscuous mode on a
 * packet socket (PACKET_ADD_MEMBERSHIP) needs no CAP_NET_ADMIN; the
 * integration test reopens a capture after the drop to prove it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
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
priv_own_dir(const char *dir, uid_t uid, gid_t gid)
{
	struct stat st;
	int	    fd, rc = -1, e;

	if (dir[0] == '\0' ||
	    (dir[0] == '/' && dir[strspn(dir, "/")] == '\0')) {
		errno = EPERM;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto out;
	if (st.st_uid != 0 && st.st_uid != uid) {
		errno = EPERM;
		goto out;
	}
	if (fchown(fd, uid, gid) != 0 || fchmod(fd, 0750) != 0)
		goto out;
	rc = 0;
out:
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int
priv_capset(uint32_t keep)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct	data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = (uint32_t)_LINUX_CAPABILITY_VERSION_3;
	data[0].permitted = keep;
	data[0].effective = keep;
	return (int)syscall(SYS_capset, &hdr, data);
}

int
priv_caps(unsigned long long *eff, unsigned long long *prm)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct	data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = (uint32_t)_LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	*eff = (unsigned long long)data[1].effective << 32 | data[0].effective;
	*prm = (unsigned long long)data[1].permitted << 32 | data[0].permitted;
	return 0;
}

int
priv_drop(const char *user, uid_t uid, gid_t gid)
{
	unsigned long long eff, prm;
	uid_t		   ru, eu, su;
	gid_t		   rg, eg, sg;
	int		   c;

	/* 1. Bounding set; numbers past the kernel's last one fail EINVAL. */
	for (c = 0; c < 64; c++) {
		if (c == CAP_NET_RAW)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
			return -1;
	}
	/* 2, 3. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		return -1;
	if (initgroups(user, gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return -1;
	/* 4. */
	if (priv_capset(1u << CAP_NET_RAW) != 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	/* 5. */
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return -1;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid ||
	    sg != gid) {
		errno = EPERM;
		return -1;
	}
	if (uid != 0 && setresuid(0, 0, 0) == 0) {
		errno = EPERM;
		return -1;
	}
	if (priv_caps(&eff, &prm) != 0)
		return -1;
	if (uid != 0 &&
	    (eff != 1ull << CAP_NET_RAW || prm != 1ull << CAP_NET_RAW)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}
