#include "console.h"
#include "io.h"

#define DEBUGCON_PORT 0xE9
#define DEBUG_EXIT_PORT 0xF4

void con_putc(char c) { outb(DEBUGCON_PORT, (uint8_t)c); }

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

void con_hex(uint32_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = digits - 1; i >= 0; i--)
		con_putc(hex[(v >> (i * 4)) & 0xF]);
}

void con_hex64(uint64_t v)
{
	con_hex((uint32_t)(v >> 32), 8);
	con_hex((uint32_t)v, 8);
}

void con_dec(uint32_t v)
{
	char buf[10];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		con_putc(buf[--n]);
}

void qemu_exit(uint8_t code)
{
	outl(DEBUG_EXIT_PORT, code);
	/* Without isa-debug-exit the write is ignored: stop here for good. */
	for (;;)
		__asm__ volatile("cli; hlt");
}
