/**
 * The deployed path of a task against DynamoDB Local: the DAV handler hands a started import to
 * the worker (an asynchronous invocation, captured here), and the worker runs it in turns, stopping
 * at a checkpoint when its invocation's time runs short and invoking itself to resume.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createWorker } from "../../functions/dav.js";
import { startTestServer } from "../helpers/server.js";

describe("the task worker (functions/dav.ts worker)", async () => {
  const invoked: Array<{ name: string; payload: { owner: string; id: string } }> = [];
  const server = await startTestServer();
  // The handler's context dispatches tasks instead of running them: as deployed with DAV_TASK_WORKER.
  server.ctx.dispatchTask = async (task) => void invoked.push({ name: "worker", payload: task });
  const worker = createWorker(
    () => server.ctx,
    async (name, payload) => void invoked.push({ name, payload }),
  );

  it("a POST only dispatches the task; each turn runs until its time is nearly up and invokes the worker again; the last turn ends the task done", async () => {
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/deployed/")).status, 201);
    const events = Array.from({ length: 85 }, (_, i) =>
      [
        "BEGIN:VEVENT",
        `UID:w-${i}`,
        "DTSTAMP:20260101T000000Z",
        "DTSTART:20260301T100000Z",
        "DURATION:PT1H",
        "END:VEVENT",
      ].join("\r\n"),
    ).join("\r\n");
    const res = await server.request("POST", "/calendars/alice/deployed/", {
      headers: { "content-type": "text/calendar" },
      body: `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n${events}\r\nEND:VCALENDAR\r\n`,
    });
    assert.equal(res.status, 202);
    const location = res.headers.get("location")!;
    assert.equal(invoked.length, 1);
    const ref = invoked[0].payload;
    assert.equal(`/tasks/${ref.id}`, location);
    // Nothing ran in the request: the task waits for its worker.
    assert.equal(JSON.parse((await server.request("GET", location)).body).created, 0);
    // Each turn has time for two chunks of twenty objects: the second time it asks, time is short.
    let turns = 0;
    let outcome = "paused";
    while (outcome === "paused") {
      let asked = 0;
      const context = {
        functionName: "stack-task-worker",
        getRemainingTimeInMillis: () => (asked++ ? 1000 : 600_000),
      };
      outcome = (await worker(invoked.at(-1)!.payload, context)).outcome;
      turns++;
      assert.ok(turns < 10, "the task ends");
    }
    assert.equal(turns, 3, "85 objects, forty a turn");
    assert.deepEqual(
      invoked.slice(1).map((i) => i.name),
      ["stack-task-worker", "stack-task-worker"],
    );
    const task = JSON.parse((await server.request("GET", location)).body);
    assert.deepEqual([task.state, task.created, task.total], ["done", 85, 85]);
    // A turn for a task that ended does nothing.
    assert.equal(
      (await worker(ref, { functionName: "x", getRemainingTimeInMillis: () => 600_000 })).outcome,
      "ended",
    );
  });
});

describe("review: the worker's failures", async () => {
  const server = await startTestServer({ taskLeaseMs: 500 });

  it("a worker that cannot be invoked ends the task failed and answers 503 (the collection is free again)", async () => {
    assert.equal((await server.request("MKCALENDAR", "/calendars/alice/nodispatch/")).status, 201);
    server.ctx.dispatchTask = async () => {
      throw new Error("throttled");
    };
    const body =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:nd-1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260301T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    const refused = await server.request("POST", "/calendars/alice/nodispatch/", {
      headers: { "content-type": "text/calendar" },
      body,
    });
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body).code, "WorkerUnavailable");
    const invoked: string[] = [];
    server.ctx.dispatchTask = async (task) => void invoked.push(task.id);
    const accepted = await server.request("POST", "/calendars/alice/nodispatch/", {
      headers: { "content-type": "text/calendar" },
      body,
    });
    assert.equal(accepted.status, 202, accepted.body);
    // Nobody runs it: once its lease is out, reading it records it failed.
    await new Promise((r) => setTimeout(r, 700));
    const read = JSON.parse((await server.request("GET", accepted.headers.get("location")!)).body);
    assert.equal(read.state, "failed");
    assert.match(read.errors.at(-1).reason, /lease ran out/);
    delete server.ctx.dispatchTask;
  });
});
