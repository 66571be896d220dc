import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { startLocalEventBridge } from '../../local-aws/eventbridge-local.js';
import { vendorExampleOrders } from '../../simulator/fixtures.js';
import { generateOrders } from '../../simulator/generator.js';
import type { RunningSimulator } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';
import { checkEvents, checkLedgerCovered } from '../../soak/invariants.js';
import { freshTable, receivedEvents } from '../helpers/aws.js';
import { cli } from '../helpers/cli.js';
import { tempStatePath } from '../helpers/harness.js';

let sim: RunningSimulator;
let bus: LocalEventBridge;

const simEnv = () => ({ UPHANCE_API_URL: sim.url, UPHANCE_TOKEN: 'sim-token' });

beforeAll(async () => {
  bus = await startLocalEventBridge();
});
afterAll(async () => {
  await bus.close();
  await sim.close();
});
beforeEach(async () => {
  await sim?.close();
  sim = await startSimulator({
    orders: [...vendorExampleOrders(), ...generateOrders({ count: 30, seed: 2 })],
  });
});

describe('uphance-notifier poll', () => {
  it('--once --state FILE: a silent baseline, then one JSON line per event shaped as EventBridge delivers it', async () => {
    const state = tempStatePath();
    const first = await cli(['poll', '--once', '--state', state], simEnv());
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(/baseline recorded/);
    sim.state.advanceStage(23621);
    sim.state.setDeliveryStatus(23620, 'all_received');
    const second = await cli(['poll', '--once', '--state', state], simEnv());
    expect(second.code).toBe(0);
    const lines = second.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l['detail-type'])).toEqual(
      expect.arrayContaining(['StageCompleted', 'OrderDeliveryStatusChanged', 'OrderAllReceived']),
    );
    for (const line of lines) {
      expect(Object.keys(line).sort()).toEqual([
        'account',
        'detail',
        'detail-type',
        'id',
        'region',
        'resources',
        'source',
        'time',
        'version',
      ]);
      expect(line.source).toBe('uphance.production-orders');
      expect(typeof line.detail).toBe('object');
      expect(line.detail.schemaVersion).toBe('1');
    }
    const third = await cli(['poll', '--once', '--state', state], simEnv());
    expect(third.stdout).toBe('');
  });

  it('without credentials: exit 2 and a one-line reason naming the setting; no state written', async () => {
    const state = tempStatePath();
    const run = await cli(['poll', '--once', '--state', state], { UPHANCE_API_URL: sim.url });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/set UPHANCE_TOKEN, or UPHANCE_EMAIL and UPHANCE_PASSWORD/);
    expect(existsSync(state)).toBe(false);
  });

  it('bad settings are named: an email without a password, a bad URL, a bad interval', async () => {
    const noPassword = await cli(['poll', '--once'], { UPHANCE_EMAIL: 'a@b.c' });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/UPHANCE_PASSWORD must be set together with UPHANCE_EMAIL/);
    const badUrl = await cli(['poll', '--once'], { UPHANCE_TOKEN: 't', UPHANCE_API_URL: 'api.uphance.com' });
    expect(badUrl.stderr).toMatch(/UPHANCE_API_URL must be an absolute http\(s\) URL/);
    const badInterval = await cli(['poll', '--interval', 'soon'], simEnv());
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toMatch(/--interval must be a positive number of seconds, got "soon"/);
  });

  it('signal settings: a bad value exits 2 naming the flag or variable; a good flag wins over a bad variable', async () => {
    const badZone = await cli(['poll', '--once', '--time-zone', 'Mars/Olympus'], simEnv());
    expect(badZone.code).toBe(2);
    expect(badZone.stderr).toMatch(/--time-zone must be an IANA time zone/);
    const badEnv = await cli(['poll', '--once'], { ...simEnv(), STALL_DAYS_BY_STAGE: 'Sewing' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/STALL_DAYS_BY_STAGE must read like "Sewing=14,Packing=3"/);
    const badRisk = await cli(['poll', '--once', '--risk-days', 'soon'], simEnv());
    expect(badRisk.code).toBe(2);
    expect(badRisk.stderr).toMatch(/--risk-days must be a whole number of days/);
    const badRiskEnv = await cli(['poll', '--once'], { ...simEnv(), RISK_DAYS: '-1' });
    expect(badRiskEnv.code).toBe(2);
    expect(badRiskEnv.stderr).toMatch(/RISK_DAYS must be a whole number of days/);
    const state = tempStatePath();
    const flagWins = await cli(['poll', '--once', '--state', state, '--due-soon-days', '3'], {
      ...simEnv(),
      DUE_SOON_DAYS: 'soon',
    });
    expect(flagWins.code).toBe(0);
  });

  it('rejected credentials: exit 3, the token never printed, the state exactly as it was', async () => {
    const state = tempStatePath();
    await cli(['poll', '--once', '--state', state], simEnv());
    const before = readFileSync(state, 'utf8');
    sim.state.setStatus(23620, 'complete');
    const run = await cli(['poll', '--once', '--state', state], {
      UPHANCE_API_URL: sim.url,
      UPHANCE_TOKEN: 'revoked-SECRET-token',
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/Uphance rejected the credentials/);
    expect(run.stdout + run.stderr).not.toContain('revoked-SECRET-token');
    expect(readFileSync(state, 'utf8')).toBe(before);
  });

  it('API unreachable after retries: exit 4 with the reason, state untouched', async () => {
    const state = tempStatePath();
    const url = sim.url;
    await sim.close();
    const run = await cli(['poll', '--once', '--state', state], {
      UPHANCE_API_URL: url,
      UPHANCE_TOKEN: 'sim-token',
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/failed after \d+ attempts: network error/);
    expect(existsSync(state)).toBe(false);
    sim = await startSimulator();
  }, 90_000);

  it('--table and --event-bus: state in DynamoDB, events on the bus, stdout empty', async () => {
    const { tableName, endpoint } = await freshTable();
    const env = { ...simEnv(), AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url };
    const args = ['poll', '--once', '--table', tableName, '--event-bus', 'orders-bus'];
    expect((await cli(args, env)).code).toBe(0);
    sim.state.advanceStage(23621);
    const run = await cli(args, env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    // Order 1308 has one line item: its Packing completing is also the whole order's.
    expect(bus.events.map((e) => [e.busName, e.detailType])).toEqual([
      ['orders-bus', 'StageCompleted'],
      ['orders-bus', 'OrderStageCompleted'],
    ]);
  });

  it('killed while it publishes, then run again at once: the rerun takes over the dead run’s lease and delivers', async () => {
    await sim.close();
    sim = await startSimulator({
      orders: [...vendorExampleOrders(), ...generateOrders({ count: 40, seed: 2, watchedShare: 0.8 })],
    });
    const { tableName, endpoint } = await freshTable();
    const env = { ...simEnv(), AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url };
    const args = ['poll', '--once', '--table', tableName, '--event-bus', 'orders-bus'];
    expect((await cli(args, env)).code).toBe(0);
    const from = sim.state.ledger.length;
    const before = bus.events.length;
    // Enough changes on watched orders for several PutEvents calls.
    const open = [...sim.state.orders.values()].filter((o) => ['DRAFT', 'CONFIRMED'].includes(o.raw.status));
    for (const order of open.slice(0, 12)) sim.state.setDueDate(order.raw.id, '2027-04-04');
    expect(sim.state.ledger.length - from).toBeGreaterThan(10);
    let victim: ChildProcess | undefined;
    let calls = 0;
    bus.onCall = () => {
      if (++calls === 1) victim?.kill('SIGKILL');
    };
    const killed = await cli(args, env, (child) => {
      victim = child;
    });
    bus.onCall = undefined;
    expect(killed.code).toBeNull();
    const received = () => receivedEvents(bus).slice(before);
    expect(checkLedgerCovered(sim.state.ledger, from, received()).length).toBeGreaterThan(0);
    // At once: no waiting for the dead run's lease to expire.
    const rerun = await cli(args, env);
    expect(rerun.code).toBe(0);
    expect(rerun.stderr).toMatch(/taking over the lease of a runner of this host that no longer runs/);
    expect(checkLedgerCovered(sim.state.ledger, from, received())).toEqual([]);
    // What the dead run had delivered comes again only with the same eventId and content.
    expect(checkEvents(received()).violations).toEqual([]);
  });

  it('--once while a live runner holds the lease: exit 5, naming the holder and when its lease ends', async () => {
    const { tableName, endpoint } = await freshTable();
    const { DynamoStateStore } = await import('../../functions/adapters/dynamodb/state-store.js');
    const { localDynamoDb } = await import('../../local-aws/clients.js');
    const store = new DynamoStateStore({
      client: localDynamoDb(endpoint),
      tableName,
      organisation: 'default',
    });
    // This test's own process: alive, on this host.
    const expiresAt = Date.now() + 600_000;
    await store.acquireLease({
      owner: `${hostname()}:${process.pid}`,
      host: hostname(),
      pid: process.pid,
      nowMs: Date.now(),
      ttlMs: 600_000,
    });
    const env = { ...simEnv(), AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url };
    const run = await cli(['poll', '--once', '--table', tableName, '--event-bus', 'orders-bus'], env);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(`${hostname()}:${process.pid} (lease 1) holds the lease until`);
    const until = /holds the lease until (\S+)/.exec(run.stderr)?.[1];
    expect(Math.abs(Date.parse(until ?? '') - expiresAt)).toBeLessThan(60_000);
    expect(run.stdout).toBe('');
  });
});
