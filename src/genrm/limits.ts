/** Node's timers fire after 1 ms past this many milliseconds (2^31 - 1): every time bound stays below. */
export const MAX_TIMER_MS = 0x7fffffff;

/** The largest time setting in whole seconds that a Node timer can hold (about 24.8 days). */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);
