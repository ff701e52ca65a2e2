"""
Drive lambda-dav with the real python-caldav library (Debian's python3-caldav, v0.11).

Usage: python3 python_caldav.py URL USER PASSWORD

Every step runs even when an earlier one failed; each one is reported as
{"ok": true, ...observations} or {"ok": false, "error": "..."}. The JSON document on stdout is
asserted by test/e2e/python-caldav.test.ts; this script only observes, it does not judge.
"""
import json
import re
import sys
import traceback
from datetime import datetime, timezone

import caldav
from caldav.lib import error
from caldav.objects import CalendarObjectResource

URL, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]

SINGLE_UID = "e2e-single@lambda-dav.test"
WEEKLY_UID = "e2e-weekly@lambda-dav.test"


def vcalendar(uid, summary, dtstart, dtend, extra=""):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//lambda-dav//python-caldav e2e//EN",
        "BEGIN:VEVENT",
        "UID:" + uid,
        "DTSTAMP:20300101T000000Z",
        "DTSTART:" + dtstart,
        "DTEND:" + dtend,
        "SUMMARY:" + summary,
    ]
    if extra:
        lines.append(extra)
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


SINGLE = vcalendar(SINGLE_UID, "Single", "20300107T100000Z", "20300107T110000Z")
WEEKLY = vcalendar(
    WEEKLY_UID, "Weekly", "20300108T090000Z", "20300108T093000Z", "RRULE:FREQ=WEEKLY;COUNT=10"
)

# Count the times python-caldav had to expand a recurrence itself: it does that only when the
# server's answer to an <C:expand> query still carries RRULE/RDATE/EXDATE (i.e. did not expand).
client_side_expansions = []
_expand_rrule = CalendarObjectResource.expand_rrule


def _counting_expand_rrule(self, start, end):
    client_side_expansions.append(str(self.url))
    return _expand_rrule(self, start, end)


CalendarObjectResource.expand_rrule = _counting_expand_rrule

report = {"steps": {}}
state = {}


def step(name):
    def run(fn):
        try:
            result = fn() or {}
            report["steps"][name] = {"ok": True, **result}
        except Exception as exc:  # noqa: BLE001 - every failure is data for the Node test
            report["steps"][name] = {
                "ok": False,
                "error": "%s: %s" % (type(exc).__name__, str(exc)[:2000]),
                "trace": traceback.format_exc()[-3000:],
            }
        return fn

    return run


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def describe(objects):
    """url, uid, summary and whether the data still holds a recurrence rule, for each object."""
    out = []
    for o in objects:
        data = o.data or ""
        out.append(
            {
                "url": str(o.url),
                "uid": str(o.icalendar_component.get("UID", "")) if data else None,
                "summary": str(o.icalendar_component.get("SUMMARY", "")) if data else None,
                "recurrence_ids": [line for line in data.splitlines() if line.startswith("RECURRENCE-ID")],
                "has_rrule": "RRULE:" in data,
            }
        )
    return sorted(out, key=lambda x: x["url"])


@step("connect")
def _():
    state["client"] = caldav.DAVClient(URL, username=USER, password=PASSWORD)
    state["principal"] = state["client"].principal()
    return {"principal": str(state["principal"].url)}


@step("well_known_discovery")
def _():
    # requests re-sends a PROPFIND without its body after a 301, so the server sees allprop on /.
    client = caldav.DAVClient(URL + ".well-known/caldav", username=USER, password=PASSWORD)
    principal = client.principal()
    return {
        "principal": str(principal.url),
        "calendars": [str(c.url) for c in principal.calendars()],
    }


@step("list_calendars")
def _():
    cals = state["principal"].calendars()
    return {"calendars": [{"url": str(c.url), "name": c.get_display_name()} for c in cals]}


