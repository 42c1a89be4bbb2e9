/* Debug console (QEMU -debugcon, port 0xE9) and exit (isa-debug-exit, port 0xF4). */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdint.h>

void con_putc(char c);
void con_puts(const char *s);
/* "0x" is not printed: callers spell their own format. */
void con_hex(uint32_t v, int digits);
void con_hex64(uint64_t v);
void con_dec(uint32_t v);
/* QEMU exits with status (code << 1) | 1; never returns. */
__attribute__((noreturn)) void qemu_exit(uint8_t code);

#endif
