/**
 * The inbound iMIP entry point (`index.imip`): SES receiving publishes each received message to an
 * SNS topic (Base64 content); this hands the raw MIME to the core, which applies it only when it
 * answers an invitation that was sent. Mail SES marks as spam or a virus is dropped unread, and so is
 * mail whose From domain DMARC does not vouch for (`dmarcVerdict` PASS: SPF or DKIM aligned with the
 * From header), since anyone can write an attendee's address into From; DAV_IMIP_REQUIRE_DMARC=0
 * accepts mail from domains that publish no DMARC policy (GRAY) too. One JSON log line per
 * message, without addresses or contents.
 */
import type { SNSEvent } from "aws-lambda";
import { receiveMail } from "../lib/scheduling/inbound.js";
import type { DavContext } from "../lib/webdav/context.js";

/** The parts of an SES receipt notification this reads (docs.aws.amazon.com/ses, receiving-email-notifications-contents). */
interface SesNotification {
  content?: string;
  receipt?: Record<string, { status?: string } | undefined>;
}

const FAIL = (v: { status?: string } | undefined) => v?.status === "FAIL";
const vouched = (v: { status?: string } | undefined) =>
  v?.status === "PASS" || (process.env.DAV_IMIP_REQUIRE_DMARC === "0" && v?.status === "GRAY");

export function createImipHandler(getContext: () => DavContext) {
  return async (event: SNSEvent): Promise<{ applied: number; dropped: number }> => {
    let applied = 0;
    let dropped = 0;
    for (const record of event.Records) {
      const note = JSON.parse(record.Sns.Message) as SesNotification;
      const r = note.receipt ?? {};
      let outcome: string;
      if (!note.content) outcome = "no content (set the SNS action's encoding to Base64)";
      else if (FAIL(r.spamVerdict) || FAIL(r.virusVerdict)) outcome = "refused: spam or virus";
      else if (!vouched(r.dmarcVerdict)) outcome = "refused: DMARC does not vouch for the sender";
      else {
        const result = await receiveMail(getContext(), Buffer.from(note.content, "base64"));
        outcome = result.applied ? "applied" : result.reason;
      }
      if (outcome === "applied") applied++;
      else dropped++;
      console.log(JSON.stringify({ msg: "inbound iMIP", outcome }));
    }
    return { applied, dropped };
  };
}
