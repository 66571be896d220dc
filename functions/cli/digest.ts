import { buildDigest, formatDigest } from '../digest/digest.js';
import { readDigestState } from '../digest/read-state.js';
import { signalSettings } from '../runtime/config.js';
import type { ReadIo, StateFlags } from './board.js';
import { statesOf } from './board.js';
import { exitCodeOf } from './poll.js';

/**
 * `uphance-notifier digest`: prints the digest of each organisation's state (or of --organisation's) and
 * records it in that state's digest marker (not with --preview), so that the next one reports what was
 * detected since. Reads the state only.
 */
export const runDigest = async (flags: StateFlags & { preview?: boolean }, io: ReadIo): Promise<number> => {
  try {
    const settings = signalSettings(io.env, flags);
    let code = 0;
    for (const [index, { organisationId, store, marker }] of (await statesOf(flags, io.env)).entries()) {
      // One organisation's failure (its state unreadable) is named and never stops the others.
      try {
        const now = (io.now ?? Date.now)();
        const last = await marker.last();
        const digest = buildDigest(await readDigestState(store), now, settings, last, organisationId);
        io.stdout(`${index > 0 ? '\n' : ''}${formatDigest(digest)}`);
        if (!flags.preview) await marker.record({ at: digest.generatedAt, until: digest.until });
      } catch (error) {
        if (organisationId === undefined) throw error;
        io.logger.error(`organisation ${organisationId}: ${(error as Error).message}`);
        code = exitCodeOf(error);
      }
    }
    return code;
  } catch (error) {
    io.logger.error((error as Error).message);
    return exitCodeOf(error);
  }
};
