/*
 * sctl_captures.c: `sensorctl captures [HOST]`, the capture files of a
 * state directory with what their sidecars say, filtered by host and time
 * overlap.  Read only: nothing is hashed here (extract verifies).
 *
 * For people: one line per file (id, host, first and last packet, packets,
 * pcap bytes, size on disk, the start of the SHA-256, the trigger metric)
 * between a header and a summary line.  With -j: one object per file with
 * every sidecar field (the member index included) plus the size on disk;
 * a file whose sidecar is missing or unreadable is listed with "error".
 *
 * Owns nothing beyond the catalogue of the host being printed.  Cost: a
 * directory listing and one sidecar read per file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sctl_cap.h"
#include "sctl_json.h"
#include "sensorctl.h"

struct cap_totals {
	uint64_t files, pkts, bytes, disk, bad, part;
};

static void
fmt_us(uint64_t ns, char *buf, size_t size)
{
	time_fmt_us(ns / 1000, buf, size);
}

/* RFC 3339 with nanoseconds, as the sidecar writes it. */
static void
fmt_ns(uint64_t ns, char *buf, size_t size)
{
	char   us[40];
	size_t n;

	time_fmt_us(ns / 1000, us, sizeof(us));
	n = strlen(us);
	if (n > 0)
		us[n - 1] = '\0'; /* drop the 'Z' */
	snprintf(buf, size, "%s%03uZ", us, (unsigned)(ns % 1000));
}

static void
print_header(void)
{
	printf("%-10s %-16s %-27s %-27s %9s %11s %11s %-12s %s\n", "Id", "Host",
	    "First packet (UTC)", "Last packet (UTC)", "Packets", "Bytes",
	    "On disk", "SHA-256", "Trigger");
}

static void
print_line(const struct sctl_host *h, const struct sctl_file *f)
{
	const struct sctl_side *s = &f->side;
	char			t1[40], t2[40], hex[SHA256_HEXLEN];

	if (!f->has_side || !f->is_regular) {
		printf("%-10llu %-16s %-27s %-27s %9s %11s %11llu %-12s %s\n",
		    (unsigned long long)f->id, h->dir, "?", "?", "?", "?",
		    (unsigned long long)f->size, "?",
		    f->is_regular ? f->side_err : "not a regular file");
		return;
	}
	fmt_us(s->first_ns, t1, sizeof(t1));
	fmt_us(s->last_ns, t2, sizeof(t2));
	sha256_hex(s->sha256, hex);
	hex[12] = '\0';
	printf("%-10llu %-16s %-27s %-27s %9llu %11llu %11llu %-12s %s%s\n",
	    (unsigned long long)f->id, h->dir, t1, t2,
	    (unsigned long long)s->packets, (unsigned long long)s->bytes_raw,
	    (unsigned long long)f->size, hex,
	    s->has_trigger && s->metric[0] != '\0' ? s->metric : "-",
	    s->is_recovered ? " (recovered)" : "");
}

static void
put_num_or_null(const char *key, int has, double v)
{
	printf(",\"%s\":", key);
	if (has)
		printf("%.17g", v);
	else
		printf("null");
}

static void
print_json(const struct sctl_host *h, const struct sctl_file *f)
{
	const struct sctl_side *s = &f->side;
	char			t[40], hex[SHA256_HEXLEN];
	size_t			i;

	printf("{\"file_id\":%llu,\"host\":\"%s\",\"file\":\"%s/%s\","
	       "\"size\":%llu",
	    (unsigned long long)f->id, h->dir, h->dir, f->name,
	    (unsigned long long)f->size);
	if (!f->has_side || !f->is_regular) {
		/* Names and reasons are ours, all printable ASCII. */
		printf(",\"error\":\"%s\"}\n",
		    f->is_regular ? f->side_err : "not a regular file");
		return;
	}
	fmt_ns(s->first_ns, t, sizeof(t));
	printf(",\"first_packet\":\"%s\"", t);
	fmt_ns(s->last_ns, t, sizeof(t));
	printf(",\"last_packet\":\"%s\",\"first_ns\":%llu,\"last_ns\":%llu,"
	       "\"packets\":%llu,\"bytes_raw\":%llu,\"bytes_gz\":%llu",
	    t, (unsigned long long)s->first_ns, (unsigned long long)s->last_ns,
	    (unsigned long long)s->packets, (unsigned long long)s->bytes_raw,
	    (unsigned long long)s->bytes_gz);
	sha256_hex(s->sha256, hex);
	printf(",\"sha256\":\"%s\"", hex);
	if (s->has_prev) {
		sha256_hex(s->prev_sha256, hex);
		printf(",\"prev_sha256\":\"%s\",\"prev_file\":", hex);
		sj_put_str(stdout, (const uint8_t *)s->prev_file,
		    strlen(s->prev_file));
	} else
		printf(",\"prev_sha256\":null,\"prev_file\":null");
	printf(",\"recovered\":%s,\"trigger\":",
	    s->is_recovered ? "true" : "false");
	if (s->has_trigger) {
		printf("{\"event_id\":%llu,\"metric\":",
		    (unsigned long long)s->event_id);
		sj_put_str(
		    stdout, (const uint8_t *)s->metric, strlen(s->metric));
		put_num_or_null("value", s->has_value, s->value);
		put_num_or_null("threshold", s->has_threshold, s->threshold);
		printf(",\"reason\":");
		sj_put_str(
		    stdout, (const uint8_t *)s->reason, strlen(s->reason));
		printf("}");
	} else
		printf("null");
	if (s->has_link)
		printf(",\"link_type\":%u,\"snaplen\":%u,\"tstamp\":\"%s\"",
		    s->link_type, s->snaplen, s->is_nsec ? "nsec" : "usec");
	printf(",\"members\":[");
	for (i = 0; i < s->n_members; i++)
		printf("%s[%llu,%llu,%llu,%llu,%llu]", i ? "," : "",
		    (unsigned long long)s->members[i].off,
		    (unsigned long long)s->members[i].len,
		    (unsigned long long)s->members[i].first_ns,
		    (unsigned long long)s->members[i].last_ns,
		    (unsigned long long)s->members[i].pkts);
	printf("]}\n");
}

