import type { Logger } from '../cycle/ports.js';
import { plainText } from '../messages/escape.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
type Level = keyof typeof LEVELS;

/**
 * Logs to stderr (stdout carries only events): one line each, `time LEVEL message key=value`, as plain
 * text (a value quoted from the API cannot break the line or send escapes to the terminal).
 */
export const stderrLogger = (options: { level?: Level; write?: (line: string) => void } = {}): Logger => {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const extra = fields
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
      : '';
    write(
      plainText(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra ? ` ${extra}` : ''}`),
    );
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
};
