import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { DETAIL_TYPES } from '../../functions/core/events/catalogue.js';

/**
 * An EventBridge schema registry with one schema per detail-type, from the generated JSON Schemas
 * (draft-04) in schemas/, so that consumers can download code bindings from the console.
 */
export class EventCatalogue extends Construct {
  readonly registry: CfnRegistry;
  readonly schemas: CfnSchema[];

  constructor(
    scope: Construct,
    id: string,
    props: { registryName: string; schemaDirectory: string; source: string },
  ) {
    super(scope, id);
    this.registry = new CfnRegistry(this, 'Registry', {
      registryName: props.registryName,
      description: 'Events of the Uphance production-order notifier',
    });
    this.schemas = DETAIL_TYPES.map((type) => {
      const detail = JSON.parse(readFileSync(join(props.schemaDirectory, `${type}.json`), 'utf8'));
      const schema = new CfnSchema(this, type, {
        registryName: this.registry.attrRegistryName,
        schemaName: `${props.source}@${type}`,
        type: 'JSONSchemaDraft4',
        description: detail.description,
        content: JSON.stringify(envelopeSchema(props.source, type, detail)),
      });
      return schema;
    });
  }
}

/** The registry describes whole events: the EventBridge envelope with the detail's schema inside. */
const envelopeSchema = (source: string, detailType: string, detail: Record<string, unknown>) => {
  const { $schema, ...detailSchema } = detail;
  return {
    $schema,
    title: detailType,
    type: 'object',
    required: ['detail-type', 'source', 'detail'],
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      'detail-type': { type: 'string', enum: [detailType] },
      source: { type: 'string', enum: [source] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail: detailSchema,
    },
  };
};
