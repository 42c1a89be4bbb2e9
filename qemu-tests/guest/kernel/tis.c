#include "tis.h"
#include "../common/io.h"

#define TIS_ACCESS 0x00
#define TIS_STS 0x18
#define TIS_FIFO 0x24

#define ACCESS_VALID 0x80
#define ACCESS_ACTIVE 0x20
#define ACCESS_RELINQUISH 0x20
#define ACCESS_REQUEST_USE 0x02

#define STS_VALID 0x80
#define STS_COMMAND_READY 0x40
#define STS_GO 0x20
#define STS_DATA_AVAIL 0x10

/* Polling budget in register reads (TCG makes each a few hundred ns: seconds in total). */
#define TIMEOUT 20000000u

static uint8_t sts(unsigned loc) { return mmio_read8(TIS_LOCALITY(loc) + TIS_STS); }

/* burstCount: STS bytes 1-2, how many bytes the FIFO takes or gives right now. */
static uint32_t burst(unsigned loc)
{
	uint32_t b;
	for (uint32_t n = TIMEOUT; n; n--) {
		b = (mmio_read32(TIS_LOCALITY(loc) + TIS_STS) >> 8) & 0xFFFF;
		if (b)
			return b;
	}
	return 0;
}

static int wait_sts(unsigned loc, uint8_t mask, uint8_t want)
{
	for (uint32_t n = TIMEOUT; n; n--)
		if ((sts(loc) & mask) == want)
			return 0;
	return -1;
}

const char *tis_request(unsigned loc)
{
	uint32_t base = TIS_LOCALITY(loc);

	/* No device: unassigned MMIO reads 0 on q35 (all ones elsewhere); tpmRegValidSts is then wrong. */
	uint8_t access = mmio_read8(base + TIS_ACCESS);
	if (access == 0xFF || !(access & ACCESS_VALID))
		return "no TPM TIS device at 0xFED40000";
	mmio_write8(base + TIS_ACCESS, ACCESS_REQUEST_USE);
	for (uint32_t n = TIMEOUT; n; n--) {
		uint8_t a = mmio_read8(base + TIS_ACCESS);
		if ((a & (ACCESS_VALID | ACCESS_ACTIVE)) == (ACCESS_VALID | ACCESS_ACTIVE))
			return 0;
	}
	return "locality request timed out";
}

void tis_release(unsigned loc) { mmio_write8(TIS_LOCALITY(loc) + TIS_ACCESS, ACCESS_RELINQUISH); }

static const char *read_fifo(unsigned loc, uint8_t *dst, uint32_t n)
{
	while (n) {
		uint32_t b;
		if (wait_sts(loc, STS_VALID | STS_DATA_AVAIL, STS_VALID | STS_DATA_AVAIL))
			return "response data not available";
		b = burst(loc);
		if (!b)
			return "burstCount stayed 0 on read";
		for (; b && n; b--, n--)
			*dst++ = mmio_read8(TIS_LOCALITY(loc) + TIS_FIFO);
	}
	return 0;
}

const char *tis_transmit(unsigned loc, const uint8_t *cmd, uint32_t len, uint8_t *rsp, uint32_t max,
			 uint32_t *rsp_len)
{
	uint32_t base = TIS_LOCALITY(loc), size, sent = 0;
	const char *err;

	mmio_write8(base + TIS_STS, STS_COMMAND_READY);
	if (wait_sts(loc, STS_COMMAND_READY, STS_COMMAND_READY))
		return "commandReady timed out";
	while (sent < len) {
		uint32_t b = burst(loc);
		if (!b)
			return "burstCount stayed 0 on write";
		for (; b && sent < len; b--)
			mmio_write8(base + TIS_FIFO, cmd[sent++]);
	}
	mmio_write8(base + TIS_STS, STS_GO);
	if (wait_sts(loc, STS_VALID | STS_DATA_AVAIL, STS_VALID | STS_DATA_AVAIL))
		return "no response (tpmGo timed out)";

	/* Header first: its size field says how much follows. */
	if (max < 10)
		return "response buffer too small";
	if ((err = read_fifo(loc, rsp, 10)))
		return err;
	size = (uint32_t)rsp[2] << 24 | (uint32_t)rsp[3] << 16 | (uint32_t)rsp[4] << 8 | rsp[5];
	if (size < 10 || size > max)
		return "bad response size";
	if ((err = read_fifo(loc, rsp + 10, size - 10)))
		return err;
	*rsp_len = size;
	mmio_write8(base + TIS_STS, STS_COMMAND_READY); /* done: back to idle */
	return 0;
}
