/* console — where Workers' console.* output goes. */
#ifndef HEARTH_PLATFORM_CONSOLE_H
#define HEARTH_PLATFORM_CONSOLE_H

void console_ops_register(void);

#endif
