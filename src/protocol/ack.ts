import type { ErrorBody } from './errors.js';

/**
 * What every client-to-server event's acknowledgement callback receives: `{ ok: true, ...result }` or
 * `{ ok: false, error }` with the same error body as REST.
 */
export type AckResponse<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ErrorBody };

export type Ack<T extends object = object> = (response: AckResponse<T>) => void;

/** The shape of a client-to-server event: a payload and an optional acknowledgement callback. */
export type ClientEvent<Payload, Result extends object = object> = (payload: Payload, ack?: Ack<Result>) => void;
