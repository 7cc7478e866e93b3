/*
 * capwire.c: escalation events become capture-writer commands.
 */
#include "sensord.h"

void
sd_capture_event(struct sensord *sd, const struct esc_event *ev,
    uint64_t event_id)
{
	(void)sd;
	(void)ev;
	(void)event_id;
}
