/**
 * What a client requires of the state it writes over (RFC 9110 §13.1.1, §13.1.2; the If header of
 * RFC 4918 §10.4): evaluated against the state a write's round read, which the write's condition
 * then demands, so the check and the write are one step for DynamoDB.
 */

/** Conditions on the current ETag of the resource written (undefined ETag: nothing is there). */
export interface Expectation {
  ifMatch?: "*" | string[];
  ifNoneMatch?: "*" | string[];
  /** A further condition on the current ETag, e.g. the If header's lists about this resource. */
  holds?: (etag: string | undefined) => boolean;
  /**
   * Conditions the write cannot pin (the If header's lists about other resources) are checked
   * again before every later round: this gives `holds` as it stands then.
   */
  refresh?: () => Promise<(etag: string | undefined) => boolean>;
  /**
   * If-Schedule-Tag-Match (RFC 6638 §8.3): the member's schedule tag. The write's condition pins
   * the ETag, and the tag changes only with the body, so pinning one pins both.
   */
  scheduleTag?: string;
}

/** Whether a resource whose current ETag is `etag` (undefined: absent) satisfies the expectation. */
export function satisfies(expect: Expectation, etag: string | undefined): boolean {
  if (expect.ifMatch) {
    if (etag === undefined) return false;
    if (expect.ifMatch !== "*" && !expect.ifMatch.includes(etag)) return false;
  }
  if (expect.ifNoneMatch) {
    if (expect.ifNoneMatch === "*" && etag !== undefined) return false;
    if (Array.isArray(expect.ifNoneMatch) && etag !== undefined && expect.ifNoneMatch.includes(etag))
      return false;
  }
  return expect.holds ? expect.holds(etag) : true;
}

/** The expectation for each round of an optimistic loop: as given first, refreshed after. */
export class RoundExpectation {
  private first = true;

  constructor(private readonly expect: Expectation) {}

  async next(): Promise<Expectation> {
    if (this.first || !this.expect.refresh) {
      this.first = false;
      return this.expect;
    }
    return { ...this.expect, holds: await this.expect.refresh() };
  }
}
