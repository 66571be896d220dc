import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { credentialsByReference, credentialsGroup } from '../../functions/fanout/credentials.js';
import type { PollMessage } from '../../functions/fanout/message.js';
import { deduplicationIdOf, parsePollMessage, pollMessageBody } from '../../functions/fanout/message.js';
import type { RegistryEntry } from '../../functions/fanout/plan.js';
import {
  isCovered,
  organisationHealth,
  organisationsToPoll,
  periodMessages,
} from '../../functions/fanout/plan.js';

const entry = (organisationId: number, fields: Partial<RegistryEntry> = {}): RegistryEntry => ({
  organisationId,
  credentials: 'shared',
  removed: false,
  addedAt: 1_000,
  updatedAt: 1_000,
  ...fields,
});

describe('the poll message', () => {
  it('reads back what it wrote, for any organisation, reference and period', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: null }),
        fc.constantFrom('shared', 'own', 'auto' as const),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (organisationId, credentials, scheduledAt) => {
          const message: PollMessage = { v: 1, organisationId, credentials, scheduledAt };
          expect(parsePollMessage(pollMessageBody(message))).toEqual(message);
        },
      ),
    );
  });

  it.each([
    ['not JSON', 'poll 35802'],
    ['not an object', '[1]'],
    ['another version', '{"v":2,"organisationId":1,"credentials":"own","scheduledAt":1}'],
    ['an id of 0', '{"v":1,"organisationId":0,"credentials":"own","scheduledAt":1}'],
    ['a fractional id', '{"v":1,"organisationId":1.5,"credentials":"own","scheduledAt":1}'],
    ['an id as text', '{"v":1,"organisationId":"35802","credentials":"own","scheduledAt":1}'],
    ['an unknown reference', '{"v":1,"organisationId":1,"credentials":"theirs","scheduledAt":1}'],
    ['no period', '{"v":1,"organisationId":1,"credentials":"own"}'],
    ['a check message', '{"number":"1308"}'],
  ])('refuses %s', (_name, body) => {
    expect(parsePollMessage(body)).toBeNull();
  });

  it('is deduplicated per organisation and period', () => {
    const message: PollMessage = { v: 1, organisationId: 35802, credentials: 'own', scheduledAt: 1_000 };
    expect(deduplicationIdOf(message)).toBe(deduplicationIdOf({ ...message, credentials: 'shared' }));
    expect(deduplicationIdOf(message)).not.toBe(deduplicationIdOf({ ...message, scheduledAt: 301_000 }));
    expect(deduplicationIdOf(message)).not.toBe(deduplicationIdOf({ ...message, organisationId: 35803 }));
    expect(deduplicationIdOf({ ...message, organisationId: null })).toBe('default@1000');
  });
});

describe('the organisations of a period', () => {
  it('are the seed and the registry, less those removed, by id; the registry’s credentials win', () => {
    expect(
      organisationsToPoll(
        [35803, 35802, 35810],
        [
          entry(35804, { credentials: 'own' }),
          entry(35803, { credentials: 'own' }),
          entry(35810, { removed: true }),
        ],
      ),
    ).toEqual([
      { organisationId: 35802, credentials: 'auto' },
      { organisationId: 35803, credentials: 'own', addedAt: 1_000 },
      { organisationId: 35804, credentials: 'own', addedAt: 1_000 },
    ]);
  });

  it('are the credentials’ own organisation when nothing names one, and none when all were removed', () => {
    expect(organisationsToPoll([], [])).toEqual([{ organisationId: null, credentials: 'auto' }]);
    expect(organisationsToPoll([35802], [entry(35802, { removed: true })])).toEqual([]);
    expect(organisationsToPoll([], [entry(35802, { removed: true })])).toEqual([]);
  });

  it('are queued one message each, in the group their credentials give, deduplicated per period', () => {
    const messages = periodMessages(
      organisationsToPoll([35802, 35803], [entry(35804, { credentials: 'own' })]),
      600_000,
      (o) => (o.credentials === 'own' ? `own-${o.organisationId}` : 'shared'),
    );
    expect(messages.map((m) => [m.entryId, m.groupId, m.deduplicationId])).toEqual([
      ['org-35802', 'shared', '35802@600000'],
      ['org-35803', 'shared', '35803@600000'],
      ['org-35804', 'own-35804', '35804@600000'],
    ]);
    expect(parsePollMessage(messages[2]?.body ?? '')).toEqual({
      v: 1,
      organisationId: 35804,
      credentials: 'own',
      scheduledAt: 600_000,
    });
  });
});

