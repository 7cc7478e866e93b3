/*
 * summary.c: the end-of-replay report: what was read, how it decoded, what
 * the flow engine did with it.  Text for people, one JSON object for
 * scripts (`--summary json`, read by the tests and `make bench`).
 */
#include <pcap/pcap.h>
#include <stdio.h>

#include "sensord.h"

static const char *const proto_names[SD_P__COUNT] = {
    "tcp", "udp", "icmp", "icmp6", "sctp", "other"};

static const char *
dlt_name(int dlt)
{
	const char *n = pcap_datalink_val_to_name(dlt);

	return n != NULL ? n : "unknown";
}

static void
summary_text(const struct sensord *sd, const struct ft_stats *fs,
    const struct host_stats *hs)
{
	const struct sd_counters *c = &sd->c;
	unsigned		  i;

	printf("packets %llu (%llu wire bytes), link type %s\n",
	    (unsigned long long)c->n_pkts, (unsigned long long)c->n_wire_bytes,
	    dlt_name(sd->dlt));
	printf("ip packets %llu (%llu IP bytes): ipv4 %llu, ipv6 %llu\n",
	    (unsigned long long)c->n_ip_pkts, (unsigned long long)c->n_ip_bytes,
	    (unsigned long long)c->n_v4, (unsigned long long)c->n_v6);
	printf("protocols:");
	for (i = 0; i < SD_P__COUNT; i++)
		printf(" %s %llu", proto_names[i],
		    (unsigned long long)c->n_proto[i]);
	printf("\ndecode:");
	for (i = 0; i < DEC__COUNT; i++)
		if (c->n_dec[i] != 0)
			printf(" %s %llu", dec_result_name((enum dec_result)i),
			    (unsigned long long)c->n_dec[i]);
	printf("\nconversations %llu, records %llu, evicted %llu "
	       "(table holds %llu at %llu bytes each)\n",
	    (unsigned long long)fs->n_created,
	    (unsigned long long)fs->n_records, (unsigned long long)fs->n_evict,
	    (unsigned long long)fs->capacity,
	    (unsigned long long)fs->bytes_per_flow);
	printf("hosts %llu tracked of %llu, evicted %llu, refused ~%llu "
	       "(%llu refusals)\n",
	    (unsigned long long)hs->n_hosts, (unsigned long long)hs->capacity,
	    (unsigned long long)hs->n_evicted,
	    (unsigned long long)hs->n_refused,
	    (unsigned long long)hs->n_refusals);
	if (sd->elapsed_s > 0)
		printf("%.3f s, %.0f packets/s\n", sd->elapsed_s,
		    (double)c->n_pkts / sd->elapsed_s);
}

static void
summary_json(const struct sensord *sd, const struct ft_stats *fs,
    const struct host_stats *hs)
{
	const struct sd_counters *c = &sd->c;
	unsigned		  i;

	printf("{\"packets\":%llu,\"wire_bytes\":%llu,\"ip_packets\":%llu,"
	       "\"ip_bytes\":%llu,\"ipv4\":%llu,\"ipv6\":%llu,"
	       "\"sampled_out\":%llu,\"linktype\":\"%s\",\"proto\":{",
	    (unsigned long long)c->n_pkts, (unsigned long long)c->n_wire_bytes,
	    (unsigned long long)c->n_ip_pkts, (unsigned long long)c->n_ip_bytes,
	    (unsigned long long)c->n_v4, (unsigned long long)c->n_v6,
	    (unsigned long long)c->n_sampled_out, dlt_name(sd->dlt));
	for (i = 0; i < SD_P__COUNT; i++)
		printf("%s\"%s\":%llu", i ? "," : "", proto_names[i],
		    (unsigned long long)c->n_proto[i]);
	printf("},\"decode\":{");
	for (i = 0; i < DEC__COUNT; i++)
		printf("%s\"%s\":%llu", i ? "," : "",
		    dec_result_name((enum dec_result)i),
		    (unsigned long long)c->n_dec[i]);
	printf("},\"flows\":{\"created\":%llu,\"records\":%llu,"
	       "\"active\":%llu,\"evicted\":%llu,\"capacity\":%llu,"
	       "\"bytes_per_flow\":%llu,\"out_of_order\":%llu,\"end\":{",
	    (unsigned long long)fs->n_created,
	    (unsigned long long)fs->n_records, (unsigned long long)fs->n_active,
	    (unsigned long long)fs->n_evict, (unsigned long long)fs->capacity,
	    (unsigned long long)fs->bytes_per_flow,
	    (unsigned long long)fs->n_out_of_order);
	for (i = 1; i < END__COUNT; i++)
		printf("%s\"%s\":%llu", i > 1 ? "," : "",
		    conv_reason_name((enum end_reason)i),
		    (unsigned long long)fs->n_end[i]);
	printf("}},\"hosts\":{\"tracked\":%llu,\"capacity\":%llu,"
	       "\"evicted\":%llu,\"refused\":%llu,\"refusals\":%llu}",
	    (unsigned long long)hs->n_hosts, (unsigned long long)hs->capacity,
	    (unsigned long long)hs->n_evicted,
	    (unsigned long long)hs->n_refused,
	    (unsigned long long)hs->n_refusals);
	printf(",\"elapsed_s\":%.6f,\"pps\":%.0f,\"metering_cpu_s\":%.6f}\n",
	    sd->elapsed_s,
	    sd->elapsed_s > 0 ? (double)c->n_pkts / sd->elapsed_s : 0.0,
	    sd->metering_cpu_s);
}

void
sd_summary(const struct sensord *sd, int as_json)
{
	struct ft_stats	  fs;
	struct host_stats hs;

	ft_get_stats(sd->ft, &fs);
	host_get_stats(sd->ht, &hs);
	if (as_json)
		summary_json(sd, &fs, &hs);
	else
		summary_text(sd, &fs, &hs);
	fflush(stdout);
}