@step("make_calendar")
def _():
    cal = state["principal"].make_calendar(name="E2E")
    state["cal"] = cal
    listed = state["principal"].calendars()
    return {
        "url": str(cal.url),
        "listed": [{"url": str(c.url), "name": c.get_display_name()} for c in listed],
        "components": cal.get_supported_components(),
        "by_name": str(state["principal"].calendar(name="E2E").url),
    }


@step("initial_sync_token")
def _():
    snapshot = state["cal"].objects(load_objects=True)
    state["token0"] = snapshot.sync_token
    return {"token": snapshot.sync_token, "count": len(list(snapshot))}


@step("save_events")
def _():
    cal = state["cal"]
    single = cal.save_event(SINGLE)
    weekly = cal.save_event(WEEKLY)
    state["single_url"] = str(single.url)
    state["weekly_url"] = str(weekly.url)
    return {"single": str(single.url), "weekly": str(weekly.url)}


@step("sync_after_save")
def _():
    changes = state["cal"].objects_by_sync_token(state["token0"], load_objects=True)
    state["snapshot"] = state["cal"].objects(load_objects=True)
    return {
        "token": changes.sync_token,
        "changed": describe(changes),
        "full_token": state["snapshot"].sync_token,
        "full": describe(state["snapshot"]),
    }


@step("date_search_later_week")
def _():
    # The fifth week of the series: only the weekly event occurs there.
    found = state["cal"].date_search(utc(2030, 2, 4), utc(2030, 2, 11))
    return {"found": describe(found), "client_side_expansions": list(client_side_expansions)}


@step("search_later_week_unexpanded")
def _():
    found = state["cal"].search(start=utc(2030, 2, 4), end=utc(2030, 2, 11), event=True)
    return {"found": describe(found)}


@step("search_first_week")
def _():
    found = state["cal"].search(start=utc(2030, 1, 7), end=utc(2030, 1, 14), event=True)
    return {"found": describe(found)}


@step("search_after_series")
def _():
    # COUNT=10 from 2030-01-08 ends on 2030-03-12; nothing occurs in April.
    found = state["cal"].search(start=utc(2030, 4, 1), end=utc(2030, 4, 8), event=True)
    return {"found": describe(found)}


@step("event_by_uid")
def _():
    ev = state["cal"].event_by_uid(SINGLE_UID)
    return {"url": str(ev.url), "summary": str(ev.icalendar_component.get("SUMMARY"))}


@step("edit_event")
def _():
    ev = state["cal"].event_by_url(state["single_url"])
    ev.icalendar_component["SUMMARY"] = "Edited"
    ev.save()
    again = state["cal"].event_by_url(state["single_url"])
    return {"summary": str(again.icalendar_component.get("SUMMARY"))}


@step("delete_event")
def _():
    state["cal"].event_by_url(state["weekly_url"]).delete()
    try:
        state["cal"].event_by_url(state["weekly_url"])
        gone = False
    except error.NotFoundError:
        gone = True
    return {"gone": gone}


@step("sync_after_edit_and_delete")
def _():
    token = state["snapshot"].sync_token
    raw = state["cal"].objects_by_sync_token(token, load_objects=False)
    updated, deleted = state["snapshot"].sync()
    return {
        "token_before": token,
        "reported": sorted(str(o.url) for o in raw),
        "token": state["snapshot"].sync_token,
        "updated": describe(updated),
        "deleted": sorted(str(o.url) for o in deleted),
        "remaining": describe(state["snapshot"]),
    }


@step("sync_with_current_token")
def _():
    unchanged = state["cal"].objects_by_sync_token(state["snapshot"].sync_token)
    return {"reported": sorted(str(o.url) for o in unchanged)}


