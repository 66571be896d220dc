/**
 * One escaping function per output format, for every string that comes from the Uphance API (supplier
 * names, PO numbers, stage and product names, statuses, dates): all of them are hostile. A supplier named
 * `<!channel> <https://evil.example|Uphance: sign in>` must not ping a Slack channel or show a disguised
 * link, a line break must not add a line to an email, an ANSI escape must not reach a terminal.
 *
 * Plain text is the base: the wording of messages and of the digest (message.ts, digest.ts) passes every
 * API string through `plainText`, and the formats with markup escape that text once more for their own
 * markup (`slackText`, `emailSubject`); the board's HTML is escaped with `htmlText`.
 */

/** Line breaks and tabs read as a space; other controls and bidirectional overrides as U+FFFD. */
const CONTROL = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/gu;
const WHITE = /[\t\n\v\f\r\u2028\u2029]/;

/**
 * Plain text people read (the terminal, email bodies, log lines): no control character (line breaks,
 * ANSI escapes, C1 controls) and no bidirectional override, so that a value stays on its line and shows
 * as what it is.
 */
export const plainText = (text: string): string =>
  text.replace(CONTROL, (c) => (WHITE.test(c) ? ' ' : '\uFFFD'));

const MRKDWN: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Slack mrkdwn (message `text`, mrkdwn sections and fields): `&`, `<` and `>` are its control characters
 * (`<!channel>`, `<url|label>`, `<@user>`), so they are sent as entities and shown as typed.
 */
export const slackText = (text: string): string => text.replace(/[&<>]/g, (c) => MRKDWN[c] ?? c);

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Bidirectional overrides and isolates: they reorder the text around them (a name shown backwards). */
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/gu;

/**
 * HTML text and quoted attribute values. Controls other than tab and line breaks (invalid in HTML, and
 * raw escapes for a terminal the page is printed on) and bidirectional overrides become U+FFFD.
 */
export const htmlText = (text: string): string =>
  text
    .replace(/[&<>"']/g, (c) => HTML[c] ?? c)
    .replace(/(?![\t\n\r])\p{Cc}/gu, '\uFFFD')
    .replace(BIDI, '\uFFFD');

/** SNS takes a subject of printable ASCII, under 100 characters, without line breaks. */
const SUBJECT_MAX = 99;

/**
 * An email subject (SNS): printable ASCII on one line, at most SUBJECT_MAX characters. Line breaks and
 * other controls become `?` (a header cannot be injected), accents are dropped, and the separators of the
 * wording spelt in ASCII.
 */
export const emailSubject = (text: string): string => {
  const ascii = text
    .replaceAll('·', '-')
    .replaceAll('→', '->')
    .replaceAll('…', '...')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ +/g, ' ')
    .trim();
  return ascii.length <= SUBJECT_MAX ? ascii : `${ascii.slice(0, SUBJECT_MAX - 3)}...`;
};
