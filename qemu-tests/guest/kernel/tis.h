/* Minimal TPM TIS FIFO driver (TCG PC Client Platform TPM Profile, TIS FIFO interface: request
 * locality, commandReady, write burstCount at a time, go, dataAvail, read, relinquish). */
#ifndef TIS_H
#define TIS_H

#include <stdint.h>

#define TIS_BASE 0xFED40000u
#define TIS_LOCALITY(l) (TIS_BASE + (uint32_t)(l) * 0x1000u)

/* Each returns 0 on success or a short reason (for "SKLTEST error <text>"). */
const char *tis_request(unsigned loc);
/* Sends `cmd` and reads the response (at most `max` bytes) into `rsp`; *rsp_len = bytes read. */
const char *tis_transmit(unsigned loc, const uint8_t *cmd, uint32_t len, uint8_t *rsp, uint32_t max,
			 uint32_t *rsp_len);
void tis_release(unsigned loc);

#endif