@step("duplicate_uid_other_url")
def _():
    cal = state["cal"]
    dup_url = cal.url.join("duplicate-of-single.ics")
    dup = caldav.Event(
        state["client"],
        url=dup_url,
        parent=cal,
        data=vcalendar(SINGLE_UID, "Duplicate", "20300110T100000Z", "20300110T110000Z"),
    )
    try:
        dup.save()
        rejected, message = False, None
    except error.PutError as exc:
        rejected, message = True, str(exc)
    # errmsg() in python-caldav formats the answer as "<status> <reason>\n\n<body>".
    status = re.search(r"(\d{3}) ", message or "")
    try:
        cal.event_by_url(dup_url)
        stored = True
    except error.NotFoundError:
        stored = False
    return {
        "rejected": rejected,
        "status": int(status.group(1)) if status else None,
        "message": (message or "")[:1500],
        "stored": stored,
        "url": str(dup_url),
    }


@step("no_overwrite_existing_uid")
def _():
    try:
        state["cal"].save_event(SINGLE, no_overwrite=True)
        return {"refused": False}
    except error.ConsistencyError as exc:
        return {"refused": True, "message": str(exc)}


def vtodo(uid, summary, extra=()):
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//lambda-dav//python-caldav e2e//EN",
        "BEGIN:VTODO",
        "UID:" + uid,
        "DTSTAMP:20300101T000000Z",
        "SUMMARY:" + summary,
        *extra,
        "END:VTODO",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines)


@step("todos")
def _():
    # python-caldav finds pending tasks with three queries: no COMPLETED and STATUS not
    # COMPLETED/CANCELLED (negated text-match), STATUS undefined (is-not-defined), and
    # STATUS:NEEDS-ACTION. A server that gets either filter wrong loses or leaks tasks.
    cal = state["cal"]
    due = "DUE:20300110T120000Z"
    cal.save_todo(vtodo("e2e-todo-open", "Open", [due, "STATUS:NEEDS-ACTION"]))
    cal.save_todo(vtodo("e2e-todo-nostatus", "No status", [due]))
    cal.save_todo(vtodo("e2e-todo-done", "Done", [due, "STATUS:COMPLETED", "COMPLETED:20300102T000000Z"]))
    cal.save_todo(vtodo("e2e-todo-cancelled", "Cancelled", [due, "STATUS:CANCELLED"]))
    pending = cal.todos()
    everything = cal.todos(include_completed=True)
    events = cal.events()
    return {
        "pending": sorted(str(t.icalendar_component["UID"]) for t in pending),
        "all": sorted(str(t.icalendar_component["UID"]) for t in everything),
        "events": sorted(str(e.icalendar_component["UID"]) for e in events),
    }


@step("undated_components")
def _():
    # RFC 5545 lets a VTODO and a VJOURNAL go without DTSTART/DUE (task apps create such "someday"
    # tasks all the time); RFC 4791 §9.9 says they overlap every time range. python-caldav turns
    # any 403 into a bare AuthorizationError, so PUT through its requests session (with the auth
    # it negotiated) to report the server's status and body.
    cal = state["cal"]
    client = state["client"]
    bodies = {
        "todo-undated": vtodo("e2e-todo-undated", "Someday"),
        "todo-created-only": vtodo("e2e-todo-created", "Created only", ["CREATED:20300101T000000Z"]),
        "journal-undated": vtodo("e2e-journal-undated", "Note").replace("VTODO", "VJOURNAL"),
    }
    out = {}
    for name, body in bodies.items():
        r = client.session.request(
            "PUT",
            str(cal.url.join(name + ".ics")),
            data=body.encode("utf-8"),
            headers={"Content-Type": 'text/calendar; charset="utf-8"'},
            auth=client.auth,
            timeout=30,
        )
        out[name] = {"status": r.status_code, "body": r.text[:1000]}
    pending = cal.todos()
    out["pending_after"] = sorted(str(t.icalendar_component["UID"]) for t in pending)
    pending_after = out.pop("pending_after")
    return {"puts": out, "pending_after": pending_after}


@step("delete_calendar")
def _():
    url = str(state["cal"].url)
    state["cal"].delete()
    return {"listed": [str(c.url) for c in state["principal"].calendars()], "url": url}


