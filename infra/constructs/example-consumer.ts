import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { deadLetterQueue } from './dead-letter-queue.js';
import { NotifierFunction } from './notifier-function.js';

/**
 * The example consumer Lambda (functions/handlers/example-consumer.ts), subscribed to StageCompleted, with
 * the DynamoDB table that Powertools idempotency keeps its records in.
 */
export class ExampleConsumer extends Construct {
  readonly function: NotifierFunction;
  readonly idempotencyTable: Table;
  readonly deadLetterQueue: Queue;

  constructor(
    scope: Construct,
    id: string,
    props: { bus: IEventBus; source: string; entry: string; removalPolicy: RemovalPolicy },
  ) {
    super(scope, id);
    this.idempotencyTable = new Table(this, 'Idempotency', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NotifierFunction(this, 'Function', {
      entry: props.entry,
      description: 'Example consumer of StageCompleted events (idempotent on detail.eventId)',
      memorySize: 256,
      timeout: Duration.seconds(10),
      environment: { IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName },
      logGroupRemovalPolicy: props.removalPolicy,
    });
    this.idempotencyTable.grant(
      this.function,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters', 'the consumer rule');
    new Rule(this, 'StageCompletedRule', {
      eventBus: props.bus,
      description: 'StageCompleted events to the example consumer',
      eventPattern: { source: [props.source], detailType: ['StageCompleted'] },
      targets: [
        new LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }
}
