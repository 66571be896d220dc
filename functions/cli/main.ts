import './quiet-warnings.js';
import { Command, Option } from 'commander';
import type { StateFlags } from './board.js';
import { stderrLogger } from './logger.js';
import type { OrganisationsAction, OrganisationsFlags } from './organisations.js';
import type { PollFlags } from './poll.js';
import type { ResendFlags } from './resend.js';

/**
 * The production signals' settings, one set of flags for poll, board and digest (config.signalSettings reads
 * them, a flag winning over its variable).
 */
const signalOptions = (command: Command): Command =>
  command
    .option('--time-zone <zone>', "IANA time zone of the signals' calendar days (env TIME_ZONE, default UTC)")
    .option('--due-soon-days <days>', 'due soon this many days ahead, 0 = off (env DUE_SOON_DAYS, default 7)')
    .option(
      '--stall-days <days>',
      'stalled after this many days in progress, 0 = off (env STALL_DAYS, default 7)',
    )
    .option(
      '--stall-days-by-stage <list>',
      'per stage name, e.g. Sewing=14,Packing=3 (env STALL_DAYS_BY_STAGE)',
    )
    .option(
      '--risk-days <days>',
      'at risk when the forecast ends this many days after the due date, 0 = off (env RISK_DAYS, default 1)',
    );

