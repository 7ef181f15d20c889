/**
 * Operator commands against the configured database. On PostgreSQL and MongoDB a change reaches running
 * servers through the account-events feed; the embedded database cannot be opened while a server runs on it.
 *   npm run cli -- user:role <email> <user|admin>
 *   npm run cli -- user:status <email> <active|banned|deleted>
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { openStorage } from './storage/open-storage.js';
import { AuditLog } from './audit/audit-log.js';
import { loadConfig } from './config/config.js';
import { emailSchema } from './protocol/auth.js';
import { AppError } from './shared/app-error.js';
import { createDomainEvents } from './shared/domain-events.js';
import { createLogger } from './shared/logger.js';
import { AccountAdminService } from './users/account-admin-service.js';

const commandSchema = z.union([
  z.tuple([z.literal('user:role'), emailSchema, z.enum(['user', 'admin'])]).transform(([, email, role]) => ({ email, change: { role } })),
  z
    .tuple([z.literal('user:status'), emailSchema, z.enum(['active', 'banned', 'deleted'])])
    .transform(([, email, status]) => ({ email, change: { status } })),
]);

const parsed = commandSchema.safeParse(process.argv.slice(2));
if (!parsed.success) {
  console.error('usage: npm run cli -- user:role <email> <user|admin>\n       npm run cli -- user:status <email> <active|banned|deleted>');
  process.exit(2);
}

if (existsSync('.env')) process.loadEnvFile('.env');
const config = loadConfig(process.env);
const logger = createLogger({ ...config.log, level: 'warn' });
const storage = await openStorage(config, logger).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
try {
  const { email, change } = parsed.data;
  const user = await storage.users.findByEmail(email);
  if (!user) throw new AppError('NOT_FOUND', `No account with the email ${email}`);
  // Audited with no actor and no client: an operator on the command line.
  const accounts = new AccountAdminService(storage, createDomainEvents(), new AuditLog({ store: storage.audit, logger }));
  const updated = await accounts.update(user.id, change, null);
  console.log(`${updated.email}: role ${updated.role}, status ${updated.status}`);
} catch (error) {
  console.error(error instanceof AppError ? error.message : error);
  process.exitCode = 1;
} finally {
  await storage.close();
}
