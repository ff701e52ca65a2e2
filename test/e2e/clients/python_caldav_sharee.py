"""
A sharee's view with the real python-caldav library (Debian's python3-caldav, v0.11).

Usage: python3 python_caldav_sharee.py URL USER PASSWORD [TOKEN]

As USER: discover the calendars of the calendar home, find the one shared with USER (its
resourcetype has CS:shared), list and sync it; without TOKEN also save an event into it; with
TOKEN sync from that token. Prints one JSON document of observations for
test/e2e/python-caldav-sharee.test.ts; it does not judge.
"""
import json
import sys
import traceback

import caldav

URL, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = sys.argv[4] if len(sys.argv) > 4 else None

EVENT = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//lambda-dav//python-caldav sharee e2e//EN",
        "BEGIN:VEVENT",
        "UID:from-sharee@lambda-dav.test",
        "DTSTAMP:20300101T000000Z",
        "DTSTART:20300110T100000Z",
        "DTEND:20300110T110000Z",
        "SUMMARY:Added by the sharee",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)

out = {}
try:
    client = caldav.DAVClient(url=URL, username=USER, password=PASSWORD)
    principal = client.principal()
    calendars = principal.calendars()
    out["calendars"] = sorted(str(c.url) for c in calendars)
    shared = [c for c in calendars if "/calendars/%s/alice-" % USER in str(c.url)]
    cal = shared[0]
    out["shared"] = str(cal.url)
    out["name"] = cal.get_properties([caldav.dav.DisplayName()]).get("{DAV:}displayname")
    if TOKEN is None:
        snapshot = cal.objects_by_sync_token(load_objects=True)
        out["initial"] = sorted(str(o.url) for o in snapshot)
        out["summaries"] = sorted(o.vobject_instance.vevent.summary.value for o in snapshot)
        cal.save_event(EVENT)
        changes = cal.objects_by_sync_token(snapshot.sync_token, load_objects=False)
        out["after_save"] = sorted(str(o.url) for o in changes)
        out["token"] = changes.sync_token
    else:
        changes = cal.objects_by_sync_token(TOKEN, load_objects=True)
        out["changed"] = sorted(str(o.url) for o in changes if o.data)
        out["summaries"] = sorted(o.vobject_instance.vevent.summary.value for o in changes if o.data)
        out["events"] = sorted(str(e.url) for e in cal.events())
    out["ok"] = True
except Exception as exc:  # noqa: BLE001 - the failure is data for the Node test
    out["ok"] = False
    out["error"] = "%s: %s" % (type(exc).__name__, str(exc)[:2000])
    out["trace"] = traceback.format_exc()[-3000:]
print(json.dumps(out))
