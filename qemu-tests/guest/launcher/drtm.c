#include "drtm.h"
#include "txt.h"
#include "../common/io.h"

#define MAILBOX_REQUEST_TXT 0x544E4553u /* "SENT": SINIT's MLE measurement and its log */
#define MAILBOX_DONE 0x454E4F44u    /* "DONE" */

void drtm_measure(struct launch *l)
{
	volatile uint32_t *mb = (volatile uint32_t *)MAILBOX_ADDR;

	if (!l->cfg.txt) {
		say("DRTM: SKINIT measures the SLB itself (locality 4, in the CPU)");
		return;
	}
	if (l->cfg.skip_drtm) {
		say("skip_drtm=1: no DRTM measurement (test-only, PCR 17 not reset)");
		return;
	}
	/* Arguments first, the magic last: the proxy acts as soon as it sees "SENT". */
	mb[1] = l->slb_base;
	mb[2] = l->word[1];
	mb[3] = 0;
	mb[4] = LOG_ADDR;
	mb[5] = txt_log_next_field();
	mb[6] = LOG_SIZE;
	barrier();
	mb[0] = MAILBOX_REQUEST_TXT;
	say("DRTM: waiting for the proxy");
	while (mb[0] != MAILBOX_DONE)
		cpu_relax();
	if (mb[3])
		fail_hex("DRTM measurement failed, result", mb[3]);
	say("DRTM: measured");
}
