import type { Migration, MigrationProvider } from 'kysely';
import * as accounts from './0001-accounts.js';
import * as chat from './0002-chat.js';
import * as calls from './0003-calls.js';
import * as accountEvents from './0004-account-events.js';
import * as peoplePrivacy from './0005-people-privacy.js';
import * as sessionsEnded from './0006-sessions-ended.js';
import * as pushTokenSessions from './0007-push-token-sessions.js';
import * as pushOutbox from './0008-push-outbox.js';
import * as conversations from './0009-conversations.js';
import * as groupCalls from './0010-group-calls.js';
import * as mediaServerLost from './0011-media-server-lost.js';
import * as e2eeKeys from './0012-e2ee-keys.js';
import * as media from './0013-media.js';
import * as messageActions from './0014-message-actions.js';
import * as auditLog from './0015-audit-log.js';
import * as callQuality from './0016-call-quality.js';

/** Every migration, in order. Names sort in the order they must run; never rename or edit a shipped one. */
const migrations: Record<string, Migration> = {
  '0001-accounts': accounts,
  '0002-chat': chat,
  '0003-calls': calls,
  '0004-account-events': accountEvents,
  '0005-people-privacy': peoplePrivacy,
  '0006-sessions-ended': sessionsEnded,
  '0007-push-token-sessions': pushTokenSessions,
  '0008-push-outbox': pushOutbox,
  '0009-conversations': conversations,
  '0010-group-calls': groupCalls,
  '0011-media-server-lost': mediaServerLost,
  '0012-e2ee-keys': e2eeKeys,
  '0013-media': media,
  '0014-message-actions': messageActions,
  '0015-audit-log': auditLog,
  '0016-call-quality': callQuality,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
