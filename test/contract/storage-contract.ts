import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/shared/ids.js';
import type { NewSession, NewUser, Storage, UserRecord } from '../../src/storage/ports.js';
import { accountEventsContract } from './sections/account-events.contract.js';
import { adminContract } from './sections/admin.contract.js';
import { auditContract } from './sections/audit.contract.js';
import { callQualityContract } from './sections/call-quality.contract.js';
import { callsContract } from './sections/calls.contract.js';
import { chatChangesContract } from './sections/chat-changes.contract.js';
import { conversationsContract } from './sections/conversations.contract.js';
import { deviceKeysContract } from './sections/device-keys.contract.js';
import { groupCallsContract } from './sections/group-calls.contract.js';
import { mediaContract } from './sections/media.contract.js';
import { messageActionsContract } from './sections/message-actions.contract.js';
import { messagesContract } from './sections/messages.contract.js';
import { peopleContract } from './sections/people.contract.js';
import { pushOutboxContract } from './sections/push-outbox.contract.js';
import { pushTokensContract } from './sections/push-tokens.contract.js';
import { safetyContract } from './sections/safety.contract.js';
import { sessionsContract } from './sections/sessions.contract.js';
import { usersContract } from './sections/users.contract.js';

/**
 * What a contract section gets: the storage under test (opened once per adapter) and fixtures. Every
 * fixture is unique, so sections may share one database with each other and with earlier runs.
 */
export interface ContractContext {
  readonly storage: Storage;
  newUser(overrides?: Partial<NewUser>): NewUser;
  createUser(overrides?: Partial<NewUser>): Promise<UserRecord>;
  newSession(userId: string, overrides?: Partial<NewSession>): NewSession;
  /** A random string standing for a refresh-token hash. */
  tokenHash(): string;
}

/** One part of the port (users, sessions, ...): defines its tests with node:test's `test`/`describe`. */
export type ContractSection = (ctx: ContractContext) => void;

/**
 * The sections every adapter must pass, in order. A new port (messages, calls) adds its section here
 * and every adapter is held to it at once.
 */
export const storageContractSections: Record<string, ContractSection> = {
  users: usersContract,
  sessions: sessionsContract,
  'push tokens': pushTokensContract,
  'push outbox': pushOutboxContract,
  people: peopleContract,
  messages: messagesContract,
  'message actions': messageActionsContract,
  'blocks and reports': safetyContract,
  conversations: conversationsContract,
  'chat changes': chatChangesContract,
  calls: callsContract,
  'group calls': groupCallsContract,
  'account events': accountEventsContract,
  'device keys': deviceKeysContract,
  media: mediaContract,
  admin: adminContract,
  audit: auditContract,
  'call quality': callQualityContract,
};

/** Runs the whole storage contract against the adapter `open` returns, as the suite `name`. */
export function storageContract(name: string, open: () => Promise<Storage>, options: { skip?: string | undefined } = {}): void {
  if (options.skip) {
    // A skipped test (not a skipped suite) so that the run's summary counts it as skipped.
    test(`storage contract: ${name}`, { skip: options.skip }, () => undefined);
    return;
  }
  describe(`storage contract: ${name}`, () => {
    let storage: Storage | undefined;
    before(async () => {
      storage = await open();
    });
    after(() => storage?.close());

    const ctx: ContractContext = {
      get storage() {
        if (!storage) throw new Error('the storage is not open');
        return storage;
      },
      newUser: (overrides = {}) => ({
        id: newId(),
        email: `contract-${randomUUID()}@example.com`,
        name: 'Contract User',
        passwordHash: `$argon2id$fake$${randomUUID()}`,
        createdAt: new Date(),
        ...overrides,
      }),
      async createUser(overrides = {}) {
        const user = await ctx.storage.users.create(ctx.newUser(overrides));
        if (!user) throw new Error('fixture user could not be created');
        return user;
      },
      newSession: (userId, overrides = {}) => {
        const now = new Date();
        return {
          id: newId(),
          userId,
          deviceName: 'Contract Phone',
          userAgent: 'contract-test/1.0',
          ip: '192.0.2.10',
          createdAt: now,
          lastUsedAt: now,
          expiresAt: new Date(now.getTime() + 86_400_000),
          ...overrides,
        };
      },
      tokenHash: () => randomUUID(),
    };

    for (const [section, define] of Object.entries(storageContractSections)) describe(section, () => define(ctx));
  });
}
