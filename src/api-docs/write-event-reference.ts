import { writeFile } from 'node:fs/promises';
import { buildEventReference, defaultBudgets, EVENT_REFERENCE_FILE } from './event-reference.js';

/** `npm run docs:events`: writes docs/api/events.md from the protocol module (a test fails while it is stale). */
await writeFile(EVENT_REFERENCE_FILE, buildEventReference(defaultBudgets()));
console.log(`wrote ${EVENT_REFERENCE_FILE}`);
