import pino from "pino";
import { createWebhookDispatcher } from "../../../src/webhooks/dispatcher";

describe("webhook dispatcher", () => {
  const dispatcherWithCalls = () => {
    const dispatcher = createWebhookDispatcher(pino({ level: "silent" }));
    const calls: string[] = [];
    dispatcher.on("installation", async (c) => void calls.push(`installation:${c.id}`));
    dispatcher.on("installation.created", async (c) => void calls.push(`installation.created:${c.payload.installation.id}`));
    dispatcher.on(["installation.deleted", "installation.suspend"], async (c) => void calls.push(`${c.name}.${c.payload.action}`));
    return { dispatcher, calls };
  };

  test("a delivery runs the handlers of its event and of its event.action, with its id and payload", async () => {
    const { dispatcher, calls } = dispatcherWithCalls();
    await dispatcher.receive({ id: "d-1", name: "installation", payload: { action: "created", installation: { id: 7 } } });
    await dispatcher.receive({ id: "d-2", name: "installation", payload: { action: "suspend" } });
    expect(calls).toEqual(["installation:d-1", "installation.created:7", "installation:d-2", "installation.suspend"]);
  });

  test("a delivery of an event nobody handles is received and does nothing", async () => {
    const { dispatcher, calls } = dispatcherWithCalls();
    await expect(dispatcher.receive({ id: "d-1", name: "star", payload: { action: "created" } })).resolves.toBeUndefined();
    expect(calls).toEqual([]);
  });

  test("a failing handler fails the delivery after every handler has run", async () => {
    const { dispatcher, calls } = dispatcherWithCalls();
    dispatcher.on("installation.created", async () => {
      throw new Error("database is down");
    });
    await expect(dispatcher.receive({ id: "d-1", name: "installation", payload: { action: "created", installation: { id: 7 } } })).rejects.toThrow(
      "database is down",
    );
    expect(calls).toEqual(["installation:d-1", "installation.created:7"]);
  });
});
