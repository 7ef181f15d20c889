/** Chat events (CONTRACT.md "Chat events"); filled in by the chat feature. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ChatClientEvents {}
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ChatServerEvents {}
