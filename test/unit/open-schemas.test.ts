import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES, detailSchemas, jsonSchemaOf } from '../../functions/core/events/catalogue.js';

const root = resolve(import.meta.dirname, '../..');
const json = (file: string) => JSON.parse(readFileSync(resolve(root, file), 'utf8'));

/** The example's detail with a field added at every level, as a later schema version might. */
const grown = (detail: Record<string, unknown>) => {
  const copy = structuredClone(detail) as Record<string, Record<string, unknown>>;
  for (const value of Object.values(copy)) {
    if (value && typeof value === 'object') value.addedLater = { nested: true };
  }
  return { ...copy, organisationId: 35802 };
};

describe('event schemas are open for additive change (docs/contract.md section 1)', () => {
  // A CommonJS module: its class is the default export's `default`.
  const ajv = new AjvDraft04.default({ strict: false });

  it.each(DETAIL_TYPES)('%s: an example with extra fields validates with zod and keeps them', (type) => {
    const detail = grown(json(`schemas/examples/${type}.json`).detail);
    const parsed = detailSchemas[type].parse(detail) as Record<string, Record<string, unknown>>;
    expect(parsed.organisationId).toBe(35802);
    expect(parsed.order?.addedLater).toEqual({ nested: true });
  });

  it.each(DETAIL_TYPES)(
    '%s: the same validates against the JSON Schema, which still checks fields',
    (type) => {
      const validate = ajv.compile(json(`schemas/${type}.json`));
      const detail = grown(json(`schemas/examples/${type}.json`).detail);
      expect(validate(detail), JSON.stringify(validate.errors)).toBe(true);
      // Open does not mean lax: a known field with the wrong type, or a missing one, still fails.
      expect(validate({ ...detail, sequence: 'seven' })).toBe(false);
      const { eventId: _dropped, ...withoutId } = detail as Record<string, unknown>;
      expect(validate(withoutId)).toBe(false);
    },
  );

  it('no generated schema says additionalProperties, at any depth', () => {
    for (const type of DETAIL_TYPES) {
      expect(JSON.stringify(jsonSchemaOf(type))).not.toContain('additionalProperties');
      expect(json(`schemas/${type}.json`)).toEqual(jsonSchemaOf(type));
    }
  });
});
