/*
 * convrec.c: the two small formatters declared in convrec.h (end reason
 * names, TCP flag letters).  Shared by every consumer that prints a record:
 * the flow log, sensorctl, the golden tests.  No state, no allocation.
 */
#include "convrec.h"

static const char *const reason_names[END__COUNT] = {
	[END_NONE] = "none",
	[END_FIN] = "fin",
	[END_RST] = "rst",
	[END_IDLE] = "idle",
	[END_ACTIVE] = "active",
	[END_EVICT] = "evict",
	[END_EOF] = "eof",
	[END_SHUTDOWN] = "shutdown",
};

const char *
conv_reason_name(enum end_reason r)
{
	if ((unsigned)r >= END__COUNT)
		return "unknown";
	return reason_names[r];
}

/*
 * Letters in the order of the bits in the TCP header's flags byte, most
 * significant first (RFC 9293 §3.1 plus CWR/ECE from RFC 3168), so the
 * string reads like tcpdump's and the order never depends on the input.
 */
void
conv_flags_str(uint8_t flags, char out[9])
{
	static const char letters[8] = { 'C', 'E', 'U', 'A', 'P', 'R', 'S',
	    'F' };
	unsigned i, n = 0;

	for (i = 0; i < 8; i++)
		if (flags & (0x80u >> i))
			out[n++] = letters[i];
	out[n] = '\0';
}
