#include "pcr.h"
#include "tis.h"
#include "../common/console.h"

#define TPM_ST_NO_SESSIONS 0x8001
#define TPM_CC_PCR_READ 0x0000017E
#define TPM_RC_HASH 0x083 /* format-one code: the algorithm is not implemented */
#define PCR_SELECT_17_18 0x06 /* pcrSelect[2]: bit 1 = PCR 17, bit 2 = PCR 18 */

static const struct {
	uint16_t alg;
	const char *name;
} banks[] = { { 0x0004, "sha1" }, { 0x000B, "sha256" }, { 0x000C, "sha384" }, { 0x000D, "sha512" } };

/* All TPM fields are big-endian. */
static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }

static uint8_t rsp[1024];

/* Prints the digests of one response; `p`..`end` = after the response header. */
static const char *print_bank(const char *name, const uint8_t *p, const uint8_t *end)
{
	uint32_t nsel, ndig, pcr_list[64], npcr = 0;

	if (end - p < 8)
		return "PCR_Read response truncated";
	p += 4; /* pcrUpdateCounter */
	nsel = be32(p);
	p += 4;
	/* The selection the TPM actually read: an unallocated bank comes back empty. */
	for (; nsel; nsel--) {
		uint32_t sz;
		if (end - p < 3)
			return "PCR_Read selection truncated";
		sz = p[2];
		p += 3;
		if (end - p < (long)sz || sz > 8)
			return "PCR_Read selection truncated";
		for (uint32_t pcr = 0; pcr < sz * 8; pcr++)
			if (p[pcr / 8] & (1u << (pcr % 8)))
				pcr_list[npcr++] = pcr;
		p += sz;
	}
	if (end - p < 4)
		return "PCR_Read digest list truncated";
	ndig = be32(p);
	p += 4;
	if (ndig != npcr)
		return "PCR_Read digest count differs from selection";
	for (uint32_t i = 0; i < ndig; i++) {
		uint32_t sz;
		if (end - p < 2)
			return "PCR_Read digest truncated";
		sz = be16(p);
		p += 2;
		if (end - p < (long)sz)
			return "PCR_Read digest truncated";
		con_puts("SKLTEST pcr ");
		con_puts(name);
		con_putc(' ');
		con_dec(pcr_list[i]);
		con_putc(' ');
		for (uint32_t j = 0; j < sz; j++)
			con_hex(p[j], 2);
		con_putc('\n');
		p += sz;
	}
	return 0;
}

/* TPM 1.2: TPM_PCRRead (TPM Main Part 3 §16.2), SHA-1 only. */
static const char *pcr_report_tpm12(void)
{
	for (uint32_t pcr = 17; pcr <= 18; pcr++) {
		const uint8_t cmd[14] = { 0x00, 0xC1, 0, 0, 0, 14, 0, 0, 0, 0x15, 0, 0, 0, (uint8_t)pcr };
		uint32_t len;
		const char *err = tis_transmit(0, cmd, sizeof(cmd), rsp, sizeof(rsp), &len);

		if (err)
			return err;
		if (len != 30 || be32(rsp + 6)) {
			con_puts("SKLTEST error TPM_PCRRead rc 0x");
			con_hex(be32(rsp + 6), 8);
			con_putc('\n');
			return "TPM_PCRRead failed";
		}
		con_puts("SKLTEST pcr sha1 ");
		con_dec(pcr);
		con_putc(' ');
		for (uint32_t j = 0; j < 20; j++)
			con_hex(rsp[10 + j], 2);
		con_putc('\n');
	}
	return 0;
}

const char *pcr_report(void)
{
	/* INTF_CAPABILITY.InterfaceVersion (bits 30:28): 0b011 = FIFO for TPM 2.0. */
	if (((*(volatile uint32_t *)0xFED40014 >> 28) & 7) != 3)
		return pcr_report_tpm12();
	for (unsigned b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
		const uint8_t cmd[20] = {
			TPM_ST_NO_SESSIONS >> 8, TPM_ST_NO_SESSIONS & 0xFF,
			0, 0, 0, sizeof(cmd),					/* commandSize */
			0, 0, TPM_CC_PCR_READ >> 8, TPM_CC_PCR_READ & 0xFF,	/* commandCode */
			0, 0, 0, 1,						/* TPML_PCR_SELECTION.count */
			(uint8_t)(banks[b].alg >> 8), (uint8_t)banks[b].alg,	/* hash */
			3, 0, 0, PCR_SELECT_17_18,				/* sizeofSelect, pcrSelect */
		};
		uint32_t len, rc;
		const char *err = tis_transmit(0, cmd, sizeof(cmd), rsp, sizeof(rsp), &len);

		if (err)
			return err;
		rc = be32(rsp + 6);
		if ((rc & ~0xF40u) == TPM_RC_HASH) /* parameter-numbered TPM_RC_HASH: no such algorithm */
			continue;
		if (rc) {
			con_puts("SKLTEST error TPM2_PCR_Read ");
			con_puts(banks[b].name);
			con_puts(" rc 0x");
			con_hex(rc, 8);
			con_putc('\n');
			return "TPM2_PCR_Read failed";
		}
		if ((err = print_bank(banks[b].name, rsp + 10, rsp + len)))
			return err;
	}
	return 0;
}
