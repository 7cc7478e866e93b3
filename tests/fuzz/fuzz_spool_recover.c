/*
 * fuzz_spool_recover: arbitrary bytes as a capture file left behind by a
 * crash, through the spool's start-up scan (gzip member walk, metadata
 * comment, pcap records, sidecar rebuild, quarantine).  An even-sized input
 * is a .part, an odd-sized one a .pcap.gz without sidecar.  The scan must
 * neither crash nor leak, and must leave no .part behind.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tmpfs when there is one: the scan fsyncs what it recovers. */
static char root_shm[] = "/dev/shm/sensord-fuzz-spool-XXXXXX";
static char root_tmp[] = "/tmp/sensord-fuzz-spool-XXXXXX";
static char *root;
static char hostdir[128];
static int is_ready;

/* Empty a directory one level deep (and its quarantine/). */
static void
empty_dir(const char *d)
{
	char p[512];
	struct dirent *de;
	DIR *dp = opendir(d);

	if (dp == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", d, de->d_name);
		if (unlink(p) != 0) {
			empty_dir(p);
			rmdir(p);
		}
	}
	closedir(dp);
}

static void
cleanup(void)
{
	char p[200];

	empty_dir(hostdir);
	rmdir(hostdir);
	snprintf(p, sizeof(p), "%s/captures", root);
	rmdir(p);
	rmdir(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool_config cfg;
	struct spool *sp;
	char path[512];
	FILE *f;

	if (!is_ready) {
		if ((root = mkdtemp(root_shm)) == NULL &&
		    (root = mkdtemp(root_tmp)) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/captures", root);
		mkdir(path, 0750);
		snprintf(hostdir, sizeof(hostdir), "%.80s/192.0.2.1", path);
		atexit(cleanup);
		is_ready = 1;
	}
	mkdir(hostdir, 0750);
	snprintf(path, sizeof(path), "%s/20250101T000000Z_0000000007.%s",
	    hostdir, size % 2 ? "pcap.gz" : "pcap.gz.part");
	if ((f = fopen(path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	spool_config_defaults(&cfg);
	cfg.statedir = root;
	cfg.max_slots = 1;
	if ((sp = spool_new(&cfg)) == NULL)
		abort();
	spool_free(sp);
	snprintf(path, sizeof(path), "%s/20250101T000000Z_0000000007."
	    "pcap.gz.part", hostdir);
	if (access(path, F_OK) == 0)
		abort();		/* a .part must never survive a scan */
	empty_dir(hostdir);
	return 0;
}