# CardDAV. python-caldav 0.11 has no address-book objects, so these steps use its DAVClient's
# generic calls (propfind, report, put, request) with hand-written RFC 6352 bodies, and report
# what the server answered.
NS = {"D": "DAV:", "C": "urn:ietf:params:xml:ns:carddav"}
CARD_ADA = "\r\n".join(
    [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "UID:py-ada@lambda-dav.test",
        "FN:Ada Lovelace",
        "N:Lovelace;Ada;;;",
        "EMAIL;TYPE=INTERNET:ada@example.org",
        "TEL;TYPE=HOME,VOICE:+44 20 7946 0000",
        "END:VCARD",
        "",
    ]
)
CARD_GRACE = "\r\n".join(
    [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "UID:py-grace@lambda-dav.test",
        "FN:Grace Hopper",
        "N:Hopper;Grace;;;",
        "EMAIL;TYPE=work:grace@navy.example.mil",
        "END:VCARD",
        "",
    ]
)


def xml_body(inner):
    return '<?xml version="1.0" encoding="utf-8"?>' + inner


def prop_value(prop):
    """A property as the test reads it: its hrefs, else its child elements' names, else its text."""
    hrefs = [h.text.strip() for h in prop.findall("D:href", NS)]
    if hrefs:
        return hrefs
    children = [child.tag for child in prop]
    return children if children else (prop.text or "")


def responses(dav_response):
    """absolute URL → {status, error, props: {Clark name: value}} for each DAV:response of a 207."""
    out = {}
    if dav_response.tree is None:
        return out
    for r in dav_response.tree.findall("D:response", NS):
        props = {}
        for ps in r.findall("D:propstat", NS):
            if re.match(r"HTTP/\S+ 2\d\d", (ps.findtext("D:status", namespaces=NS) or "").strip()):
                props.update((p.tag, prop_value(p)) for p in ps.findall("D:prop/*", NS))
        out[absolute(r.findtext("D:href", namespaces=NS).strip())] = {
            "status": r.findtext("D:status", namespaces=NS),
            "error": [e.tag for e in r.findall("D:error/*", NS)],
            "props": props,
        }
    return out


def absolute(href):
    return str(state["client"].url.join(href))


def to_text(raw):
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def query_body(filter_xml, prop_xml="<D:getetag/>", extra=""):
    return xml_body(
        '<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
        "<D:prop>" + prop_xml + "</D:prop>"
        "<C:filter>" + filter_xml + "</C:filter>" + extra + "</C:addressbook-query>"
    )


@step("addressbook_home")
def _():
    client = state["client"]
    principal = str(state["principal"].url)
    found = client.propfind(
        principal,
        xml_body(
            '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
            "<D:prop><C:addressbook-home-set/></D:prop></D:propfind>"
        ),
        depth=0,
    )
    homes = responses(found).get(principal, {}).get("props", {})
    home_hrefs = homes.get("{urn:ietf:params:xml:ns:carddav}addressbook-home-set", [])
    home = absolute(home_hrefs[0])
    listing = client.propfind(
        home,
        xml_body(
            '<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:displayname/></D:prop></D:propfind>'
        ),
        depth=1,
    )
    books = []
    for href, entry in responses(listing).items():
        types = entry["props"].get("{DAV:}resourcetype", [])
        if "{urn:ietf:params:xml:ns:carddav}addressbook" in types:
            books.append({"url": href, "name": entry["props"].get("{DAV:}displayname")})
    state["book"] = next(b["url"] for b in books if b["url"].endswith("/default/"))
    return {
        "propfind_status": found.status,
        "home_set": [absolute(h) for h in home_hrefs],
        "books": sorted(books, key=lambda b: b["url"]),
    }


