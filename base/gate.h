/* base/gate.h — a cap on work of one kind running at once in this process, with a bounded
 * wait: the image gate keeps decodes of big pictures (photo checks and uploads, QR codes) to a
 * few at a time, so that one student sending many cannot take every worker and all the memory
 * while the others wait. Any thread. */
#ifndef PC_BASE_GATE_H
#define PC_BASE_GATE_H

/* Sets how many image decodes may run at once (limits.image_workers; main thread, before the
 * workers start). Until then the gate lets everything through. */
void pc_image_gate_set(int capacity);
/* Waits at most wait_ms for a place. 0 (the place is the caller's until pc_image_gate_leave),
 * or PC_EBUSY when none freed up in time (answer 503 with Retry-After). */
int pc_image_gate_enter(int wait_ms);
/* Gives the place back. */
void pc_image_gate_leave(void);

#endif
