/*
 * sctl_merge.c: packets of several capture files into one pcap, in time
 * order, cut and filtered (sctl_cap.h).
 *
 * The files of one host follow each other in time; they overlap only if
 * something went wrong (a clock step, two captures of the host at once).
 * So the merge is lazy: the files are sorted by their first packet time
 * and a file is opened only when the smallest head of the open ones has
 * reached that time, which keeps one or two files open in the normal case
 * and gives a correct k-way merge when they overlap.  Picking the next
 * packet is a linear scan over the open files (k is small; a heap would
 * pay only past a few dozen); ties go to the file opened first, so equal
 * stamps keep file order.
 *
 * Owns: the open sources (at most SCTL_MERGE_ACTIVE_MAX).  Cost per packet:
 * the scan over open heads, the BPF program when given, one record write.
 */
#include <errno.h>
#include <string.h>

#include <pcap/pcap.h>

#include "sctl_cap.h"

struct m_head {
	size_t		   idx; /* in in[] */
	struct sctl_src	  *src;
	struct pcapfmt_rec rec; /* the head record */
};

struct m_state {
	const struct sctl_merge_in *in;
	size_t			    n, next;
	struct m_head		    act[SCTL_MERGE_ACTIVE_MAX];
	size_t			    n_act;
	struct sctl_merge_stats	   *st;
	size_t			   *which;
	const char		  **why;
};

static void
head_close(struct m_state *m, size_t k)
{
	struct sctl_src_stats s;

	sctl_src_stats(m->act[k].src, &s);
	m->st->src.members_read += s.members_read;
	m->st->src.members_skipped += s.members_skipped;
	m->st->src.bytes_in += s.bytes_in;
	m->st->src.used_index += s.used_index;
	sctl_src_free(m->act[k].src);
	memmove(
	    &m->act[k], &m->act[k + 1], (m->n_act - k - 1) * sizeof(m->act[0]));
	m->n_act--;
}

/* Read the head of act[k]; closes it at its end.  A result code. */
static enum sctl_merge_res
head_next(struct m_state *m, size_t k)
{
	int r;

	r = sctl_src_next(m->act[k].src, &m->act[k].rec, m->why);
	if (r == 1) {
		m->st->read++;
		return SCTL_MERGE_OK;
	}
	*m->which = m->act[k].idx;
	head_close(m, k);
	if (r == 0)
		return SCTL_MERGE_OK;
	return r == -2 ? SCTL_MERGE_READ_ERROR : SCTL_MERGE_BAD_DATA;
}

static enum sctl_merge_res
open_next(struct m_state *m, uint64_t since_ns, uint64_t until_ns)
{
	const struct sctl_merge_in *in = &m->in[m->next];
	struct m_head		   *h;

	if (m->n_act == SCTL_MERGE_ACTIVE_MAX)
		return SCTL_MERGE_TOO_MANY;
	h = &m->act[m->n_act];
	*m->which = m->next;
	h->idx = m->next++;
	h->src = sctl_src_open(in->fd, in->side, since_ns, until_ns, m->why);
	if (h->src == NULL)
		return SCTL_MERGE_BAD_DATA;
	m->n_act++;
	if (m->n_act > m->st->max_active)
		m->st->max_active = m->n_act;
	return head_next(m, m->n_act - 1);
}

/* Index of the open head with the smallest time (the first on ties). */
static size_t
smallest(const struct m_state *m)
{
	size_t k, best = 0;

	for (k = 1; k < m->n_act; k++)
		if (m->act[k].rec.ts_ns < m->act[best].rec.ts_ns)
			best = k;
	return best;
}

static int
keep(const struct pcapfmt_rec *r, const struct bpf_program *prog)
{
	struct pcap_pkthdr ph;

	if (prog == NULL)
		return 1;
	memset(&ph, 0, sizeof(ph));
	ph.ts.tv_sec = (time_t)(r->ts_ns / 1000000000u);
	ph.ts.tv_usec = (suseconds_t)(r->ts_ns % 1000000000u / 1000u);
	ph.caplen = r->caplen;
	ph.len = r->wirelen;
	return pcap_offline_filter(prog, &ph, r->data) != 0;
}

enum sctl_merge_res
sctl_merge(const struct sctl_merge_in *in, size_t n, uint64_t since_ns,
    uint64_t until_ns, const struct bpf_program *prog, struct sctl_out *out,
    struct sctl_merge_stats *st, size_t *which, const char **why)
{
	struct m_state		  m;
	enum sctl_merge_res	  res = SCTL_MERGE_OK;
	const struct pcapfmt_rec *r;
	size_t			  k;

	memset(st, 0, sizeof(*st));
	memset(&m, 0, sizeof(m));
	m.in = in;
	m.n = n;
	m.st = st;
	m.which = which;
	m.why = why;
	/* Bounded: every pass consumes a record or opens a file. */
	for (;;) {
		while (m.next < n &&
		    (m.n_act == 0 ||
			in[m.next].start_ns <= m.act[smallest(&m)].rec.ts_ns))
			if ((res = open_next(&m, since_ns, until_ns)) !=
			    SCTL_MERGE_OK)
				goto out;
		if (m.n_act == 0)
			break;
		k = smallest(&m);
		r = &m.act[k].rec;
		if (r->ts_ns < since_ns || r->ts_ns > until_ns)
			st->cut++;
		else if (!keep(r, prog))
			st->filtered++;
		else if (sctl_out_pkt(out, r->ts_ns, r->data, r->caplen,
			     r->wirelen) != 0) {
			res = SCTL_MERGE_WRITE_ERROR;
			goto out;
		} else
			st->written++;
		if ((res = head_next(&m, k)) != SCTL_MERGE_OK)
			goto out;
	}
out:
	while (m.n_act > 0)
		head_close(&m, m.n_act - 1);
	return res;
}
