import { marked } from 'marked';
import { loadConfig, type Config } from '../config/config.js';
import { clientEvents, EVERY_EVENT_ERRORS, serverEvents, type ClientEventEntry, type ServerEventEntry } from '../protocol/event-catalog.js';
import { ERROR_STATUS } from '../protocol/errors.js';
import { createEventBudgets, type ClientEventName } from '../realtime/event-budgets.js';
import { memoryRateLimit, type RateLimit, type RateLimitSettings } from '../shared/rate-limit.js';
import { schemaBlock, shapeAnchor, shapesUsed } from './json-schema-markdown.js';
import { toJsonSchemas, type JsonSchema } from './wire-schemas.js';

export interface BudgetDescription extends RateLimitSettings {
  /** Its name, as RATE_LIMITED messages say it ("Too many messages"). */
  what: string;
}

/** Each client event's budget as createEventBudgets builds it from this configuration. */
export function describeBudgets(config: Config): Record<ClientEventName, BudgetDescription> {
  const described = new Map<RateLimit, BudgetDescription>();
  const budgets = createEventBudgets(config, (settings, what) => {
    const limit = memoryRateLimit(settings, what);
    described.set(limit, { what, ...settings });
    return limit;
  });
  return Object.fromEntries(Object.entries(budgets).map(([event, limit]) => [event, described.get(limit)!])) as Record<ClientEventName, BudgetDescription>;
}

/** The budgets of the default configuration: what docs/api/events.md shows (a running server's /docs/events shows its own). */
export const defaultBudgets = () => describeBudgets(loadConfig({}));

/** Where `npm run docs:events` keeps the reference, relative to the repository. */
export const EVENT_REFERENCE_FILE = 'docs/api/events.md';

const REF_BASE = '#/shapes/';
const isEmptyObject = (schema: JsonSchema) => schema.type === 'object' && Object.keys((schema.properties ?? {}) as object).length === 0;
const code = (text: string) => `\`${text}\``;
const eventAnchor = (name: string) => `event-${name.toLowerCase().replace(/_/g, '-')}`;

function budgetText(event: ClientEventName, budgets: Record<ClientEventName, BudgetDescription>): string {
  const budget = budgets[event];
  const sharedWith = (Object.keys(budgets) as ClientEventName[]).filter((other) => other !== event && budgets[other].what === budget.what);
  return `"${budget.what}": ${budget.points} per ${budget.windowSeconds} s per user${sharedWith.length > 0 ? `, shared with ${sharedWith.map(code).join(', ')}` : ''}`;
}

/**
 * The Socket.io event reference in Markdown, generated from the protocol's event catalog: every event,
 * its direction, payload, ack and error codes, and its budget under `budgets`.
 */
export function buildEventReference(budgets: Record<ClientEventName, BudgetDescription>): string {
  const client = Object.entries(clientEvents) as [ClientEventName, ClientEventEntry][];
  const server = Object.entries(serverEvents) as [string, ServerEventEntry][];
  const described = [...client.flatMap(([, entry]) => [entry.payload, entry.ack]), ...server.map(([, entry]) => entry.payload)];
  const { shapes, inline } = toJsonSchemas(described, REF_BASE);
  const clientSchemas = new Map(client.map(([name], index) => [name, { payload: inline[index * 2]!, ack: inline[index * 2 + 1]! }]));
  const serverSchemas = new Map(server.map(([name], index) => [name, inline[client.length * 2 + index]!]));
  const names = [...new Set<string>([...client.map(([name]) => name), ...server.map(([name]) => name)])];
  const clientEntry = (name: string) => (clientEvents as Record<string, ClientEventEntry | undefined>)[name];
  const serverEntry = (name: string) => (serverEvents as Record<string, ServerEventEntry | undefined>)[name];

  const out: string[] = [
    '# Socket.io event reference',
    '',
    '<!-- Generated from src/protocol/event-catalog.ts by `npm run docs:events`; do not edit by hand. -->',
    '',
    'Every Socket.io event, both directions. Connect with `io(url, { auth: { token: accessToken } })` (see "Connecting a socket" in docs/api/README.md).',
    'Ids are opaque UUIDv7 strings, timestamps ISO-8601 UTC strings. The REST API is at `/docs` (OpenAPI: `/openapi.json`); this page is served at `/docs/events`.',
    '',
    '- **Acknowledgements.** Every client-to-server event takes an optional acknowledgement callback, answered with `{ ok: true, ...fields }` (the fields listed under "ack") or `{ ok: false, error: { code, message, details?, retryAfterSeconds? } }` ([ErrorBody](#shape-errorbody)).',
    `- **Errors every event may answer:** ${EVERY_EVENT_ERRORS.map(code).join(', ')} (a malformed payload, one over 100 KiB, a spent budget with \`error.retryAfterSeconds\`, a stopping server, our fault). Each event lists the others it may answer.`,
    '- **Budgets.** Each event spends one point of a per-user budget (all devices together) before its payload is validated. The figures are the defaults; see docs/security.md for the settings.',
    '',
    '| event | client -> server | server -> client | budget |',
    '|---|---|---|---|',
    ...names.map((name) => {
      const sent = clientEntry(name);
      return `| [${code(name)}](#${eventAnchor(name)}) | ${sent ? 'yes' : '-'} | ${serverEntry(name) ? 'yes' : '-'} | ${sent ? budgets[name as ClientEventName].what : '-'} |`;
    }),
    '',
    '## Events',
  ];

  for (const name of names) {
    out.push('', `<a id="${eventAnchor(name)}"></a>`, '', `### ${code(name)}`);
    const sent = clientEntry(name);
    const schemas = clientSchemas.get(name as ClientEventName);
    if (sent && schemas) {
      const errors = [...sent.errors].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b]);
      out.push(
        '',
        `**Client -> server.** ${sent.summary}`,
        '',
        'Payload:',
        '',
        schemaBlock(schemas.payload),
        '',
        ...(isEmptyObject(schemas.ack) ? ['Ack: `{ ok: true }`.', ''] : ['Ack `{ ok: true, ... }` with:', '', schemaBlock(schemas.ack), '']),
        `Errors: ${errors.length > 0 ? `${errors.map(code).join(', ')}, and those of every event` : 'those of every event'}.`,
        '',
        `Budget: ${budgetText(name as ClientEventName, budgets)}.`,
      );
    }
    const received = serverEntry(name);
    const payload = serverSchemas.get(name);
    if (received && payload) out.push('', `**Server -> client**, to ${received.to}. ${received.summary}`, '', 'Payload:', '', schemaBlock(payload));
  }

  out.push('', '## Shapes', '', 'The named shapes the payloads above refer to.');
  for (const name of shapesUsed(inline, shapes)) out.push('', `<a id="${shapeAnchor(name)}"></a>`, '', `### ${name}`, '', schemaBlock(shapes[name]!));
  return out.join('\n') + '\n';
}

/** The same reference as a standalone HTML page; its style sheet is served beside it, so it needs nothing but 'self'. */
export function eventReferenceHtml(markdown: string, styleSheet: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Socket.io event reference</title>',
    `<link rel="stylesheet" href="${styleSheet}">`,
    '</head>',
    '<body>',
    '<nav><a href="/docs">REST API</a> · <a href="/openapi.json">openapi.json</a> · Socket.io events</nav>',
    '<main>',
    marked.parse(markdown, { async: false }),
    '</main>',
    '</body>',
    '</html>',
  ].join('\n');
}