/* List one host; an exit status. */
static int
list_host(const struct sctl_args *a, int capfd, const char *dir,
    struct cap_totals *tot)
{
	struct sctl_host  h;
	struct sctl_file *f;
	uint64_t	  since, until, t0, lo, hi;
	size_t		  i;

	if (sctl_host_load(capfd, dir, &h) != 0) {
		if (errno == ENOENT)
			return SCTL_EXIT_OK; /* nothing captured */
		fprintf(stderr, "sensorctl: cannot read captures/%s: %s\n", dir,
		    strerror(errno));
		return SCTL_EXIT_STATE;
	}
	sctl_range_ns(a, &since, &until);
	for (i = 0; i < h.n_files; i++) {
		f = &h.files[i];
		if (f->has_side) {
			sctl_side_span(&f->side, &lo, &hi);
			if (!sctl_overlaps(lo, hi, since, until))
				continue;
			if (!f->is_regular) {
				fprintf(stderr,
				    "sensorctl: captures/%s/%s: "
				    "not a regular file\n",
				    h.dir, f->name);
				tot->bad++;
			}
		} else {
			/* Only the name's start is known: it may overlap. */
			t0 = f->t_s * 1000000000u;
			if (t0 > SCTL_SKEW_NS && t0 - SCTL_SKEW_NS > until)
				continue;
			fprintf(stderr, "sensorctl: captures/%s/%s: %s\n",
			    h.dir, f->name, f->side_err);
			tot->bad++;
		}
		if (a->json)
			print_json(&h, f);
		else
			print_line(&h, f);
		tot->files++;
		tot->disk += f->size;
		if (f->has_side && f->is_regular) {
			tot->pkts += f->side.packets;
			tot->bytes += f->side.bytes_raw;
		}
	}
	tot->part += h.n_part;
	sctl_host_free(&h);
	return SCTL_EXIT_OK;
}

int
sctl_captures(const struct sctl_args *a)
{
	char(*dirs)[ADDR_STRLEN] = NULL, one[ADDR_STRLEN];
	struct cap_totals tot = {0};
	uint8_t		  addr[16];
	size_t		  n = 0, i;
	int		  sfd, capfd, rc = SCTL_EXIT_OK, r;

	if (a->arg != NULL) {
		if (addr_parse(a->arg, addr) != 0) {
			fprintf(stderr,
			    "sensorctl: captures: expected a host "
			    "address, got '%s'\n",
			    a->arg);
			return SCTL_EXIT_USAGE;
		}
		spool_host_dirname(addr, one, sizeof(one));
	}
	if ((sfd = sctl_state_open(a)) < 0)
		return SCTL_EXIT_STATE;
	capfd = openat(
	    sfd, "captures", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(sfd);
	if (capfd < 0 && errno != ENOENT) {
		fprintf(stderr, "sensorctl: cannot open %s/captures: %s\n",
		    a->state_dir, strerror(errno));
		return SCTL_EXIT_STATE;
	}
	if (capfd >= 0 && a->arg == NULL &&
	    sctl_host_dirs(capfd, &dirs, &n) != 0) {
		fprintf(stderr, "sensorctl: cannot list %s/captures: %s\n",
		    a->state_dir, strerror(errno));
		close(capfd);
		return SCTL_EXIT_STATE;
	}
	if (!a->json)
		print_header();
	if (capfd >= 0 && a->arg != NULL)
		rc = list_host(a, capfd, one, &tot);
	for (i = 0; i < n; i++)
		if ((r = list_host(a, capfd, dirs[i], &tot)) != SCTL_EXIT_OK)
			rc = r;
	if (!a->json)
		printf("Summary: %llu files, %llu packets, %llu bytes, %llu "
		       "bytes on disk\n",
		    (unsigned long long)tot.files, (unsigned long long)tot.pkts,
		    (unsigned long long)tot.bytes,
		    (unsigned long long)tot.disk);
	if (tot.part > 0)
		fprintf(stderr,
		    "sensorctl: %llu capture file(s) still being "
		    "written (.part) are not listed\n",
		    (unsigned long long)tot.part);
	if (tot.bad > 0)
		fprintf(stderr,
		    "sensorctl: %llu file(s) without a usable "
		    "sidecar or not regular: extract will refuse them\n",
		    (unsigned long long)tot.bad);
	free(dirs);
	if (capfd >= 0)
		close(capfd);
	if (fflush(stdout) != 0)
		rc = SCTL_EXIT_STATE;
	return rc;
}
