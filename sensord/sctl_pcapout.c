/*
 * sctl_pcapout.c: the pcap file extract writes (sctl_cap.h).
 *
 * Owns the output stream and its temporary name.  The file is written as
 * "<path>.XXXXXX" (mkstemp: same directory, so the rename is atomic),
 * fsync'd, then renamed with RENAME_NOREPLACE (link + unlink where the file
 * system lacks it), so a reader never sees half a file and an existing
 * file is never replaced, even one created while we ran.  Records are
 * encoded by pcapfmt (explicit 16-byte headers, STYLE.md 14.2).  Cost: one
 * fwrite per record into a 1 MiB stdio buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sctl_cap.h"

#define OUT_BUFSZ (1024 * 1024)

int
sctl_out_open(struct sctl_out *o, const char *path, uint32_t linktype,
    uint32_t snaplen, int is_nsec, const char **why)
{
	uint8_t	    ghdr[PCAPFMT_GHDR_LEN];
	struct stat st;
	size_t	    n;
	int	    fd, saved;

	memset(o, 0, sizeof(*o));
	o->path = path;
	o->is_nsec = is_nsec;
	if (strcmp(path, "-") == 0) {
		if (isatty(STDOUT_FILENO)) {
			*why = "will not write a pcap file to a terminal";
			errno = EINVAL;
			return -1;
		}
		o->f = stdout;
	} else {
		if (lstat(path, &st) == 0) {
			*why = "exists; not overwritten";
			errno = EEXIST;
			return -1;
		}
		n = strlen(path) + 8;
		if ((o->tmp = malloc(n)) == NULL) {
			*why = "out of memory";
			return -1;
		}
		snprintf(o->tmp, n, "%s.XXXXXX", path);
		if ((fd = mkstemp(o->tmp)) < 0) {
			saved = errno;
			free(o->tmp);
			o->tmp = NULL;
			*why = "cannot create";
			errno = saved;
			return -1;
		}
		/* mkstemp makes it 0600; evidence stays group-readable only. */
		(void)fchmod(fd, 0640);
		if ((o->f = fdopen(fd, "w")) == NULL) {
			saved = errno;
			close(fd);
			sctl_out_abort(o);
			*why = "cannot create";
			errno = saved;
			return -1;
		}
	}
	(void)setvbuf(o->f, NULL, _IOFBF, OUT_BUFSZ);
	pcapfmt_ghdr(ghdr, linktype, snaplen, is_nsec);
	if (fwrite(ghdr, 1, sizeof(ghdr), o->f) != sizeof(ghdr)) {
		*why = "write error";
		saved = errno;
		sctl_out_abort(o);
		errno = saved;
		return -1;
	}
	return 0;
}

int
sctl_out_pkt(struct sctl_out *o, uint64_t ts_ns, const uint8_t *data,
    uint32_t caplen, uint32_t wirelen)
{
	uint8_t rh[PCAPFMT_RHDR_LEN];

	if (pcapfmt_rhdr(rh, ts_ns, o->is_nsec, caplen, wirelen) != 0)
		return -1;
	if (fwrite(rh, 1, sizeof(rh), o->f) != sizeof(rh) ||
	    fwrite(data, 1, caplen, o->f) != caplen)
		return -1;
	o->pkts++;
	o->bytes += caplen;
	return 0;
}

int
sctl_out_commit(struct sctl_out *o, const char **why)
{
	int saved;

	if (o->f == NULL)
		return 0;
	if (fflush(o->f) != 0 || ferror(o->f)) {
		*why = "write error";
		goto fail;
	}
	if (o->tmp == NULL) {
		o->f = NULL; /* stdout stays open */
		return 0;
	}
	if (fsync(fileno(o->f)) != 0) {
		*why = "fsync failed";
		goto fail;
	}
	if (fclose(o->f) != 0) {
		o->f = NULL;
		*why = "write error";
		goto fail;
	}
	o->f = NULL;
	if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) !=
	    0) {
		if (errno != EINVAL && errno != ENOSYS) {
			*why = errno == EEXIST ? "exists; not overwritten"
					       : "cannot rename into place";
			goto fail;
		}
		/* No RENAME_NOREPLACE here: link(2) refuses to replace too. */
		if (link(o->tmp, o->path) != 0) {
			*why = errno == EEXIST ? "exists; not overwritten"
					       : "cannot rename into place";
			goto fail;
		}
		(void)unlink(o->tmp);
	}
	free(o->tmp);
	o->tmp = NULL;
	return 0;
fail:
	saved = errno;
	sctl_out_abort(o);
	errno = saved;
	return -1;
}

void
sctl_out_abort(struct sctl_out *o)
{
	if (o->f != NULL && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp != NULL) {
		(void)unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
}
