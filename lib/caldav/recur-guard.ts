/**
 * A bound on ical.js's recurrence iteration, wherever it runs. RecurIterator.next() loops without a
 * limit until a date satisfies the rule's BY parts: for a rule no date satisfies
 * (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30) it never returns, and a sparse one (FREQ=SECONDLY;BYMONTH=5
 * from a DTSTART in June) steps through millions of seconds in one call. ical.js iterates rules when
 * a component recurs and also when a zoned time is converted (a VTIMEZONE observance's RRULE is
 * expanded up to the year asked for), so one hostile object could hold the server's only thread
 * forever. Each round of that loop, and each occurrence, first checks the rule's contracting parts:
 * that check is wrapped here, once for the process, to throw `RecurrenceTimeout` when an iterator
 * has run longer than `MAX_ITERATOR_MS`, or past the deadline of the `withinDeadline` call it runs in.
 */
import ICAL from "ical.js";

/** Wall-clock time one rule iterator may run, in milliseconds, whoever drives it. */
export const MAX_ITERATOR_MS = 1000;

export class RecurrenceTimeout extends Error {
  override name = "RecurrenceTimeout";
  /** `iterator`: this rule alone took too long (a broken rule); `deadline`: the caller's budget ran out. */
  constructor(readonly reason: "iterator" | "deadline") {
    super(
      reason === "iterator"
        ? `a recurrence rule took more than ${MAX_ITERATOR_MS} ms to expand`
        : "the expansion's time budget ran out",
    );
  }
}

let deadline = Infinity;
const started = new WeakMap<object, number>();

type Proto = { check_contracting_rules(this: object): boolean };
const proto = ICAL.RecurIterator.prototype as unknown as Proto & { __lambdaDavGuard?: true };
if (!proto.__lambdaDavGuard) {
  const check = proto.check_contracting_rules;
  let rounds = 0;
  proto.check_contracting_rules = function guarded(this: object) {
    if ((++rounds & 1023) === 0) {
      const now = Date.now();
      const since = started.get(this);
      if (since === undefined) started.set(this, now);
      else if (now - since > MAX_ITERATOR_MS) throw new RecurrenceTimeout("iterator");
      if (now > deadline) throw new RecurrenceTimeout("deadline");
    }
    return check.call(this);
  };
  proto.__lambdaDavGuard = true;
}

/** Runs `fn` (synchronous) with all rule iteration in it ending by `until` (an epoch ms), or earlier. */
export function withinDeadline<T>(until: number, fn: () => T): T {
  const outer = deadline;
  deadline = Math.min(outer, until);
  try {
    return fn();
  } finally {
    deadline = outer;
  }
}
