import { AppError } from '../shared/app-error.js';

/** What a process answers a request of one kind with; an AppError it throws reaches the asker as such. */
export type RequestHandler = (payload: unknown) => Promise<unknown>;

/**
 * Requests from one server process to another named one, for work only that process can do (it holds
 * the connection to a media server room, say). One process has nobody to ask; several ask through Redis.
 */
export interface ProcessRequests {
  /** This process answers the requests of `kind` with `handler` (one handler per kind). */
  answer(kind: string, handler: RequestHandler): void;
  /**
   * Resolves with what process `processId` answered, rejects with the AppError it threw (any other
   * failure there is INTERNAL), with ProcessGoneError when no such process listens any more, and with
   * UNAVAILABLE when it does not answer within the bound.
   */
  ask(processId: string, kind: string, payload: unknown): Promise<unknown>;
  /** The ids of the other processes listening for requests now. */
  others(): Promise<string[]>;
}

/** The process asked is not running (it stopped or died): what it held is gone with it. */
export class ProcessGoneError extends AppError {
  constructor(readonly processId: string) {
    super('UNAVAILABLE', 'The server process holding this is gone; try again in a moment');
    this.name = 'ProcessGoneError';
  }
}

/** One process: every other process id is of one that ran before and is gone. */
export function onlyThisProcess(): ProcessRequests {
  return {
    answer: () => undefined,
    ask: async (processId) => {
      throw new ProcessGoneError(processId);
    },
    others: async () => [],
  };
}
