import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');

describe('docs/contract.md, the public contract in the repository', () => {
  it('has every section users rely on', () => {
    const contract = read('docs/contract.md');
    for (const heading of [
      '# The public contract',
      '## 1. Events',
      '## 1b. Production signals (derived events)',
      '## 2. Delivery guarantees',
      '## 3. The command line (the local main job)',
      '### Organisations',
      '### Webhook trigger (hybrid push)',
    ]) {
      expect(contract.split('\n'), heading).toContain(heading);
    }
    expect(contract).toMatch(/schemas accept additional properties/);
  });

  it('is what the README links to, and every relative link of the README and docs resolves', () => {
    expect(read('README.md')).toContain('(docs/contract.md)');
    for (const file of ['README.md', 'docs/contract.md', 'docs/events.md']) {
      const links = [...read(file).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] ?? '');
      for (const link of links.filter((l) => !/^[a-z]+:/.test(l))) {
        expect(existsSync(resolve(root, dirname(file), link)), `${file} links to ${link}`).toBe(true);
      }
    }
  });

  it('is never referred to as a file outside the repository', () => {
    for (const file of [
      'README.md',
      'infra/notifier-stack.ts',
      'functions/runtime/config.ts',
      'functions/cli/main.ts',
    ]) {
      expect(read(file), file).not.toMatch(/(?<!docs\/)CONTRACT\.md|DEVELOPERS\.md|design notes/i);
    }
  });
});
