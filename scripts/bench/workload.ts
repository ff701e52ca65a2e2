/**
 * The bench's seeded workload: realistic events (a tenth of them weekly series with a VTIMEZONE,
 * some with attendees and alarms) spread over 2026, and vCards. The same inputs go to every server.
 */

/** Member names as an import names them (after the UID), so both servers answer the same hrefs. */
export const eventName = (i: number) => `bench-${i}@example.com.ics`;
export const cardName = (i: number) => `card-${i}@example.com.vcf`;

/** A small deterministic generator, so every run (and every server) gets the same calendars. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const BERLIN = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `YYYYMMDDTHHMMSS` of a day of 2026 (0–364) and an hour. */
function local(day: number, hour: number, minute = 0): string {
  const d = new Date(Date.UTC(2026, 0, 1 + day, hour, minute));
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00`;
}

const WORDS = "planning review budget design sync standup retro offsite dentist lunch call train board".split(
  " ",
);

/** Event `i` of a calendar, version `rev` (an update changes its summary and sequence). */
export function eventText(i: number, rev = 0, seed = 1): string {
  const rnd = lcg(seed * 7919 + i);
  const day = Math.floor(rnd() * 365);
  const hour = 7 + Math.floor(rnd() * 11);
  const recurring = i % 10 === 0;
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//lambda-dav//bench//EN", "CALSCALE:GREGORIAN"];
  if (recurring) lines.push(...BERLIN);
  lines.push(
    "BEGIN:VEVENT",
    `UID:bench-${i}@example.com`,
    "DTSTAMP:20260101T000000Z",
    `CREATED:20251201T120000Z`,
    `LAST-MODIFIED:2026010${1 + (rev % 9)}T000000Z`,
    `SEQUENCE:${rev}`,
  );
  if (recurring) {
    lines.push(
      `DTSTART;TZID=Europe/Berlin:${local(day % 60, hour)}`,
      `DTEND;TZID=Europe/Berlin:${local(day % 60, hour + 1)}`,
    );
    lines.push(i % 20 === 0 ? "RRULE:FREQ=WEEKLY;BYDAY=MO,WE" : "RRULE:FREQ=WEEKLY;COUNT=40");
  } else {
    lines.push(`DTSTART:${local(day, hour)}Z`, `DTEND:${local(day, hour, 45)}Z`);
  }
  const w = (k: number) => WORDS[Math.floor(rnd() * WORDS.length + k) % WORDS.length];
  lines.push(`SUMMARY:${w(0)} ${w(1)} ${i}${rev ? ` (rev ${rev})` : ""}`);
  lines.push(`LOCATION:Room ${Math.floor(rnd() * 40)}\\, Building ${w(2)}`);
  lines.push(
    `DESCRIPTION:Agenda for the ${w(3)} meeting: ${WORDS.join(", ")}. Notes from the previous ` +
      `session are attached. Bring the ${w(4)} figures.`,
  );
  if (i % 3 === 0) {
    lines.push("ORGANIZER;CN=Bench Owner:mailto:bench@example.com");
    for (let a = 0; a < 3; a++)
      lines.push(
        `ATTENDEE;CN=Person ${a};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:p${a}-${i}@example.com`,
      );
  }
  if (i % 4 === 0) {
    lines.push("BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM");
  }
  lines.push("END:VEVENT", "END:VCALENDAR");
  return fold(lines);
}

/** Content lines folded at 75 octets (RFC 5545 §3.1), CRLF-terminated. */
function fold(lines: string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    let rest = line;
    out.push(rest.slice(0, 75));
    rest = rest.slice(75);
    while (rest.length) {
      out.push(` ${rest.slice(0, 74)}`);
      rest = rest.slice(74);
    }
  }
  return `${out.join("\r\n")}\r\n`;
}

/** Events 0 … n-1 as one calendar file (for an import), components merged under one VCALENDAR. */
export function calendarFile(from: number, to: number, seed = 1): string {
  const head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//lambda-dav//bench//EN", ...BERLIN];
  const body: string[] = [];
  for (let i = from; i < to; i++) {
    const text = eventText(i, 0, seed);
    const start = text.indexOf("BEGIN:VEVENT");
    body.push(text.slice(start, text.indexOf("END:VCALENDAR")));
  }
  return `${head.join("\r\n")}\r\n${body.join("")}END:VCALENDAR\r\n`;
}

export function vcardText(i: number, rev = 0): string {
  const rnd = lcg(104729 + i);
  const first = WORDS[Math.floor(rnd() * WORDS.length)];
  return fold([
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:card-${i}@example.com`,
    `FN:${first} Person${i}`,
    `N:Person${i};${first};;;`,
    `EMAIL;TYPE=INTERNET,WORK:person${i}@example.com`,
    `TEL;TYPE=CELL:+49 170 ${pad(i, 7)}`,
    `ADR;TYPE=WORK:;;Street ${i % 200};Berlin;;10${pad(i % 1000, 3)};Germany`,
    `ORG:Company ${i % 50}`,
    `NOTE:Met at the ${first} workshop${rev ? ` (rev ${rev})` : ""}.`,
    "END:VCARD",
  ]);
}

/** The one-week window the query operation asks for (with expanded recurrences). */
export const WEEK = { start: "20260601T000000Z", end: "20260608T000000Z" };

/** A 3 KB calendar-timezone value (a VTIMEZONE with a long history, as Apple clients send). */
export function bigTimezone(): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//lambda-dav//bench//EN",
    "BEGIN:VTIMEZONE",
    "TZID:Europe/Berlin",
  ];
  for (let y = 1916; lines.join("\r\n").length < 3000; y++) {
    lines.push("BEGIN:DAYLIGHT", "TZOFFSETFROM:+0100", "TZOFFSETTO:+0200", "TZNAME:CEST");
    lines.push(`DTSTART:${y}0430T230000`, `RDATE:${y}0430T230000`, "END:DAYLIGHT");
  }
  lines.push("END:VTIMEZONE", "END:VCALENDAR");
  return `${lines.join("\r\n")}\r\n`;
}

const PROSE = (
  "the a of to and in for on with at by from we will please join meeting agenda notes project " +
  "quarter team review update call dial link room floor building bring laptop slides budget " +
  "customer release plan draft decision action item owner follow next week monday friday " +
  "morning afternoon minutes discuss feedback question answer topic summary report"
).split(" ");

/** `length` characters of text: words and numbers at random, compressing about as mail-like prose does. */
export function prose(seed: number, length: number): string {
  const rnd = lcg(seed * 104_729 + 17);
  let out = "";
  while (out.length < length) {
    const r = rnd();
    out +=
      (r < 0.08 ? String(Math.floor(rnd() * 10_000)) : PROSE[Math.floor(rnd() * PROSE.length)]) +
      (r > 0.93 ? ". " : " ");
  }
  return out.slice(0, length);
}
