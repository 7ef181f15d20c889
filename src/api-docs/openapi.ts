import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../protocol/errors.js';
import { restRoutes, type RestRoute } from '../protocol/rest-api.js';
import { toJsonSchemas, type JsonSchema } from './wire-schemas.js';

/** The version of the wire contract this document describes (CONTRACT.md v1 with its v1.1 additions). */
export const API_VERSION = '1.1.0';

const REF_BASE = '#/components/schemas/';

/** `/api/chat/conversations/:id` -> `/api/chat/conversations/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

function operationId(route: RestRoute): string {
  const words = route.path.split(/[/-]/).filter((word) => word !== '' && word !== 'api');
  return route.method + words.map((word) => (word.startsWith(':') ? `By${capitalise(word.slice(1))}` : capitalise(word))).join('');
}

const capitalise = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** The codes a route can answer: those its shape implies, and its own. */
export function errorCodesOf(route: RestRoute): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (route.auth === 'bearer' || route.auth === 'admin') ['UNAUTHORIZED', 'TOKEN_EXPIRED', 'ACCOUNT_BANNED'].forEach((code) => codes.add(code as ErrorCode));
  if (route.auth === 'admin') codes.add('FORBIDDEN');
  if (route.params) codes.add('NOT_FOUND');
  if (route.query || route.body) codes.add('VALIDATION_FAILED');
  if (route.body) codes.add('PAYLOAD_TOO_LARGE');
  if (route.rateLimit) codes.add('RATE_LIMITED');
  for (const code of route.errors) codes.add(code);
  codes.add('INTERNAL');
  return [...codes].sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b] || a.localeCompare(b));
}

function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query'): object[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function errorResponses(route: RestRoute): Record<string, object> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(route)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  const responses: Record<string, object> = {};
  for (const [status, codes] of byStatus) {
    const limited = codes.includes('RATE_LIMITED');
    responses[String(status)] = {
      description: codes.map((code) => `\`${code}\``).join(', ') + (limited && route.rateLimit ? `. Limit: ${route.rateLimit}.` : ''),
      ...(limited ? { headers: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } } } } : {}),
      content: {
        'application/json': {
          schema: { allOf: [{ $ref: `${REF_BASE}ErrorResponse` }, { type: 'object', properties: { error: { type: 'object', properties: { code: { enum: codes } } } } }] },
        },
      },
    };
  }
  return responses;
}

const AUTH_NOTES: Record<RestRoute['auth'], string> = {
  none: '',
  bearer: '',
  admin: ' Admins only.',
  'signed-url': ' Authorised by the signature of the URL (no access token).',
};

/** The OpenAPI 3.1 document of every REST route, built from the route table and the zod schemas the routes validate with. */
export function buildOpenApiDocument(): object {
  const described: z.ZodType[] = [];
  const slot = (schema: z.ZodType) => described.push(schema) - 1;
  const plan = restRoutes.map((route) => ({
    route,
    body: route.body && route.body !== 'multipart' ? slot(route.body) : undefined,
    responses: route.responses.map((response) => (response.schema ? slot(response.schema) : undefined)),
  }));
  const { shapes, inline } = toJsonSchemas(described, REF_BASE);

  const paths: Record<string, Record<string, object>> = {};
  for (const { route, body, responses } of plan) {
    const success: Record<string, object> = {};
    route.responses.forEach((response, index) => {
      const schemaIndex = responses[index];
      success[String(response.status)] = {
        description: response.description,
        ...(schemaIndex !== undefined ? { content: { 'application/json': { schema: inline[schemaIndex] } } } : {}),
        ...(response.media ? { content: { [response.media]: {} } } : {}),
      };
    });
    const requestBody =
      route.body === 'multipart'
        ? {
            required: true,
            content: {
              'multipart/form-data': {
                schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } }, required: ['file'] },
              },
            },
          }
        : body !== undefined
          ? { required: true, content: { 'application/json': { schema: inline[body] } } }
          : undefined;
    (paths[openApiPath(route.path)] ??= {})[route.method] = {
      operationId: operationId(route),
      tags: [route.tag],
      summary: route.summary,
      ...(AUTH_NOTES[route.auth] ? { description: route.summary + AUTH_NOTES[route.auth] } : {}),
      security: route.auth === 'bearer' || route.auth === 'admin' ? [{ bearer: [] }] : [],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      ...(requestBody ? { requestBody } : {}),
      responses: { ...success, ...errorResponses(route) },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'call-app-backend',
      version: API_VERSION,
      description:
        'REST API of the chat and calls backend. Real-time chat and call signaling run over Socket.io: see the event reference at /docs/events. ' +
        'Ids are opaque UUIDv7 strings, timestamps ISO-8601 UTC strings; every error has the shape `{ error: { code, message, details? } }`.',
    },
    servers: [{ url: '/' }],
    tags: [...new Set(restRoutes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: shapes,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The access token from register, login or refresh-token.' } },
    },
  };
}
