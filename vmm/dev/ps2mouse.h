/* SPDX-License-Identifier: MIT */
/*
 * A PS/2 mouse behind the i8042's aux port, with the IntelliMouse wheel
 * (ID 3 after the sample-rate knock 200/100/80) and the IntelliMouse
 * Explorer (ID 4 after 200/200/80; with Linux's "4.0" knock 200/80/40 it
 * also reports a horizontal wheel), as Linux's psmouse probes it:
 * reset (FA AA 00), get ID, resolution, scaling, sample rate, status
 * request, read data, remote/stream mode, wrap mode, enable/disable,
 * defaults, resend. Unknown commands get 0xFE.
 *
 * Every packet goes into the i8042's bounded queue whole or not at all, so
 * a guest that does not read loses motion but never sees half a packet.
 *
 * Thread-safe: commands come from vCPU threads, motion from any thread.
 */
#ifndef VMM_DEV_PS2MOUSE_H
#define VMM_DEV_PS2MOUSE_H

#include "i8042.h"

/* Button bits for ps2mouse_motion (the same bits as display/input.h's
 * INPUT_BUTTON_LEFT/MIDDLE/RIGHT). */
#define PS2MOUSE_BUTTON_LEFT   0x01
#define PS2MOUSE_BUTTON_MIDDLE 0x02
#define PS2MOUSE_BUTTON_RIGHT  0x04

/* Most packets one ps2mouse_motion() call sends; motion beyond is dropped. */
#define PS2MOUSE_MAX_PACKETS 16

struct ps2mouse;

/* Creates the mouse and attaches it to ctl's aux port. NULL on allocation
 * failure. */
struct ps2mouse *ps2mouse_create(struct i8042 *ctl);
/* Detaches and frees; the vCPUs must be stopped. */
void ps2mouse_destroy(struct ps2mouse *m);

/*
 * Motion in pixels (dx > 0: right, dy > 0: down on the screen), wheel steps
 * (dz > 0: up, away from the user; dw > 0: right) and the buttons now held
 * (PS2MOUSE_BUTTON_* bits). Large motions are split into several packets.
 * Nothing is sent while the guest has data reporting off; in remote mode
 * motion accumulates until the guest reads it (0xEB).
 */
void ps2mouse_motion(struct ps2mouse *m, int dx, int dy, int dz, int dw,
		     unsigned buttons);

#endif
