/*
 * sctl_cat.c: the capture catalogue of a state directory, read from the
 * directory itself (sctl_cap.h).
 *
 * Owns: per host, a directory fd and the list of its capture files with
 * their parsed sidecars.  Only names that match spool's patterns are ever
 * opened, and only with openat() below the host directory's fd, with
 * O_NOFOLLOW (a symlink planted in a copy is refused) and O_NONBLOCK (a
 * FIFO cannot hang us; fstat then refuses anything not regular).  A
 * sidecar is cross-checked against the name it sits next to: the same
 * file name, file id and host, else it does not describe this file.
 * Cost: one readdir pass per host, one open and read per sidecar.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sctl_cap.h"

static int
name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int
sctl_host_dirs(int capfd, char (**names)[ADDR_STRLEN], size_t *n)
{
	char(*v)[ADDR_STRLEN] = NULL, (*nv)[ADDR_STRLEN];
	size_t	       cap = 0, k = 0;
	struct dirent *de;
	uint8_t	       addr[16];
	struct stat    st;
	DIR	      *d;
	int	       fd, saved;

	*names = NULL;
	*n = 0;
	if ((fd = dup(capfd)) < 0)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (sctl_dir_addr(de->d_name, addr) != 0 ||
		    fstatat(capfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof(*nv))) == NULL) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		util_strlcpy(v[k++], de->d_name, ADDR_STRLEN);
	}
	closedir(d);
	if (k > 0)
		qsort(v, k, sizeof(*v), name_cmp);
	*names = v;
	*n = k;
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	const struct sctl_file *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Read a regular file below dfd into a malloc'd buffer of at most max. */
static uint8_t *
read_small(int dfd, const char *name, size_t max, size_t *len, const char **why)
{
	struct stat st;
	uint8_t	   *buf;
	size_t	    n = 0;
	ssize_t	    r;
	int	    fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*why = errno == ENOENT ? "no sidecar"
		    : errno == ELOOP   ? "sidecar is a symbolic link"
				       : "cannot open the sidecar";
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "sidecar is not a regular file";
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		*why = "sidecar too large";
		return NULL;
	}
	/* +1: a file that grew since fstat shows up as too large. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		*why = "out of memory";
		return NULL;
	}
	while (n <= (size_t)st.st_size) {
		r = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)st.st_size) {
		free(buf);
		*why = "sidecar changed while being read";
		return NULL;
	}
	*len = n;
	return buf;
}

static void
load_side(struct sctl_host *h, struct sctl_file *f)
{
	char	    side[SCTL_NAME_MAX + 8];
	const char *why = NULL;
	uint8_t	   *buf;
	size_t	    len = 0;

	snprintf(side, sizeof(side), "%s.json", f->name);
	if ((buf = read_small(h->dfd, side, SCTL_SIDE_MAX, &len, &why)) ==
	    NULL) {
		f->side_err = why;
		return;
	}
	if (sctl_side_parse(buf, len, &f->side, &why) != 0)
		f->side_err = why;
	else if (strcmp(f->side.file, f->name) != 0)
		f->side_err = "sidecar names another file";
	else if (f->side.file_id != f->id)
		f->side_err = "sidecar has another file id";
	else if (strcmp(f->side.host, h->dir) != 0)
		f->side_err = "sidecar names another host";
	else
		f->has_side = 1;
	if (!f->has_side)
		sctl_side_free(&f->side);
	free(buf);
}

/* 1 for "<capture file name>.part". */
static int
is_part(const char *name)
{
	char	 base[SCTL_NAME_MAX];
	uint64_t id, t_s;
	size_t	 n = strlen(name);

	if (n < 6 || n - 5 >= sizeof(base) ||
	    strcmp(name + n - 5, ".part") != 0)
		return 0;
	memcpy(base, name, n - 5);
	base[n - 5] = '\0';
	return sctl_name_parse(base, &id, &t_s) == 0;
}

int
sctl_host_load(int capfd, const char *dir, struct sctl_host *h)
{
	struct sctl_file *nf;
	struct dirent	 *de;
	struct stat	  st;
	uint64_t	  id, t_s;
	size_t		  cap = 0, i;
	DIR		 *d;
	int		  fd, saved;

	memset(h, 0, sizeof(*h));
	h->dfd = -1;
	if (util_strlcpy(h->dir, dir, sizeof(h->dir)) >= sizeof(h->dir) ||
	    sctl_dir_addr(dir, h->addr) != 0) {
		errno = EINVAL;
		return -1;
	}
	h->dfd =
	    openat(capfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (h->dfd < 0)
		return -1;
	if ((fd = dup(h->dfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		saved = errno;
		if (fd >= 0)
			close(fd);
		sctl_host_free(h);
		errno = saved;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (is_part(de->d_name)) {
			h->n_part++;
			continue;
		}
		/*
		 * A name of ours that is not a regular file (a symlink
		 * planted in a copy) is listed all the same: extract must
		 * refuse it rather than silently leave its packets out.
		 */
		if (strlen(de->d_name) + 5 >= SCTL_NAME_MAX ||
		    sctl_name_parse(de->d_name, &id, &t_s) != 0 ||
		    fstatat(h->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (h->n_files == cap) {
			cap = cap ? cap * 2 : 32;
			nf = realloc(h->files, cap * sizeof(*nf));
			if (nf == NULL) {
				closedir(d);
				sctl_host_free(h);
				errno = ENOMEM;
				return -1;
			}
			h->files = nf;
		}
		nf = &h->files[h->n_files++];
		memset(nf, 0, sizeof(*nf));
		util_strlcpy(nf->name, de->d_name, sizeof(nf->name));
		nf->id = id;
		nf->t_s = t_s;
		nf->size = (uint64_t)st.st_size;
		nf->is_regular = S_ISREG(st.st_mode);
	}
	closedir(d);
	if (h->n_files > 0)
		qsort(h->files, h->n_files, sizeof(*h->files), file_cmp);
	for (i = 0; i < h->n_files; i++)
		load_side(h, &h->files[i]);
	return 0;
}

void
sctl_host_free(struct sctl_host *h)
{
	size_t i;

	for (i = 0; i < h->n_files; i++)
		sctl_side_free(&h->files[i].side);
	free(h->files);
	h->files = NULL;
	h->n_files = 0;
	if (h->dfd >= 0)
		close(h->dfd);
	h->dfd = -1;
}

int
sctl_overlaps(
    uint64_t first_ns, uint64_t last_ns, uint64_t since_ns, uint64_t until_ns)
{
	return last_ns >= since_ns && first_ns <= until_ns;
}
