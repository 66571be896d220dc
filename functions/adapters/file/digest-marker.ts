import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DigestMark, DigestMarker } from '../../digest/marker.js';
import { markOf } from '../../digest/marker.js';

/** The digest marker of a file state: FILE.digest.json beside it (digest/marker.ts). */
export class FileDigestMarker implements DigestMarker {
  readonly path: string;

  constructor(statePath: string) {
    this.path = `${statePath}.digest.json`;
  }

  async last(): Promise<DigestMark | null> {
    try {
      const parsed = JSON.parse(await readFile(this.path, 'utf8')) as Record<string, unknown>;
      return markOf(parsed.lastDigestAt, parsed.until, parsed.run);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the digest marker ${this.path}: ${(error as Error).message}`);
    }
  }

  async record(mark: DigestMark): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    const content = {
      format: 'uphance-notifier-digest',
      lastDigestAt: mark.at,
      until: mark.until,
      run: mark.run,
    };
    await writeFile(temp, `${JSON.stringify(content)}\n`);
    await rename(temp, this.path);
  }
}