/** The command line of docs/contract.md section 3. Events on stdout, logs on stderr. */
export const buildProgram = (): Command => {
  const program = new Command('uphance-notifier')
    .description('Polls Uphance production orders and reports what changed as EventBridge events')
    .showHelpAfterError();
  signalOptions(program.command('poll'))
    .description('poll Uphance and emit an event per change (stdout, or a bus with --event-bus)')
    .option('--once', 'run one cycle and exit')
    .addOption(new Option('--state <file>', 'keep the state in this JSON file').conflicts('table'))
    .option('--table <name>', 'keep the state in this DynamoDB table')
    .option('--event-bus <name>', 'put events on this EventBridge bus instead of printing them')
    .option('--interval <seconds>', 'seconds between cycles without --once', '60')
    .option('--source <source>', "the events' source", undefined)
    .option('--emit-baseline', 'on an empty state, emit OrderCreated for every existing order')
    .option('--budget <seconds>', 'stop fetching after this long and commit what was seen', '240')
    .option('--sweep-hours <hours>', 'period of the full reconciliation sweep', '24')
    .option('--json', 'print NDJSON even on a terminal')
    .option('--pretty', 'print one readable line per event')
    .option('--verbose', 'log every request')
    .option(
      '--webhook-port <port>',
      'also listen for Uphance receiving-ticket webhooks on this port (needs UPHANCE_WEBHOOK_SECRET)',
    )
    .option('--webhook-host <host>', 'the address the webhook listener binds (default 127.0.0.1)')
    .option(
      '--board-port <port>',
      'also serve the production board at http://127.0.0.1:PORT (not with --once)',
    )
    .action(async (flags: PollFlags & { verbose?: boolean; boardPort?: string }) => {
      const abort = new AbortController();
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => abort.abort());
      const logger = stderrLogger({ level: flags.verbose ? 'debug' : 'info' });
      let board: Awaited<ReturnType<typeof import('./live-board.js').startLiveBoard>> | undefined;
      if (flags.boardPort !== undefined && !flags.once) {
        const { boardPort, startLiveBoard } = await import('./live-board.js');
        try {
          board = await startLiveBoard(flags, {
            env: process.env,
            logger,
            port: boardPort(flags.boardPort),
            intervalS: Number(flags.interval ?? 60) || 60,
          });
        } catch (error) {
          logger.error((error as Error).message);
          process.exitCode = 2;
          return;
        }
      }
      // Loaded only when polling: `--help` then starts without the AWS SDK and the Uphance client.
      const { runPoll } = await import('./poll.js');
      process.exitCode = await runPoll(flags, {
        env: process.env,
        stdout: (line) => process.stdout.write(`${line}\n`),
        logger,
        isTty: process.stdout.isTTY === true,
        signal: abort.signal,
        afterCycle: board?.refresh,
      });
      await board?.close();
    });
  program
    .command('resend')
    .description(
      'publish the events the bus refused for good (set aside by the cycle), and forget those accepted',
    )
    .addOption(new Option('--state <file>', 'the state JSON file').conflicts('table'))
    .option('--table <name>', 'the state DynamoDB table')
    .option('--event-bus <name>', 'put the events on this EventBridge bus instead of printing them')
    .option('--source <source>', "the events' source", undefined)
    .option('--json', 'print NDJSON even on a terminal')
    .action(async (flags: ResendFlags) => {
      const { runResend } = await import('./resend.js');
      process.exitCode = await runResend(flags, {
        env: process.env,
        stdout: (line) => process.stdout.write(`${line}\n`),
        logger: stderrLogger(),
        isTty: process.stdout.isTTY === true,
      });
    });
  const stateAndSettings = (command: Command) =>
    signalOptions(command)
      .addOption(new Option('--state <file>', 'the state JSON file').conflicts('table'))
      .option('--table <name>', 'the state DynamoDB table')
      .option(
        '--organisation <id>',
        'one organisation of UPHANCE_ORGANISATION_ID (board: default the first; digest: default each in turn)',
      );
  const readIo = () => ({
    env: process.env,
    stdout: (text: string) => process.stdout.write(`${text}\n`),
    logger: stderrLogger(),
  });
  stateAndSettings(
    program
      .command('board')
      .description(
        'write the production board of a state as one self-contained HTML page (reads the state only)',
      ),
  )
    .option('--out <file>', 'write the page to this file instead of stdout')
    .action(async (flags: StateFlags & { out?: string }) => {
      const { runBoard } = await import('./board.js');
      process.exitCode = await runBoard(flags, readIo());
    });
  stateAndSettings(
    program
      .command('digest')
      .description(
        'print a short summary: overdue, due soon, stalled, completed and received since the last digest',
      ),
  )
    .option('--preview', 'do not record this digest as the last one')
    .action(async (flags: StateFlags & { preview?: boolean }) => {
      const { runDigest } = await import('./digest.js');
      process.exitCode = await runDigest(flags, readIo());
    });
  const organisations = program
    .command('organisations')
    .description('the organisations the deployed stack polls (its registry in the state table)');
  const registryAction = (action: OrganisationsAction, description: string, withSecret: boolean) => {
    const command = organisations
      .command(action === 'list' ? 'list' : `${action} [id]`)
      .description(description)
      .option('--table <name>', "the stack's state table (output StateTableName)");
    if (withSecret)
      command.option('--secret <arn>', "the stack's credentials secret (output UphanceSecretArn)");
    if (action === 'list') command.option('--json', 'print NDJSON even on a terminal');
    command.action(async (...args: unknown[]) => {
      const id = action === 'list' ? undefined : (args[0] as string | undefined);
      const flags = (action === 'list' ? args[0] : args[1]) as OrganisationsFlags;
      const { runOrganisations } = await import('./organisations.js');
      process.exitCode = await runOrganisations(action, id, flags, {
        env: process.env,
        stdout: (line) => process.stdout.write(`${line}\n`),
        logger: stderrLogger(),
        isTty: process.stdout.isTTY === true,
      });
    });
  };
  registryAction(
    'add',
    "poll this organisation from the next period: with UPHANCE_TOKEN (or UPHANCE_EMAIL and UPHANCE_PASSWORD) set and --secret, on those credentials (kept in the secret's organisations map), else on the shared ones",
    true,
  );
  registryAction(
    'remove',
    'stop polling this organisation from the next period (its state stays); with --secret, delete its own credentials',
    true,
  );
  registryAction('list', 'the organisations polled and removed, with their last cycle', false);
  return program;
};

await buildProgram().parseAsync(process.argv);
