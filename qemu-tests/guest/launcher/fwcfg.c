#include "fwcfg.h"
#include "../common/io.h"
#include "../common/string.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_NAME_LEN 56

/* Directory entries are big-endian: {size u32, select u16, reserved u16, name[56]}. */
struct fwcfg_file {
	uint32_t size_be;
	uint16_t select_be;
	uint16_t reserved;
	char name[FW_CFG_NAME_LEN];
} __attribute__((packed));

static uint32_t be32(uint32_t v) { return __builtin_bswap32(v); }
static uint16_t be16(uint16_t v) { return __builtin_bswap16(v); }

/* Each select rewinds the item to offset 0; every data read advances it by one byte. */
static void read_bytes(void *dst, uint32_t n)
{
	uint8_t *d = dst;
	while (n--)
		*d++ = inb(FW_CFG_PORT_DATA);
}

void fwcfg_read(uint16_t select, void *dst, uint32_t size)
{
	outw(FW_CFG_PORT_SEL, select);
	read_bytes(dst, size);
}

int fwcfg_find(const char *name, uint16_t *select, uint32_t *size)
{
	uint32_t count;
	struct fwcfg_file f;

	outw(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
	read_bytes(&count, sizeof(count));
	for (count = be32(count); count; count--) {
		read_bytes(&f, sizeof(f));
		f.name[FW_CFG_NAME_LEN - 1] = 0;
		if (!strcmp(f.name, name)) {
			*select = be16(f.select_be);
			*size = be32(f.size_be);
			return 0;
		}
	}
	return -1;
}