describe('a message superseded by a later cycle', () => {
  it('is one whose organisation started a cycle at or after its period began', () => {
    expect(isCovered(undefined, 1_000)).toBe(false);
    expect(isCovered({ organisationId: 1 }, 1_000)).toBe(false);
    expect(isCovered({ organisationId: 1, startedAt: 999 }, 1_000)).toBe(false);
    expect(isCovered({ organisationId: 1, startedAt: 1_000 }, 1_000)).toBe(true);
    expect(isCovered({ organisationId: 1, startedAt: 301_000 }, 1_000)).toBe(true);
  });
});

describe('the organisations’ health', () => {
  const minute = 60_000;
  const now = 100 * minute;
  it('counts those whose last cycle failed and those silent beyond the heartbeat, and those never queued', () => {
    const health = organisationHealth(
      organisationsToPoll([1, 2, 3, 4, 5], [entry(6, { addedAt: now - 2 * minute })]),
      [
        { organisationId: 1, outcome: 'completed', completedAt: now - 5 * minute, firstDispatchedAt: 0 },
        {
          organisationId: 2,
          outcome: 'failed',
          error: 'Uphance rejected the credentials',
          failingSince: now - 30 * minute,
          completedAt: now - 40 * minute,
        },
        { organisationId: 3, outcome: 'deadline', completedAt: now - 20 * minute },
        // Queued, never completed, for longer than the heartbeat.
        { organisationId: 4, firstDispatchedAt: now - 16 * minute },
        // Re-added two minutes ago after an old completion: not stale yet.
        { organisationId: 6, completedAt: now - 600 * minute },
      ],
      now,
      15 * minute,
    );
    expect(health.failing).toEqual([
      { organisationId: 2, error: 'Uphance rejected the credentials', failingSince: now - 30 * minute },
    ]);
    expect(health.stale).toEqual([
      { organisationId: 2, lastCompletedAt: now - 40 * minute },
      { organisationId: 3, lastCompletedAt: now - 20 * minute },
      { organisationId: 4, lastCompletedAt: null },
    ]);
    expect(health.unseen).toEqual([5]);
  });
});

describe('credentials by reference', () => {
  const secret = JSON.stringify({
    token: 'shared-token',
    organisations: {
      '35803': { token: 'own-35803' },
      '35804': { email: 'Ops@Brand.example', password: 'p1' },
    },
  });

  it('shared: the top level, even when the map has an entry; own: the entry; auto: the entry, else shared', () => {
    expect(credentialsByReference(secret, 'S', 35803, 'shared')).toEqual({
      kind: 'token',
      token: 'shared-token',
    });
    expect(credentialsByReference(secret, 'S', 35803, 'own')).toEqual({ kind: 'token', token: 'own-35803' });
    expect(credentialsByReference(secret, 'S', 35803, 'auto')).toEqual({ kind: 'token', token: 'own-35803' });
    expect(credentialsByReference(secret, 'S', 35802, 'auto')).toEqual({
      kind: 'token',
      token: 'shared-token',
    });
    expect(credentialsByReference(secret, 'S', null, 'auto')).toEqual({
      kind: 'token',
      token: 'shared-token',
    });
  });

  it('own without an entry never falls back to the shared ones: a clear error naming the organisation, not the secret’s value', () => {
    const attempt = () => credentialsByReference(secret, 'UPHANCE_SECRET_ARN', 35805, 'own');
    expect(attempt).toThrow(
      /organisation 35805 is registered with its own credentials.*UPHANCE_SECRET_ARN holds none/,
    );
    expect(attempt).toThrow(/"organisations": \{"35805"/);
    let message = '';
    try {
      attempt();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain('shared-token');
    expect(() => credentialsByReference('{"organisations":{}}', 'S', 35802, 'shared')).toThrow(
      /organisation 35802 uses the shared credentials, and the secret S holds none/,
    );
  });

  it('groups organisations by their credentials with a one-way id', () => {
    const group = (organisationId: number, reference: 'shared' | 'own') =>
      credentialsGroup(credentialsByReference(secret, 'S', organisationId, reference));
    expect(group(35802, 'shared')).toBe(group(35803, 'shared'));
    expect(group(35803, 'own')).not.toBe(group(35803, 'shared'));
    expect(group(35803, 'own')).toMatch(/^cred-[0-9a-f]{32}$/);
    expect(group(35803, 'own')).not.toContain('own-35803');
    // A password grant's selection lives with the user: the email decides, whatever its case.
    expect(credentialsGroup({ kind: 'password', email: 'ops@brand.example', password: 'other' })).toBe(
      group(35804, 'own'),
    );
  });
});
