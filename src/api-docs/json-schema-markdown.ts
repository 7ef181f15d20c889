import type { JsonSchema } from './wire-schemas.js';

/** JSON Schema as Markdown for people: types in TypeScript-like notation, fields in tables, named shapes as links. */

export const shapeAnchor = (name: string) => `shape-${name.toLowerCase()}`;

const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

const variantsOf = (schema: JsonSchema) => (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;

export function typeOf(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') return `[${refName(schema.$ref)}](#${shapeAnchor(refName(schema.$ref))})`;
  if ('const' in schema) return `\`${JSON.stringify(schema.const)}\``;
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => `\`${JSON.stringify(value)}\``).join(' \\| ');
  const variants = variantsOf(schema);
  if (variants) return variants.map(typeOf).join(' \\| ');
  if (Array.isArray(schema.type)) return schema.type.map((type) => typeOf({ ...schema, type })).join(' \\| ');
  switch (schema.type) {
    case 'array': {
      const item = typeOf((schema.items ?? {}) as JsonSchema);
      return item.includes('\\|') ? `(${item})[]` : `${item}[]`;
    }
    case 'object':
      if (!schema.properties && schema.additionalProperties && typeof schema.additionalProperties === 'object') return `Record<string, ${typeOf(schema.additionalProperties as JsonSchema)}>`;
      return 'object';
    case 'string':
      if (schema.format === 'date-time') return 'timestamp';
      if (schema.format === 'uuid') return 'id';
      return 'string';
    case 'integer':
    case 'number':
    case 'boolean':
    case 'null':
      return schema.type;
    default:
      return 'any';
  }
}

/** zod's z.int() bounds, which say nothing. */
const unbounded = (value: unknown) => value === undefined || value === Number.MAX_SAFE_INTEGER || value === Number.MIN_SAFE_INTEGER;

function range(min: unknown, max: unknown, unit: string): string | undefined {
  if (unbounded(min)) min = undefined;
  if (unbounded(max)) max = undefined;
  if (min === undefined && max === undefined) return undefined;
  if (min !== undefined && max !== undefined) return `${min}..${max}${unit}`;
  return min !== undefined ? `at least ${min}${unit}` : `at most ${max}${unit}`;
}

function constraints(schema: JsonSchema): string[] {
  const target = variantsOf(schema)?.find((variant) => variant.type !== 'null') ?? schema;
  const notes = [
    range(target.minLength, target.maxLength, ' characters'),
    range(target.minimum, target.maximum, ''),
    target.exclusiveMinimum !== undefined ? `above ${target.exclusiveMinimum}` : undefined,
    range(target.minItems, target.maxItems, ' items'),
    target.format === 'uuid' || target.format === 'date-time' ? undefined : typeof target.pattern === 'string' ? `pattern \`${target.pattern}\`` : undefined,
    target.default !== undefined ? `default \`${JSON.stringify(target.default)}\`` : schema.default !== undefined ? `default \`${JSON.stringify(schema.default)}\`` : undefined,
  ];
  return notes.filter((note): note is string => note !== undefined);
}

/** The inline object a field holds (directly, in an array, or nullable), whose fields get rows of their own. */
function nestedObject(schema: JsonSchema): { schema: JsonSchema; suffix: string } | undefined {
  if (schema.type === 'object' && schema.properties) return { schema, suffix: '.' };
  if (schema.type === 'array' && schema.items) {
    const inner = nestedObject(schema.items as JsonSchema);
    return inner && { schema: inner.schema, suffix: `[]${inner.suffix}` };
  }
  const variants = variantsOf(schema);
  const objects = variants?.filter((variant) => variant.type !== 'null');
  if (variants && objects?.length === 1 && variants.length === 2) return nestedObject(objects[0]!);
  return undefined;
}

const cell = (text: string) => text.replace(/\n/g, ' ').replace(/\|/g, (match, offset: number, whole: string) => (whole[offset - 1] === '\\' ? match : '\\|'));

function rows(schema: JsonSchema, prefix: string): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).flatMap(([name, property]) => {
    const limits = constraints(property).join(', ');
    const description = typeof property.description === 'string' ? property.description : '';
    const notes = [description, limits && (description ? `(${limits})` : limits)].filter(Boolean).join(' ');
    const nested = nestedObject(property);
    const row = `| \`${prefix}${name}\` | ${typeOf(property)} | ${required.has(name) ? 'yes' : 'no'} | ${cell(notes)} |`;
    return nested ? [row, ...rows(nested.schema, `${prefix}${name}${nested.suffix}`)] : [row];
  });
}

/** A schema as a field table, a link to a named shape, or its variants one after another. */
export function schemaBlock(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') return typeOf(schema);
  const variants = variantsOf(schema);
  if (variants) {
    return ['One of:', '', ...variants.map((variant, index) => (variant.$ref ? `- ${typeOf(variant)}` : `- variant ${index + 1}:\n\n${indent(schemaBlock(variant))}`))].join('\n');
  }
  if (schema.type === 'object') {
    const lines = rows(schema, '');
    if (lines.length === 0) return '`{}`';
    return ['| field | type | required | notes |', '|---|---|---|---|', ...lines].join('\n');
  }
  return typeOf(schema);
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');

/** Every named shape a schema refers to, directly or through other shapes. */
export function shapesUsed(schemas: readonly JsonSchema[], shapes: Record<string, JsonSchema>): string[] {
  const seen = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const ref = (value as JsonSchema).$ref;
      if (typeof ref === 'string' && !seen.has(refName(ref))) {
        seen.add(refName(ref));
        visit(shapes[refName(ref)]);
      }
      Object.values(value).forEach(visit);
    }
  };
  schemas.forEach(visit);
  return Object.keys(shapes).filter((name) => seen.has(name));
}
