import { readSnapshots } from '../board/read-state.js';
import { boardSettings } from '../board/settings.js';
import { buildDigest, formatDigest } from '../digest/digest.js';
import type { ReadIo, StateFlags } from './board.js';
import { stateOf } from './board.js';
import { exitCodeOf } from './poll.js';

/**
 * `uphance-notifier digest`: prints the digest of a state and records it in the digest marker (not with
 * --preview), so that the next one reports what was detected since. Reads the state only.
 */
export const runDigest = async (flags: StateFlags & { preview?: boolean }, io: ReadIo): Promise<number> => {
  try {
    const settings = boardSettings(io.env, flags);
    const { store, marker } = stateOf(flags, io.env);
    const now = (io.now ?? Date.now)();
    const last = await marker.last();
    const digest = buildDigest(await readSnapshots(store), now, settings, last);
    io.stdout(formatDigest(digest));
    if (!flags.preview) await marker.record({ at: digest.generatedAt, until: digest.until });
    return 0;
  } catch (error) {
    io.logger.error((error as Error).message);
    return exitCodeOf(error);
  }
};
