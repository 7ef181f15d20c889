/** Call signaling events (CONTRACT.md "Call events"); filled in by the calls feature. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CallClientEvents {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CallServerEvents {}
