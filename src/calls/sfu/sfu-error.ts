import { AppError } from '../../shared/app-error.js';

/**
 * Why an SFU operation failed, in the project's terms:
 * - `unavailable`: Janus cannot be reached, did not answer in time, or lost our session;
 * - `refused`: Janus turned the request down (a malformed offer, a full room);
 * - `not_in_room`: the device has no such connection in the room, or the room is gone.
 */
export type SfuErrorKind = 'unavailable' | 'refused' | 'not_in_room';

const WIRE = {
  unavailable: { code: 'UNAVAILABLE', message: 'The media server is not available' },
  refused: { code: 'VALIDATION_FAILED', message: 'The media server refused the request' },
  not_in_room: { code: 'INVALID_STATE', message: 'Not connected to this call’s media server room' },
} as const;

/**
 * An AppError whose wire form says only what kind of failure it was; what Janus said (its error code
 * and reason) is kept in `janus` for the logs and never sent to a client.
 */
export class SfuError extends AppError {
  readonly kind: SfuErrorKind;
  readonly janus: { code?: number; reason: string } | undefined;

  constructor(kind: SfuErrorKind, janus?: { code?: number; reason: string }) {
    super(WIRE[kind].code, WIRE[kind].message);
    this.name = 'SfuError';
    this.kind = kind;
    this.janus = janus;
  }
}
