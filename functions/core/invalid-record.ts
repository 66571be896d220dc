/** A record the source sent that did not fit its schema: reported, skipped, never fatal. */
export interface InvalidRecord {
  id: number | string | null;
  path: string;
  message: string;
}