@step("put_vcards")
def _():
    client = state["client"]
    out = {}
    for name, body in (("py-ada.vcf", CARD_ADA), ("py-grace.vcf", CARD_GRACE)):
        url = state["book"] + name
        r = client.put(
            url,
            body,
            {"Content-Type": "text/vcard; charset=utf-8", "If-None-Match": "*"},
        )
        out[name] = {"url": url, "status": r.status, "etag": r.headers.get("ETag")}
    state["cards"] = out
    got = client.request(out["py-ada.vcf"]["url"], "GET")
    # DAVResponse rewrites CRLF to LF in .raw; the test compares with that in mind.
    return {"puts": out, "ada_get_status": got.status, "ada_get_body": to_text(got.raw)}


@step("addressbook_query_text_match")
def _():
    client = state["client"]
    # "hopper" in lower case: the default collation i;unicode-casemap ignores case (RFC 6352 §8.3).
    r = client.report(
        state["book"],
        query_body(
            '<C:prop-filter name="FN"><C:text-match match-type="contains">hopper</C:text-match>'
            "</C:prop-filter>",
            "<D:getetag/><C:address-data/>",
        ),
        depth=1,
    )
    found = responses(r)
    # A param-filter: the TEL whose TYPE (one of HOME,VOICE) equals voice is Ada's.
    by_param = client.report(
        state["book"],
        query_body(
            '<C:prop-filter name="TEL"><C:param-filter name="TYPE">'
            '<C:text-match match-type="equals">voice</C:text-match></C:param-filter></C:prop-filter>'
        ),
        depth=1,
    )
    return {
        "status": r.status,
        "found": {
            h: {
                "etag": e["props"].get("{DAV:}getetag"),
                "data": e["props"].get("{urn:ietf:params:xml:ns:carddav}address-data"),
            }
            for h, e in found.items()
        },
        "by_param": sorted(responses(by_param)),
    }


@step("address_data_version_4")
def _():
    client = state["client"]
    ada = state["cards"]["py-ada.vcf"]
    r = client.report(
        state["book"],
        query_body(
            '<C:prop-filter name="UID"><C:text-match match-type="equals">py-ada@lambda-dav.test'
            "</C:text-match></C:prop-filter>",
            '<D:getetag/><C:address-data content-type="text/vcard" version="4.0"/>',
        ),
        depth=1,
    )
    found = responses(r)
    entry = found.get(ada["url"], {}).get("props", {})
    accept = client.request(ada["url"], "GET", headers={"Accept": "text/vcard; version=4.0"})
    return {
        "status": r.status,
        "hrefs": sorted(found),
        "stored_etag": ada["etag"],
        "etag": entry.get("{DAV:}getetag"),
        "data": entry.get("{urn:ietf:params:xml:ns:carddav}address-data"),
        "get_status": accept.status,
        "get_etag": accept.headers.get("ETag"),
        "get_content_type": accept.headers.get("Content-Type"),
        "get_body": to_text(accept.raw),
    }


@step("addressbook_query_limit")
def _():
    # Both cards have an EMAIL; CARDDAV:limit of 1 → one card, and 507 for the request-URI (§8.6.1).
    r = state["client"].report(
        state["book"],
        query_body(
            '<C:prop-filter name="EMAIL"/>',
            extra="<C:limit><C:nresults>1</C:nresults></C:limit>",
        ),
        depth=1,
    )
    return {
        "status": r.status,
        "responses": {
            h: {"status": e["status"], "error": e["error"], "has_etag": "{DAV:}getetag" in e["props"]}
            for h, e in responses(r).items()
        },
    }


@step("delete_vcards")
def _():
    client = state["client"]
    out = {}
    for name, card in state["cards"].items():
        r = client.delete(card["url"])
        out[name] = {"status": r.status, "get_after": client.request(card["url"], "GET").status}
    left = client.report(state["book"], query_body('<C:prop-filter name="UID"/>'), depth=1)
    return {"deletes": out, "left": sorted(responses(left))}


print(json.dumps(report, indent=1))
