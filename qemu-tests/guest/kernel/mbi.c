#include "mbi.h"
#include "../common/console.h"

#define MB2_TAG_END 0
#define MB2_TAG_MODULE 3
#define MBI_SANE_MAX (1u << 20) /* refuse to walk what is clearly not an MBI */

static void line_hex(const char *what, uint32_t v)
{
	con_puts(what);
	con_puts("0x");
	con_hex(v, 8);
}

void mbi_report(uint32_t mbi)
{
	uint32_t total = *(const volatile uint32_t *)mbi, off = 8, i = 0;

	line_hex("SKLTEST mbi ", mbi);
	con_puts(" size ");
	con_dec(total);
	con_putc('\n');
	if (total < 16 || total > MBI_SANE_MAX)
		return;
	while (off + 8 <= total) {
		const uint32_t *tag = (const uint32_t *)(mbi + off);
		if (tag[0] == MB2_TAG_END || tag[1] < 8)
			break;
		if (tag[0] == MB2_TAG_MODULE && tag[1] >= 16) {
			con_puts("SKLTEST module ");
			con_dec(i++);
			line_hex(" ", tag[2]);
			line_hex(" ", tag[3]);
			con_putc('\n');
		}
		off += (tag[1] + 7) & ~7u;
	}
}
