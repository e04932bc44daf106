import { AddressInfo, connect, createServer, Server, Socket } from "node:net";

export interface FreezableProxy {
  /** The target's URL with the proxy's host and port. */
  url: string;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of Postgres that can stop passing bytes either way while keeping every
 * connection open: what a client sees of a server that hangs or of a network partition.
 */
export async function freezableProxy(target: URL): Promise<FreezableProxy> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    // While frozen, what either side sends is dropped: nothing comes back.
    client.on("data", (chunk) => void (frozen || upstream.write(chunk)));
    upstream.on("data", (chunk) => void (frozen || client.write(chunk)));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    freeze: () => void (frozen = true),
    thaw: () => void (frozen = false),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
